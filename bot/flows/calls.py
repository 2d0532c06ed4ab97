"""What follows the ack for calls: post or update the call in its channel, tell the
leader; cancel and retry; the calls of an accepted year; the meetings that waited for
the hosts' daily limit. The meeting itself is `bot.flows.meetings`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import calls as blocks
from bot.blocks import community as community_blocks
from bot.blocks import year_plan as year_blocks
from bot.deps import Deps
from bot.flows import registrations
from bot.flows.meetings import (
    Later,
    delete_meeting,
    ensure_meeting,
    later_text,
    load_call,
    move_meeting,
)
from bot.services import call_meetings, year_plan
from bot.services import calls as rules
from bot.slack_client import post_message, tell
from bot.text import escape, link
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


# ---- the channel ------------------------------------------------------------------------
def show_call(client: WebClient, deps: Deps, call_id: int) -> str | None:
    """Post the call in its community's channel, or update the message posted before.
    Returns Slack's error code on failure, and logs it."""
    call, community = load_call(deps, call_id)
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
    call, community = load_call(deps, call_id)
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
    call, community = load_call(deps, call_id)
    problem = None
    if call.meeting_state == MeetingState.READY.value and call.meeting_id:
        problem = move_meeting(deps, call, community, host_changed)
    elif call.meeting_state == MeetingState.PENDING.value:
        problem = ensure_meeting(deps, call_id)
    slack_error = show_call(client, deps, call_id)
    registrations.register_call(deps, client, call_id)
    call, community = load_call(deps, call_id)
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


# ---- after a button -----------------------------------------------------------------------
def retry(client: WebClient, deps: Deps, call_id: int, response_url: str) -> None:
    problem = ensure_meeting(deps, call_id)
    show_call(client, deps, call_id)
    registrations.register_call(deps, client, call_id)
    call, _ = load_call(deps, call_id)
    name = deps.conferencing.name
    if problem is None and call.meeting_not_before and call.meeting_not_before > deps.clock.now():
        problem = later_text(deps, call.meeting_not_before, call.timezone)
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
    problem = delete_meeting(deps, call_id, meeting_id) if meeting_id else None
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
        due = call_meetings.deferred_meetings(session, now)
    made: list[str] = []
    for call_id in due:
        if keep is not None and not keep():
            break
        problem = ensure_meeting(deps, call_id, now)
        call, community = load_call(deps, call_id)
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
