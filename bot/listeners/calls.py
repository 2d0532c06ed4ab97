"""Calls: `/cop schedule`, `/cop calls`, and the Retry, Reschedule and Cancel buttons.

The ack comes first; the Zoom meeting is made after it, then the channel gets the call
with its join link. If Zoom fails, the call stays stored as "meeting pending", the
leader is told, and Retry offers another try that never makes a second meeting.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import calls as blocks
from bot.blocks import community as community_blocks
from bot.deps import Deps
from bot.listeners.common import CommandRequest, community_allowing, post_message, tell
from bot.services import CopError, people, year_plan
from bot.services import calls as rules
from bot.services import communities as svc
from bot.services.permissions import Action, can, who_can
from integrations.conferencing import MeetingRequest
from integrations.zoom import ZoomBadRequest, ZoomError
from storage.db import session_scope
from storage.models import Call, CallStatus, Community, MeetingState, utcnow

log = logging.getLogger(__name__)


def calendar_url(deps: Deps, community: Community) -> str | None:
    base = deps.settings.public_url
    return f"{base}/calendar/{community.calendar_token}.ics" if base else None


def call_calendar_url(deps: Deps, call: Call) -> str | None:
    base = deps.settings.public_url
    return f"{base}/calendar/call/{call.uid}.ics" if base else None


# ---- commands ---------------------------------------------------------------------------
def cmd_schedule(req: CommandRequest) -> None:
    community = req.community()
    role = svc.role_of(req.session, community.id, req.user_id)
    if not can(req.actor, Action.SCHEDULE_CALL, role):
        raise CopError(
            f"Only {who_can(Action.SCHEDULE_CALL)} can schedule calls for *{community.name}*; "
            "`/cop calls` shows the upcoming ones."
        )
    person = people.get(req.session, req.user_id)
    zone = (person.tz if person and person.tz else None) or req.deps.settings.timezone
    today = utcnow().astimezone(ZoneInfo(zone)).date().isoformat()
    view = blocks.schedule_modal(community, host=req.user_id, zone=zone, today=today)
    req.ack()
    req.later(req.client.views_open, trigger_id=req.trigger_id, view=view)


def cmd_calls(req: CommandRequest) -> None:
    community = req.community()
    role = svc.role_of(req.session, community.id, req.user_id)
    may_manage = can(req.actor, Action.SCHEDULE_CALL, role)
    now = utcnow()
    upcoming = rules.upcoming(req.session, community.id, now)
    note = None
    if may_manage:
        today = now.astimezone(req.deps.settings.zone).date()
        note = rules.calls_planned_note(
            req.session, community, today, req.deps.settings.program_year_start
        )
    deps = req.deps
    req.reply(
        blocks.calls_list(
            community,
            upcoming,
            note=note,
            may_manage=may_manage,
            conferencing=deps.conferencing.name,
            calendar_url=calendar_url(deps, community),
            call_calendar_url=(lambda c: call_calendar_url(deps, c))
            if deps.settings.public_url
            else None,
        )
    )


# ---- the modal --------------------------------------------------------------------------
def _form(view: dict[str, Any]) -> rules.CallForm:
    values = view["state"]["values"]

    def element(block_id: str) -> dict[str, Any]:
        return values.get(block_id, {}).get("value") or {}

    kind = element(rules.KIND).get("selected_option") or {}
    return rules.CallForm(
        date=element(rules.DATE).get("selected_date") or "",
        time=element(rules.TIME).get("selected_time") or "",
        zone=element(rules.ZONE).get("value") or "",
        duration=element(rules.DURATION).get("value") or "",
        topic=element(rules.TOPIC).get("value") or "",
        agenda=element(rules.AGENDA).get("value") or "",
        host=element(rules.HOST).get("selected_user") or "",
        alternate=element(rules.ALTERNATE).get("selected_user") or "",
        kind=kind.get("value", ""),
    )


def _managed(deps: Deps, session, community_id: int, user_id: str) -> Community:
    return community_allowing(
        deps, session, community_id, user_id, Action.SCHEDULE_CALL, "schedule its calls"
    )


def handle_schedule_submission(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    deps: Deps = context["copbot"]
    view = body["view"]
    user_id = body["user"]["id"]
    meta = json.loads(view.get("private_metadata") or "{}")
    call_id = meta.get("call")
    draft, errors = rules.validate(
        _form(view), now=utcnow(), holidays_country=deps.settings.holidays
    )
    try:
        with session_scope(deps.engine) as session:
            community = _managed(deps, session, int(meta["community"]), user_id)
            call = session.get(Call, call_id) if call_id else None
            if call_id and (call is None or call.status != CallStatus.SCHEDULED.value):
                raise CopError("This call was cancelled in the meantime.")
            if draft is not None:
                refusal = rules.year_limit_error(
                    session,
                    community,
                    draft,
                    deps.settings.program_year_start,
                    excluding=call_id,
                )
                if refusal:
                    errors = {rules.KIND: refusal}
            if errors:
                ack(response_action="errors", errors=errors)
                return
            if call is None:
                call = rules.create(
                    session,
                    community,
                    draft,
                    user_id,
                    with_meeting=deps.conferencing.configured,
                )
                moved = False
            else:
                moved = call.start_at != draft.start_at
                rules.reschedule(session, call, draft)
            saved_id = call.id
    except CopError as e:
        ack(response_action="errors", errors={rules.TOPIC: str(e)})
        return
    ack()
    if call_id:
        deps.later(after_reschedule, client, deps, saved_id, user_id, moved)
    else:
        deps.later(after_schedule, client, deps, saved_id, user_id)


# ---- after the ack ------------------------------------------------------------------------
def _plain_error(error: ZoomError) -> str:
    if isinstance(error, ZoomBadRequest):
        return f"Zoom refused it: {error.message}"
    if error.status == 401:
        return (
            "Zoom refused copbot's credentials "
            "(check ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET)"
        )
    return "Zoom did not answer in time"


def ensure_meeting(deps: Deps, call_id: int) -> str | None:
    """Make the call's meeting unless it has one; the error in plain words, or None."""
    with session_scope(deps.engine) as session:
        if not rules.claim_meeting(session, call_id):
            return None  # made already, not wanted, or another worker is making it
        call = session.get(Call, call_id)
        request = _meeting_request(call, session.get(Community, call.community_id))
    try:
        info = deps.conferencing.create(request)
    except ZoomError as e:
        message = _plain_error(e)
        log.warning("meeting for call %s: %s", call_id, e)
        with session_scope(deps.engine) as session:
            rules.meeting_failed(session, call_id, message)
        return message
    except Exception as e:  # noqa: BLE001 - the call must not stay claimed
        with session_scope(deps.engine) as session:
            rules.meeting_failed(session, call_id, "an unexpected error")
        log.exception("meeting for call %s", call_id)
        return f"an unexpected error ({type(e).__name__})"
    with session_scope(deps.engine) as session:
        rules.meeting_made(session, call_id, info.meeting_id, info.join_url, info.passcode)
    return None


def _meeting_request(call: Call, community: Community) -> MeetingRequest:
    return MeetingRequest(
        topic=f"{community.name}: {call.topic}",
        start=call.start_at,
        duration_minutes=call.duration_minutes,
        timezone=call.timezone,
        agenda=call.agenda,
        marker=rules.marker(call),
    )


def show_call(client: WebClient, deps: Deps, call_id: int) -> str | None:
    """Post the call in its community's channel, or update the message posted before.
    Returns Slack's error code on failure."""
    with session_scope(deps.engine) as session:
        call = session.get(Call, call_id)
        community = session.get(Community, call.community_id)
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
        return e.response.get("error") or "unknown_error"
    with session_scope(deps.engine) as session:
        call = session.get(Call, call_id)
        call.message_channel = posted["channel"]
        call.message_ts = posted["ts"]
        session.add(call)
    return None


def after_schedule(client: WebClient, deps: Deps, call_id: int, user_id: str) -> None:
    problem = ensure_meeting(deps, call_id) if deps.conferencing.configured else None
    slack_error = show_call(client, deps, call_id)
    with session_scope(deps.engine) as session:
        call = session.get(Call, call_id)
        community = session.get(Community, call.community_id)
    notes = []
    if problem:
        notes.append(
            f"The call *{call.topic}* is saved, but its Zoom meeting is not made yet: "
            f"{problem}. `/cop calls` has a Retry button."
        )
    elif not deps.conferencing.configured:
        notes.append(
            f"The call *{call.topic}* is scheduled with no video meeting: Zoom is not set up "
            "for copbot (ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET)."
        )
    if slack_error:
        notes.append(
            f"I couldn't post it in <#{community.slack_channel_id}> ({slack_error}); invite me "
            "with `/invite @copbot`."
        )
    if not notes:
        notes.append(f"Scheduled *{call.topic}* and posted it in <#{community.slack_channel_id}>.")
    post_message(client, user_id, community_blocks.message_for(" ".join(notes)))


def after_reschedule(
    client: WebClient, deps: Deps, call_id: int, user_id: str, moved: bool
) -> None:
    with session_scope(deps.engine) as session:
        call = session.get(Call, call_id)
        community = session.get(Community, call.community_id)
        request = _meeting_request(call, community)
    problem = None
    if call.meeting_state == MeetingState.READY.value and call.zoom_meeting_id:
        try:
            deps.conferencing.update(call.zoom_meeting_id, request)
        except ZoomError as e:
            problem = _plain_error(e)
    elif call.meeting_state == MeetingState.PENDING.value:
        problem = ensure_meeting(deps, call_id)
    show_call(client, deps, call_id)
    if moved and call.message_ts:
        _thread_note(
            client,
            call,
            ":arrows_counterclockwise: This call moved to "
            f"{blocks.when(call.start_at, call.timezone)}.",
        )
    text = f"Saved the changes to *{call.topic}*."
    if problem:
        text += f" The Zoom meeting could not be updated: {problem}."
    post_message(client, user_id, community_blocks.message_for(text))


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


# ---- buttons ------------------------------------------------------------------------------
def _managed_call(deps: Deps, body: dict[str, Any]) -> Call | None:
    """The call of a button, if the one who pressed it may manage it; else they are told."""
    call_id, user_id = int(body["actions"][0]["value"]), body["user"]["id"]
    try:
        with session_scope(deps.engine) as session:
            call = session.get(Call, call_id)
            if call is None:
                raise CopError("That call no longer exists.")
            _managed(deps, session, call.community_id, user_id)
            return call
    except CopError as e:
        deps.later(tell, body.get("response_url", ""), str(e))
        return None


def handle_retry(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    ack()
    deps: Deps = context["copbot"]
    managed = _managed_call(deps, body)
    if managed is None:
        return
    call_id, response_url = managed.id, body.get("response_url", "")

    def retry() -> None:
        problem = ensure_meeting(deps, call_id)
        show_call(client, deps, call_id)
        with session_scope(deps.engine) as session:
            call = session.get(Call, call_id)
        if problem:
            text = f"The Zoom meeting is still not made: {problem}."
        elif call.meeting_state == MeetingState.READY.value:
            text = f"The Zoom meeting for *{call.topic}* is ready: {call.join_url}"
        else:
            text = "The meeting is being made already."
        tell(response_url, text)

    deps.later(retry)


def handle_cancel(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    ack()
    deps: Deps = context["copbot"]
    managed = _managed_call(deps, body)
    if managed is None:
        return
    call_id, user_id = managed.id, body["user"]["id"]
    response_url = body.get("response_url", "")

    def cancel() -> None:
        with session_scope(deps.engine) as session:
            call = session.get(Call, call_id)
            changed = rules.cancel(session, call)
        if not changed:
            tell(response_url, "That call was already cancelled.")
            return
        problem = None
        if call.zoom_meeting_id:
            try:
                deps.conferencing.delete(call.zoom_meeting_id)
            except ZoomError as e:
                problem = _plain_error(e)
        show_call(client, deps, call_id)
        if call.message_ts:
            _thread_note(client, call, f":x: <@{user_id}> cancelled this call.")
        text = f"Cancelled *{call.topic}* and told the channel."
        if problem:
            text += f" Its Zoom meeting could not be deleted ({problem}); delete it in Zoom."
        tell(response_url, text)

    deps.later(cancel)


def handle_reschedule_open(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    ack()
    deps: Deps = context["copbot"]
    call = _managed_call(deps, body)
    if call is None or call.status != CallStatus.SCHEDULED.value:
        return
    with session_scope(deps.engine) as session:
        community = session.get(Community, call.community_id)
    view = blocks.schedule_modal(
        community,
        host=call.host_user_id,
        zone=call.timezone,
        today=utcnow().astimezone(ZoneInfo(call.timezone)).date().isoformat(),
        call=call,
    )
    deps.later(client.views_open, trigger_id=body["trigger_id"], view=view)


def handle_calendar_link(ack: Ack) -> None:
    ack()  # a link button: Slack opens the URL; nothing to do


def register(app: App) -> None:
    app.view(blocks.SCHEDULE_CALLBACK)(handle_schedule_submission)
    app.view(blocks.RESCHEDULE_CALLBACK)(handle_schedule_submission)
    app.view(blocks.YEAR_CALLBACK)(handle_year_submission)
    app.action(blocks.RETRY_ACTION)(handle_retry)
    app.action(blocks.CANCEL_ACTION)(handle_cancel)
    app.action(blocks.RESCHEDULE_ACTION)(handle_reschedule_open)
    app.action(re.compile(f"^{blocks.CALENDAR_ACTION}"))(handle_calendar_link)


# ---- /cop year ----------------------------------------------------------------------------
def cmd_year(req: CommandRequest) -> None:
    community = req.community()
    role = svc.role_of(req.session, community.id, req.user_id)
    if not can(req.actor, Action.SCHEDULE_CALL, role):
        raise CopError(f"Only {who_can(Action.SCHEDULE_CALL)} can plan the year's calls.")
    arg = req.args.strip().lower()
    if arg not in ("", "next"):
        raise CopError("`/cop year` drafts this program year; `/cop year next` the next one.")
    settings = req.deps.settings
    person = people.get(req.session, req.user_id)
    zone = (person.tz if person and person.tz else None) or settings.timezone
    now = utcnow()
    first, _ = rules.program_year(
        now.astimezone(ZoneInfo(zone)).date(), settings.program_year_start
    )
    if arg == "next":
        first = first.replace(year=first.year + 1)
    drafts = year_plan.draft_calls(first, settings.holidays)
    today = now.astimezone(ZoneInfo(zone)).date()
    future = [d for d in drafts if d.day > today]
    skipped = [f"{d.topic} ({d.day:%b %-d})" for d in drafts if d.day <= today]
    if not future:
        raise CopError(
            "Every call of this program year's sample plan is in the past: "
            "`/cop year next` drafts the next one."
        )
    steps = [
        f"{m.title} ({year_plan.month_in_year(first, m.month):%B})"
        for m in year_plan.SAMPLE_MILESTONES
    ]
    steps.insert(
        0,
        "For each webinar: distribute the guide a week before, post the readings, "
        "archive the recording and slides",
    )
    view = blocks.year_modal(
        community, first, future, zone=zone, milestones=steps, skipped_months=skipped
    )
    req.ack()
    req.later(req.client.views_open, trigger_id=req.trigger_id, view=view)


def handle_year_submission(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    deps: Deps = context["copbot"]
    view = body["view"]
    user_id = body["user"]["id"]
    meta = json.loads(view.get("private_metadata") or "{}")
    first = date.fromisoformat(meta["first"])
    values = view["state"]["values"]

    def element(block_id: str) -> dict[str, Any]:
        return values.get(block_id, {}).get("value") or {}

    errors: dict[str, str] = {}
    at_text = element(rules.TIME).get("selected_time") or ""
    zone = (element(rules.ZONE).get("value") or "").strip()
    duration_text = element(rules.DURATION).get("value") or ""
    # the same rules as one call, checked on a date that is surely in the future
    probe = rules.CallForm(
        date=f"{first.year + 2}-06-15",
        time=at_text,
        zone=zone,
        duration=duration_text,
        topic="probe",
        agenda="",
        host=user_id,
        alternate="",
        kind="community",
    )
    _, probe_errors = rules.validate(probe, now=utcnow(), holidays_country=None)
    errors.update(
        {k: v for k, v in probe_errors.items() if k in (rules.TIME, rules.ZONE, rules.DURATION)}
    )
    chosen: dict[str, tuple[str, date]] = {}
    for sample in year_plan.SAMPLE_CALLS:
        if f"date-{sample.key}" not in values:
            continue
        topic = " ".join((element(f"topic-{sample.key}").get("value") or "").split())
        day_text = element(f"date-{sample.key}").get("selected_date") or ""
        if not topic or len(topic) > rules.MAX_TOPIC:
            errors[f"topic-{sample.key}"] = "Give this call a topic (up to 200 characters)."
        try:
            chosen[sample.key] = (topic, date.fromisoformat(day_text))
        except ValueError:
            errors[f"date-{sample.key}"] = "Pick a date."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    hour, minute = (int(p) for p in at_text.split(":"))
    try:
        with session_scope(deps.engine) as session:
            community = _managed(deps, session, int(meta["community"]), user_id)
            accepted = year_plan.accept(
                session,
                community,
                first,
                chosen,
                at=time(hour, minute),
                zone=zone,
                duration=int(duration_text),
                user_id=user_id,
                now=utcnow(),
                holidays_country=deps.settings.holidays,
                year_start=deps.settings.program_year_start,
                with_meeting=deps.conferencing.configured,
            )
            call_ids = [c.id for c in accepted.calls]
    except CopError as e:
        ack(response_action="errors", errors={rules.TIME: str(e)})
        return
    ack()
    deps.later(after_year, client, deps, call_ids, user_id, accepted)


def after_year(
    client: WebClient, deps: Deps, call_ids: list[int], user_id: str, accepted: year_plan.Accepted
) -> None:
    problems = []
    for call_id in call_ids:
        if deps.conferencing.configured:
            problem = ensure_meeting(deps, call_id)
            if problem:
                problems.append(problem)
        show_call(client, deps, call_id)
    lines = [
        f"Scheduled {len(call_ids)} call(s) and recorded {len(accepted.milestones)} "
        "step(s) for reminders."
    ]
    if accepted.moved:
        lines.append("Moved to a working day: " + "; ".join(accepted.moved) + ".")
    if accepted.additional:
        lines.append(
            "The year already had six community calls, so these are additional "
            "calls: " + ", ".join(accepted.additional) + "."
        )
    if accepted.skipped:
        lines.append("Left out, as already past: " + "; ".join(accepted.skipped) + ".")
    if problems:
        lines.append(
            f"{len(problems)} Zoom meeting(s) are not made yet ({problems[0]}); "
            "`/cop calls` has Retry buttons."
        )
    post_message(client, user_id, community_blocks.message_for(" ".join(lines)))
