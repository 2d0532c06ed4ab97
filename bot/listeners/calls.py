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

from slack_bolt import Ack
from sqlmodel import Session

from bot.blocks import calls as blocks
from bot.blocks import escape
from bot.flows import calls as flows
from bot.flows import registrations as registration_flows
from bot.listeners.common import CommandRequest, leader_zone, modal_values, view_metadata
from bot.listeners.guard import Interaction, on_action, on_submission
from bot.listeners.routes import Routes
from bot.services import CopError, hosts, registrations
from bot.services import calls as rules
from bot.services.permissions import Action, who_can
from storage.models import Call, CallStatus, Community

route = Routes()

log = logging.getLogger(__name__)


# ---- commands ---------------------------------------------------------------------------
def cmd_schedule(req: CommandRequest) -> None:
    community = req.community()
    if not req.may(Action.SCHEDULE_CALL, community):
        raise CopError(
            f"Only {who_can(Action.SCHEDULE_CALL)} can schedule calls for "
            f"*{escape(community.name)}*; `/cop calls` shows the upcoming ones."
        )
    zone = leader_zone(req)
    day = rules.default_day(req.deps.clock.now(), zone, req.deps.settings.holidays)
    view = blocks.schedule_modal(community, host=req.user_id, zone=zone, day=day.isoformat())
    req.open_view(view)


def cmd_calls(req: CommandRequest) -> None:
    community = req.community()
    may_manage = req.may(Action.SCHEDULE_CALL, community)
    now = req.deps.clock.now()
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


def _refuse_form(i: Interaction, error: CopError) -> None:
    field = rules.TIME if isinstance(error, hosts.HostsBusy) else rules.TOPIC
    i.ack(response_action="errors", errors={field: str(error)})


@route.view(blocks.RESCHEDULE_CALLBACK)
@route.view(blocks.SCHEDULE_CALLBACK)
@on_submission(_refuse_form)
def handle_schedule_submission(i: Interaction) -> None:
    """The schedule and reschedule form: the call is saved (and a host booked) in the
    request; its meeting, message and registrations follow the ack."""
    deps = i.deps
    community_id, call_id = _ids(i.view, i.view.get("callback_id") == blocks.RESCHEDULE_CALLBACK)
    draft, errors = rules.validate(
        _form(i.view), now=i.deps.clock.now(), holidays_country=deps.settings.holidays
    )
    # first: the count of the year and the insert are decided by one writer
    rules.lock_community(i.session, community_id)
    community = i.community_allowing(community_id, Action.SCHEDULE_CALL, "schedule its calls")
    call = _call_of(i.session, call_id, community_id) if call_id else None
    if draft is not None:
        refusal = rules.year_limit_error(
            i.session,
            community,
            draft,
            deps.settings.program_year_start,
            excluding=call_id,
            zone=deps.settings.timezone,
        )
        if refusal:
            errors = {rules.KIND: refusal}
    if i.form_errors(errors):
        return
    saved_id, moved, host_changed = _save(i, community, call, draft)
    i.ack()
    if call_id:
        i.later(flows.after_reschedule, i.client, deps, saved_id, i.user_id, moved, host_changed)
    else:
        i.later(flows.after_schedule, i.client, deps, saved_id, i.user_id)


def _save(
    i: Interaction, community: Community, call: Call | None, draft: rules.CallDraft
) -> tuple[int, bool, bool]:
    """Create or move the call and book its host: (call id, moved, host changed)."""
    deps = i.deps
    old_host = host = call.zoom_host if call is not None else None
    if call is None:
        call = rules.create(
            i.session, community, draft, i.user_id, with_meeting=deps.conferencing.configured
        )
        moved = False
    else:
        moved = call.start_at != draft.start_at
        rules.reschedule(i.session, call, draft)
    if deps.conferencing.configured:
        # a host free at that time, decided by the database; none: nothing is saved
        host = hosts.book_or_refuse(i.session, call, deps.conferencing.hosts, i.deps.clock.now())
    return call.id, moved, old_host is not None and host != old_host


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
def _managed_call(i: Interaction, what: str) -> tuple[Call, Community]:
    """The call a button names and its community, if the one who pressed it may manage
    it there; else CopError saying who may `what` (the thing they tried)."""
    return i.allowed(
        Call,
        rules.parse_id(i.value),
        Action.SCHEDULE_CALL,
        what,
        missing="That call no longer exists.",
    )


@route.action(blocks.RETRY_ACTION)
@on_action
def handle_retry(i: Interaction) -> None:
    """Retry: make the call's meeting and message again, after the ack."""
    call, _ = _managed_call(i, "retry its calls' meetings")
    i.later(flows.retry, i.client, i.deps, call.id, i.response_url)


@route.action(blocks.CANCEL_ACTION)
@on_action
def handle_cancel(i: Interaction) -> None:
    """Cancel: the call, its meeting and its message, after the ack."""
    call, _ = _managed_call(i, "cancel its calls")
    i.later(flows.cancel, i.client, i.deps, call.id, i.user_id, i.response_url)


@route.action(blocks.RESCHEDULE_ACTION)
@on_action
def handle_reschedule_open(i: Interaction) -> None:
    """Reschedule: the form, filled in with the call."""
    call, community = _managed_call(i, "move its calls")
    if call.status != CallStatus.SCHEDULED.value:
        raise CopError("That call was cancelled.")
    i.open_view(
        blocks.schedule_modal(
            community, host=call.host_user_id, zone=call.timezone, day="", call=call
        )
    )


@route.action(blocks.JOIN_ACTION)
@on_action
def handle_join(i: Interaction) -> None:
    """Join: the person's own link, answered only to them, from the background pool
    (registering them there first if need be), never holding up the ack."""
    call_id = rules.parse_id(i.value)
    i.later(registration_flows.join_clicked, i.deps, i.client, call_id, i.user_id, i.response_url)


@route.action(re.compile(f"^{blocks.CALENDAR_ACTION}"))
def handle_calendar_link(ack: Ack) -> None:
    ack()  # a link button: Slack opens the URL; nothing to do


register = route.register
