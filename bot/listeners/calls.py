"""Calls: `/cop schedule`, `/cop calls`, the schedule and reschedule form, and the Retry,
Reschedule and Cancel buttons (`/cop year` lives in `bot.listeners.year`).

Each listener parses what Slack sent, checks who may act on the object it names (in that
object's own community), calls a service, acks, and hands the rest to `bot.flows.calls`
on the background pool; modals open on their own pool (`deps.open_view`). A malformed or
forged id gets a clear message, never an HTTP 500.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import Session

from bot.blocks import calls as blocks
from bot.blocks import escape
from bot.deps import Deps
from bot.flows import calls as flows
from bot.flows import registrations as registration_flows
from bot.listeners import year
from bot.listeners.call_access import leader_zone, managed, view_metadata
from bot.listeners.common import CommandRequest, modal_values
from bot.services import CopError, hosts, registrations
from bot.services import calls as rules
from bot.services import communities as svc
from bot.services.permissions import Action, can, who_can
from bot.slack_client import tell
from storage.db import session_scope
from storage.models import Call, CallStatus, Community, utcnow

log = logging.getLogger(__name__)

cmd_year = year.cmd_year  # /cop year, dispatched with the other subcommands


# ---- commands ---------------------------------------------------------------------------
def cmd_schedule(req: CommandRequest) -> None:
    community = req.community()
    role = svc.role_of(req.session, community.id, req.user_id)
    if not can(req.actor, Action.SCHEDULE_CALL, role):
        raise CopError(
            f"Only {who_can(Action.SCHEDULE_CALL)} can schedule calls for "
            f"*{escape(community.name)}*; `/cop calls` shows the upcoming ones."
        )
    zone = leader_zone(req)
    day = rules.default_day(utcnow(), zone, req.deps.settings.holidays)
    view = blocks.schedule_modal(community, host=req.user_id, zone=zone, day=day.isoformat())
    req.ack()
    req.deps.open_view(req.client, req.trigger_id, view)


def cmd_calls(req: CommandRequest) -> None:
    community = req.community()
    role = svc.role_of(req.session, community.id, req.user_id)
    may_manage = can(req.actor, Action.SCHEDULE_CALL, role)
    now = utcnow()
    deps = req.deps
    settings = deps.settings
    upcoming = rules.upcoming(req.session, community.id, now)
    ids = [c.id for c in upcoming if c.id]
    tokens = registrations.calendar_tokens(req.session, ids, req.user_id)
    note = None
    if may_manage:
        note = rules.calls_planned_note(
            req.session,
            community,
            now.astimezone(settings.zone).date(),
            settings.program_year_start,
            zone=settings.timezone,
        )
    req.reply(
        blocks.calls_list(
            community,
            upcoming,
            note=note,
            may_manage=may_manage,
            conferencing=deps.conferencing.name,
            calendar_url=flows.calendar_url(deps, community),
            call_calendar_url=(lambda c: flows.call_calendar_url(deps, c, tokens.get(c.id or 0)))
            if settings.public_url
            else None,
            own_links=registrations.own_links(req.session, ids, req.user_id),
        )
    )


# ---- the form -----------------------------------------------------------------------------
def _form(view: dict[str, Any]) -> rules.CallForm:
    values = modal_values(view)

    def text(block_id: str) -> str:
        value = values.get(block_id)
        return value if isinstance(value, str) else ""

    return rules.CallForm(
        date=text(rules.DATE),
        time=text(rules.TIME),
        zone=text(rules.ZONE),
        duration=text(rules.DURATION),
        topic=text(rules.TOPIC),
        agenda=text(rules.AGENDA),
        host=text(rules.HOST),
        alternate=text(rules.ALTERNATE),
        kind=text(rules.KIND),
    )


def _ids(view: dict[str, Any], rescheduling: bool) -> tuple[int, int | None]:
    meta = view_metadata(view)
    community_id = rules.parse_id(meta.get("community"))
    if rescheduling:
        return community_id, rules.parse_id(meta.get("call"))
    if meta.get("call") is not None:
        raise CopError("This form is not one copbot made: open it again.")
    return community_id, None


def handle_schedule_submission(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    deps: Deps = context["copbot"]
    view = body["view"]
    user_id = body["user"]["id"]
    try:
        community_id, call_id = _ids(view, view.get("callback_id") == blocks.RESCHEDULE_CALLBACK)
    except CopError as e:
        ack(response_action="errors", errors={rules.TOPIC: str(e)})
        return
    draft, errors = rules.validate(
        _form(view), now=utcnow(), holidays_country=deps.settings.holidays
    )
    try:
        with session_scope(deps.engine) as session:
            # first: the count of the year and the insert are decided by one writer
            rules.lock_community(session, community_id)
            community = managed(deps, session, community_id, user_id)
            call = _call_of(session, call_id, community_id) if call_id else None
            if draft is not None:
                refusal = rules.year_limit_error(
                    session,
                    community,
                    draft,
                    deps.settings.program_year_start,
                    excluding=call_id,
                    zone=deps.settings.timezone,
                )
                if refusal:
                    errors = {rules.KIND: refusal}
            if errors:
                ack(response_action="errors", errors=errors)
                return
            old_host = host = call.zoom_host if call is not None else None
            if call is None:
                call = rules.create(
                    session, community, draft, user_id, with_meeting=deps.conferencing.configured
                )
                moved = False
            else:
                moved = call.start_at != draft.start_at
                rules.reschedule(session, call, draft)
            if deps.conferencing.configured:
                # a host free at that time, decided by the database; none: nothing is saved
                host = hosts.book_or_refuse(session, call, deps.conferencing.hosts, utcnow())
            host_changed = old_host is not None and host != old_host
            saved_id = call.id
    except hosts.HostsBusy as e:
        ack(response_action="errors", errors={rules.TIME: str(e)})
        return
    except CopError as e:
        ack(response_action="errors", errors={rules.TOPIC: str(e)})
        return
    ack()
    if call_id:
        deps.later(flows.after_reschedule, client, deps, saved_id, user_id, moved, host_changed)
    else:
        deps.later(flows.after_schedule, client, deps, saved_id, user_id)


def _call_of(session: Session, call_id: int, community_id: int) -> Call:
    """The call being rescheduled, held until the unit of work ends; it must belong to
    the community the form names (whose leaders were checked) and still be scheduled."""
    call = session.get(Call, call_id, with_for_update=True)
    if call is None or call.community_id != community_id:
        raise CopError("That call is not one of this community's calls; nothing changed.")
    if call.status != CallStatus.SCHEDULED.value:
        raise CopError("This call was cancelled in the meantime.")
    return call


# ---- buttons ------------------------------------------------------------------------------
def _managed_call(deps: Deps, body: dict[str, Any], what: str) -> Call | None:
    """The call a button names, if the one who pressed it may manage it in the call's own
    community; else they are told why (who may `what`, the thing they tried), and None."""
    user_id = body["user"]["id"]
    try:
        call_id = rules.parse_id(((body.get("actions") or [{}])[0]).get("value"))
        with session_scope(deps.engine) as session:
            call = session.get(Call, call_id)
            if call is None:
                raise CopError("That call no longer exists.")
            managed(deps, session, call.community_id, user_id, what)
            return call
    except CopError as e:
        deps.later(tell, body.get("response_url", ""), str(e))
        return None


def handle_retry(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    ack()
    deps: Deps = context["copbot"]
    call = _managed_call(deps, body, "retry its calls' meetings")
    if call is not None:
        deps.later(flows.retry, client, deps, call.id, body.get("response_url", ""))


def handle_cancel(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    ack()
    deps: Deps = context["copbot"]
    call = _managed_call(deps, body, "cancel its calls")
    if call is not None:
        user_id, response_url = body["user"]["id"], body.get("response_url", "")
        deps.later(flows.cancel, client, deps, call.id, user_id, response_url)


def handle_reschedule_open(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    ack()
    deps: Deps = context["copbot"]
    call = _managed_call(deps, body, "move its calls")
    if call is None:
        return
    if call.status != CallStatus.SCHEDULED.value:
        deps.later(tell, body.get("response_url", ""), "That call was cancelled.")
        return
    with session_scope(deps.engine) as session:
        community = session.get(Community, call.community_id)
    view = blocks.schedule_modal(
        community, host=call.host_user_id, zone=call.timezone, day="", call=call
    )
    deps.open_view(client, body.get("trigger_id", ""), view)


def handle_join(ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
    """Join: the person's own link, answered only to them, from the background pool
    (registering them there first if need be), never holding up the ack."""
    ack()
    deps: Deps = context["copbot"]
    response_url = body.get("response_url", "")
    try:
        call_id = rules.parse_id(((body.get("actions") or [{}])[0]).get("value"))
    except CopError as e:
        deps.later(tell, response_url, str(e))
        return
    deps.later(
        registration_flows.join_clicked, deps, client, call_id, body["user"]["id"], response_url
    )


def handle_calendar_link(ack: Ack) -> None:
    ack()  # a link button: Slack opens the URL; nothing to do


def register(app: App) -> None:
    app.view(blocks.SCHEDULE_CALLBACK)(handle_schedule_submission)
    app.view(blocks.RESCHEDULE_CALLBACK)(handle_schedule_submission)
    app.action(blocks.RETRY_ACTION)(handle_retry)
    app.action(blocks.CANCEL_ACTION)(handle_cancel)
    app.action(blocks.JOIN_ACTION)(handle_join)
    app.action(blocks.RESCHEDULE_ACTION)(handle_reschedule_open)
    app.action(re.compile(f"^{blocks.CALENDAR_ACTION}"))(handle_calendar_link)
    year.register(app)
