"""What follows the ack for calls: make the meeting, post or update the call in its
channel, tell the leader; cancel and retry; the calls of an accepted year.

The meeting of a call is made once whatever happens meanwhile: one worker claims it
(for longer than the longest create), stores the meeting id before anything else, and
deletes the meeting again if the call was cancelled while Zoom was making it, or moves it
if the call was rescheduled meanwhile. Conferencing failures arrive as
`ConferencingError`, already in plain words.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.blocks import calls as blocks
from bot.blocks import community as community_blocks
from bot.blocks import year_plan as year_blocks
from bot.deps import Deps
from bot.flows import registrations
from bot.services import call_meetings as meetings
from bot.services import calls as rules
from bot.services import hosts, year_plan
from bot.slack_client import post_message, tell
from bot.text import escape, link
from integrations.conferencing import ConferencingError, HostOutForTheDay, MeetingRequest
from storage.db import session_scope
from storage.models import Call, Community, MeetingState

log = logging.getLogger(__name__)


def calendar_url(deps: Deps, community: Community) -> str | None:
    base = deps.settings.public_url
    return f"{base}/calendar/{community.calendar_token}.ics" if base else None


def call_calendar_url(deps: Deps, call: Call, own_token: str | None = None) -> str | None:
    """The call's .ics: the person's own (with their join link) when `own_token` names
    their registration, else the call's (with the shared link)."""
    base = deps.settings.public_url
    if not base:
        return None
    if own_token:
        return f"{base}/calendar/mine/{own_token}.ics"
    return f"{base}/calendar/call/{call.uid}.ics"


def meeting_request(call: Call, community: Community) -> MeetingRequest:
    return MeetingRequest(
        host=call.zoom_host,
        topic=f"{community.name}: {call.topic}",
        start=call.start_at,
        duration_minutes=call.duration_minutes,
        timezone=call.timezone,
        agenda=call.agenda,
        marker=rules.marker(call),
    )


def _load(deps: Deps, call_id: int) -> tuple[Call, Community]:
    with session_scope(deps.engine) as session:
        call = session.get(Call, call_id)
        return call, session.get(Community, call.community_id)


# ---- the meeting --------------------------------------------------------------------------
class Later(str):
    """Not a failure: the meeting will be made after 00:00 UTC (the hosts' daily limit);
    the text says when, in words a leader reads."""


def _later_text(deps: Deps, until: datetime, zone: str) -> Later:
    local = until.astimezone(ZoneInfo(zone))
    return Later(
        f"Zoom lets a host make or change 100 meetings a day, and copbot's "
        f"{'host has' if len(deps.conferencing.hosts) == 1 else 'free hosts have'} had "
        f"theirs today. The meeting will be made after 00:00 UTC ({local:%a %b %-d, %H:%M} "
        f"{zone}) and its link posted then"
    )


def _host_for(deps: Deps, session: Session, call: Call, now: datetime) -> str | None | Later:
    """The host whose request for `call` is counted now: its own if it has creates left
    today, else another host free at its time that has; None when every host is busy at
    its time (nothing is booked), a `Later` when the free ones are out for the day."""
    pool = deps.conferencing.hosts
    if call.zoom_host not in pool and hosts.book(session, call, pool, now) is None:
        return None
    if hosts.take_request(session, call.zoom_host, now):
        return call.zoom_host
    counts = hosts.requests_today(session, pool, now)
    fresh = [h for h in pool if counts[h] < hosts.DAILY_LIMIT and h != call.zoom_host]
    moved = bool(fresh) and hosts.book(session, call, fresh, now) is not None
    if moved and hosts.take_request(session, call.zoom_host, now):
        return call.zoom_host
    return _later_text(deps, hosts.next_utc_midnight(now), call.timezone)


def ensure_meeting(deps: Deps, call_id: int, now: datetime | None = None) -> str | None:
    """Make the call's meeting unless it has one, on the call's Zoom host (or another
    free one with creates left today); the error in plain words, a `Later` when the
    meeting waits for 00:00 UTC, or None. `now` is the scheduler's (default: the clock)."""
    timeout = meetings.claim_timeout(deps.conferencing.longest_create_seconds)
    now = now or deps.clock.now()
    with session_scope(deps.engine) as session:
        current = session.get(Call, call_id)
        tried_before = current is not None and current.meeting_claimed_at is not None
        if not meetings.claim_meeting(session, call_id, now, timeout=timeout):
            return None  # made already, not wanted, waiting for 00:00 UTC, or being made
        call = session.get(Call, call_id, populate_existing=True)
        request = meeting_request(call, session.get(Community, call.community_id))
        registration = registrations.enabled(deps)
        request = replace(request, look_first=tried_before, registration=registration)
        sequence = call.sequence
    for _ in range(len(deps.conferencing.hosts) + 1):
        with session_scope(deps.engine) as session:
            call = session.get(Call, call_id)
            host = _host_for(deps, session, call, now)
            if host is None:
                free = hosts.free_times(
                    session,
                    deps.conferencing.hosts,
                    call.start_at,
                    call.duration_minutes,
                    call.timezone,
                    now,
                    excluding=call.id,
                )
                busy = hosts.busy_message(
                    deps.conferencing.hosts, free, call.timezone, call.duration_minutes
                )
                meetings.meeting_failed(session, call_id, busy)
                return busy + " Reschedule the call to one of them."
            if isinstance(host, Later):
                meetings.meeting_deferred(session, call_id, hosts.next_utc_midnight(now), host)
                return host
        try:
            info = deps.conferencing.create(replace(request, host=host))
        except HostOutForTheDay:
            # Zoom counted more than copbot did (other apps use the host too)
            with session_scope(deps.engine) as session:
                hosts.out_for_the_day(session, host, now)
            continue
        except ConferencingError as e:
            log.warning("meeting for call %s: %s", call_id, e)
            with session_scope(deps.engine) as session:
                meetings.meeting_failed(session, call_id, str(e))
            return str(e)
        except Exception as e:  # noqa: BLE001 - the call must not stay claimed
            with session_scope(deps.engine) as session:
                meetings.meeting_failed(session, call_id, "an unexpected error")
            log.exception("meeting for call %s", call_id)
            return f"an unexpected error ({type(e).__name__})"
        break
    else:  # every host said it is out for the day
        later = _later_text(deps, hosts.next_utc_midnight(now), request.timezone)
        with session_scope(deps.engine) as session:
            meetings.meeting_deferred(session, call_id, hosts.next_utc_midnight(now), later)
        return later
    # the meeting id is stored before anything else is attempted
    with session_scope(deps.engine) as session:
        stored = meetings.meeting_made(
            session, call_id, info.meeting_id, info.join_url, info.passcode, registration
        )
        call = session.get(Call, call_id)
        holder = call.meeting_id
    if not stored:
        if holder != info.meeting_id:  # cancelled meanwhile: no orphan meeting in Zoom
            _delete_meeting(deps, call_id, info.meeting_id)
        return None
    if call.sequence != sequence:  # rescheduled while Zoom was making it: move it too
        call, community = _load(deps, call_id)
        try:
            deps.conferencing.update(info.meeting_id, meeting_request(call, community))
        except ConferencingError as e:
            log.warning("moving the meeting of call %s: %s", call_id, e)
            return str(e)
    return None


def _delete_meeting(deps: Deps, call_id: int, meeting_id: int) -> str | None:
    try:
        deps.conferencing.delete(meeting_id)
    except ConferencingError as e:
        log.warning("deleting meeting %s of call %s: %s", meeting_id, call_id, e)
        return str(e)
    return None


# ---- the channel ------------------------------------------------------------------------
def show_call(client: WebClient, deps: Deps, call_id: int) -> str | None:
    """Post the call in its community's channel, or update the message posted before.
    Returns Slack's error code on failure, and logs it."""
    call, community = _load(deps, call_id)
    payload = blocks.call_message(
        call,
        community,
        conferencing=deps.conferencing.name,
        calendar_url=call_calendar_url(deps, call),
    )
    try:
        if call.message_ts:
            client.chat_update(channel=call.message_channel, ts=call.message_ts, **payload)
            return None
        posted = client.chat_postMessage(channel=community.slack_channel_id, **payload)
    except SlackApiError as e:
        error = e.response.get("error") or "unknown_error"
        log.warning("showing call %s in %s failed: %s", call_id, community.slack_channel_id, error)
        return error
    with session_scope(deps.engine) as session:
        call = session.get(Call, call_id)
        call.message_channel = posted["channel"]
        call.message_ts = posted["ts"]
        session.add(call)
    return None


def _thread_note(client: WebClient, call: Call, text: str) -> None:
    try:
        client.chat_postMessage(
            channel=call.message_channel,
            thread_ts=call.message_ts,
            reply_broadcast=True,
            text=text,
            blocks=[community_blocks.section(text)],
        )
    except SlackApiError as e:
        log.warning(
            "could not tell the channel about call %s: %s", call.id, e.response.get("error")
        )


def _not_posted(community: Community, error: str) -> str:
    return (
        f"I couldn't post it in <#{community.slack_channel_id}> ({escape(error)}); invite me "
        "with `/invite @copbot`."
    )


def registration_note(done: registrations.Registered, conferencing: str) -> str:
    """What the leader should know of the registrations just made."""
    parts = []
    if done.registered:
        n = len(done.registered)
        parts.append(
            f"Registered {n} {'person' if n == 1 else 'people'} for the {conferencing} meeting: "
            "each gets a join link of their own from the Join button."
        )
    if done.no_email:
        names = ", ".join(f"<@{u}>" for u in done.no_email[:20])
        more = f" and {len(done.no_email) - 20} more" if len(done.no_email) > 20 else ""
        parts.append(
            f"Slack gave no email for {names}{more}: they cannot be registered, and the Join "
            "button tells them why."
        )
    if done.problem:
        parts.append(
            f"Registering people failed ({escape(done.problem)}); the Join button registers "
            "each person when they click it."
        )
    return " ".join(parts)


# ---- after a form -------------------------------------------------------------------------
def after_schedule(client: WebClient, deps: Deps, call_id: int, user_id: str) -> None:
    problem = ensure_meeting(deps, call_id) if deps.conferencing.configured else None
    slack_error = show_call(client, deps, call_id)
    registered = registrations.register_call(deps, client, call_id)
    call, community = _load(deps, call_id)
    topic = escape(call.topic)
    notes = []
    if isinstance(problem, Later):
        notes.append(f"The call *{topic}* is saved. {escape(problem)}.")
    elif problem:
        notes.append(
            f"The call *{topic}* is saved, but its {deps.conferencing.name} meeting is not "
            f"made yet: {escape(problem)}. `/cop calls` has a Retry button."
        )
    elif not deps.conferencing.configured:
        notes.append(
            f"The call *{topic}* is scheduled with no video meeting: Zoom is not set up "
            "for copbot (ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET)."
        )
    if slack_error:
        notes.append(_not_posted(community, slack_error))
    if not notes:
        notes.append(f"Scheduled *{topic}* and posted it in <#{community.slack_channel_id}>.")
    notes.append(registration_note(registered, deps.conferencing.name))
    notes = [n for n in notes if n]
    post_message(client, user_id, community_blocks.message_for(" ".join(notes)))


def after_reschedule(
    client: WebClient,
    deps: Deps,
    call_id: int,
    user_id: str,
    moved: bool,
    host_changed: bool = False,
) -> None:
    call, community = _load(deps, call_id)
    problem = None
    if call.meeting_state == MeetingState.READY.value and call.meeting_id:
        problem = _move_meeting(deps, call, community, host_changed)
    elif call.meeting_state == MeetingState.PENDING.value:
        problem = ensure_meeting(deps, call_id)
    slack_error = show_call(client, deps, call_id)
    registrations.register_call(deps, client, call_id)
    call, community = _load(deps, call_id)
    if moved and call.message_ts:
        _thread_note(
            client,
            call,
            ":arrows_counterclockwise: This call moved to "
            f"{blocks.when(call.start_at, call.timezone)}.",
        )
    text = f"Saved the changes to *{escape(call.topic)}*."
    if isinstance(problem, Later):
        text += f" Its {deps.conferencing.name} meeting is made again: {escape(problem)}."
    elif problem:
        text += f" The {deps.conferencing.name} meeting could not be updated: {escape(problem)}."
    if slack_error:
        text += " " + _not_posted(community, slack_error)
    post_message(client, user_id, community_blocks.message_for(text))


def _move_meeting(deps: Deps, call: Call, community: Community, host_changed: bool) -> str | None:
    """Move the meeting to the call's new time: an update on its own host (one of the
    host's creates/updates today); when the call changed host, or its host is out for
    the day, the meeting is deleted and made again (`ensure_meeting`)."""
    now = deps.clock.now()
    if not host_changed:
        with session_scope(deps.engine) as session:
            counted = hosts.take_request(session, call.zoom_host, now)
        if counted:
            try:
                deps.conferencing.update(call.meeting_id, meeting_request(call, community))
                return None
            except HostOutForTheDay:
                with session_scope(deps.engine) as session:
                    hosts.out_for_the_day(session, call.zoom_host, now)
            except ConferencingError as e:
                return str(e)
    with session_scope(deps.engine) as session:
        dropped = meetings.meeting_dropped(session, call.id, call.meeting_id)
    if not dropped:
        return None  # cancelled or changed meanwhile: that change handles its meeting
    problem = _delete_meeting(deps, call.id, call.meeting_id)
    if problem:
        log.warning("the old meeting %s of call %s stays in Zoom", call.meeting_id, call.id)
    return ensure_meeting(deps, call.id)


# ---- after a button -----------------------------------------------------------------------
def retry(client: WebClient, deps: Deps, call_id: int, response_url: str) -> None:
    problem = ensure_meeting(deps, call_id)
    show_call(client, deps, call_id)
    registrations.register_call(deps, client, call_id)
    call, _ = _load(deps, call_id)
    name = deps.conferencing.name
    if problem is None and call.meeting_not_before and call.meeting_not_before > deps.clock.now():
        problem = _later_text(deps, call.meeting_not_before, call.timezone)
    if isinstance(problem, Later):
        text = f"The {name} meeting of *{escape(call.topic)}* is not made yet. {escape(problem)}."
    elif problem:
        text = f"The {name} meeting is still not made: {escape(problem)}."
    elif call.meeting_state == MeetingState.READY.value:
        text = f"The {name} meeting for *{escape(call.topic)}* is ready: " + link(
            call.join_url, "join it here"
        )
    else:
        text = f"The {name} meeting is being made already."
    tell(response_url, text)


def cancel(client: WebClient, deps: Deps, call_id: int, user_id: str, response_url: str) -> None:
    """Cancel the call: of concurrent cancels, one wins and deletes the meeting."""
    with session_scope(deps.engine) as session:
        call = session.get(Call, call_id)
        won = rules.cancel(session, call)
        meeting_id = call.meeting_id
    if not won:
        tell(response_url, "That call was already cancelled.")
        return
    problem = _delete_meeting(deps, call_id, meeting_id) if meeting_id else None
    show_call(client, deps, call_id)
    if call.message_ts:
        _thread_note(client, call, f":x: <@{user_id}> cancelled this call.")
    text = f"Cancelled *{escape(call.topic)}* and told the channel."
    if problem:
        text += (
            f" Its {deps.conferencing.name} meeting could not be deleted ({escape(problem)}); "
            f"delete it in {deps.conferencing.name}."
        )
    tell(response_url, text)


# ---- meetings that waited for the daily limit ------------------------------------------------
def run_deferred(
    deps: Deps,
    client: WebClient,
    now: datetime,
    keep: Callable[[], bool] | None = None,
) -> list[str]:
    """The scheduler's step: make the meetings that waited for 00:00 UTC (the hosts'
    daily limit), post them in their channels and tell whoever scheduled each call that
    its link is there, each after `keep()` says the pass may go on. Lines saying what was
    made."""
    if not deps.conferencing.configured:
        return []
    with session_scope(deps.engine) as session:
        due = meetings.deferred_meetings(session, now)
    made: list[str] = []
    for call_id in due:
        if keep is not None and not keep():
            break
        problem = ensure_meeting(deps, call_id, now)
        call, community = _load(deps, call_id)
        if call.meeting_state != MeetingState.READY.value:
            if problem and not isinstance(problem, Later):
                log.warning("the waiting meeting of call %s: %s", call_id, problem)
            continue
        made.append(f"the {deps.conferencing.name} meeting of call {call_id}")
        slack_error = show_call(client, deps, call_id)
        where = (
            _not_posted(community, slack_error)
            if slack_error
            else f"It is posted in <#{community.slack_channel_id}>."
        )
        post_message(
            client,
            call.created_by,
            community_blocks.message_for(
                f"The {deps.conferencing.name} meeting of *{escape(call.topic)}* "
                f"({blocks.when(call.start_at, call.timezone)}) is made: "
                + link(call.join_url, "join it here")
                + f". {where}"
            ),
        )
    return made


# ---- after the year plan ----------------------------------------------------------------
def after_year(
    client: WebClient,
    deps: Deps,
    call_ids: list[int],
    user_id: str,
    accepted: year_plan.Accepted,
) -> None:
    problems: list[str] = []
    later: list[Later] = []
    for call_id in call_ids:
        if deps.conferencing.configured:
            problem = ensure_meeting(deps, call_id)
            if isinstance(problem, Later):
                later.append(problem)
            elif problem:
                problems.append(problem)
        show_call(client, deps, call_id)
        registrations.register_call(deps, client, call_id)
    post_message(
        client,
        user_id,
        community_blocks.message_for(
            year_blocks.year_accepted_text(
                len(call_ids),
                len(accepted.milestones),
                moved=accepted.moved,
                additional=accepted.additional,
                skipped=accepted.skipped,
                problems=problems,
                conferencing=deps.conferencing.name,
                later=len(later),
                later_reason=later[0] if later else "",
            )
        ),
    )
