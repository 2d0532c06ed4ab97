"""`/cop agenda`: the leaders write their onsite agenda (sessions inside the community's
two-hour block), as a draft or submitted; staff are told of a submission.

`/cop agenda` opens the modal (others see the agenda) · `/cop agenda show` ·
`/cop agenda status` (staff: who has submitted).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, select

from bot.blocks import agenda as blocks
from bot.deps import Deps
from bot.listeners.common import CommandRequest
from bot.listeners.guard import Interaction, on_submission
from bot.listeners.routes import Routes
from bot.services import CopError, onsite
from bot.services import agenda as rules
from bot.services import communities as svc
from bot.services.agenda import AgendaError, RawSession
from bot.services.permissions import Action, who_can
from bot.slack_client import post_message
from storage.models import OnsiteMeeting, OnsiteRoom

route = Routes()


def _today(deps: Deps) -> date:
    return deps.clock.now().astimezone(deps.settings.zone).date()


def _deadline(deps: Deps, meeting: OnsiteMeeting):
    return rules.due_at(meeting.year, deps.settings.agenda_due, deps.settings.zone)


def cmd_agenda(req: CommandRequest) -> None:
    sub = req.sub
    meeting = onsite.current_meeting(req.session, _today(req.deps))
    if sub == "status":
        req.require(Action.VIEW_ALL_COMMUNITIES, "see every agenda")
        if meeting is None:
            raise CopError("The Annual Meeting has not been set up yet (`/cop onsite meeting`).")
        req.reply(_status(req.session, meeting))
        return
    if sub not in ("", "show"):
        raise req.unknown(
            "agenda",
            "`/cop agenda` writes the onsite agenda · `/cop agenda show` shows it · "
            "`/cop agenda status` (staff) lists who has submitted.",
        )
    community = req.community()
    if meeting is None:
        raise CopError(
            "The Annual Meeting has not been set up yet; once staff give "
            f"*{community.name}* its onsite block, the agenda fits inside it."
        )
    block = onsite.block_of(req.session, meeting.id, community.id)
    current = rules.load(req.session, community.id, meeting.year)
    sessions = rules.sessions_of(current)
    if sub == "show" or not req.may(Action.EDIT_AGENDA, community):
        req.reply(blocks.agenda_message(community, meeting, block, current, sessions))
        return
    if block is None:
        raise CopError(
            f"*{community.name}* has no onsite block at {meeting.name} yet; staff assign it "
            "with `/cop onsite`, and the agenda fits inside it."
        )
    deadline = _deadline(req.deps, meeting)
    if not rules.may_edit(req.actor.is_staff, req.deps.clock.now(), deadline):
        raise CopError(
            f"The onsite agenda was due {deadline:%B %-d, %Y}; only staff can change it now. "
            "`/cop agenda show` shows it."
        )
    room = req.session.get(OnsiteRoom, block.room_id)
    view = blocks.agenda_modal(
        community,
        meeting,
        block,
        room,
        sessions,
        state=current.state if current else rules.DRAFT,
        deadline=deadline,
    )
    req.open_view(view)


def _status(session: Session, meeting: OnsiteMeeting) -> dict[str, Any]:
    agendas = rules.status(session, meeting.year)
    blocks_by = {b.community_id: b for b in onsite.blocks_of(session, meeting.id)}
    rows = [(c, agendas.get(c.id), blocks_by.get(c.id)) for c in svc.all_by_name(session)]
    return blocks.status_message(meeting, rows)


def _raw(values: dict[str, Any]) -> list[RawSession]:
    out = []
    for n in range(1, rules.MAX_SESSIONS + 1):
        get = values.get
        out.append(
            RawSession(
                n,
                get(rules.field("start", n)),
                get(rules.field("minutes", n)),
                get(rules.field("title", n)),
                get(rules.field("speakers", n)),
                get(rules.field("description", n)),
            )
        )
    return out


def _refused(i: Interaction, error: CopError) -> None:
    field = error.field if isinstance(error, AgendaError) else rules.field("title", 1)
    i.ack(response_action="errors", errors={field: str(error)})


@route.view(blocks.AGENDA_CALLBACK)
@on_submission(_refused)
def handle_agenda_submission(i: Interaction) -> None:
    """The agenda form: a draft or the submitted agenda; staff are told of a submission."""
    values = i.values()
    meta = blocks.read_metadata(i.view)
    submit = values.get(blocks.ACTION) == blocks.SUBMIT_CHOICE
    if meta is None:
        raise AgendaError(
            rules.field("title", 1), "This form is out of date; run `/cop agenda` again."
        )
    community_id, year = meta
    community, meeting, block = _editable(i, community_id, year)
    sessions = rules.validate(_raw(values), rules.block_start(block, meeting), submit=submit)
    saved = rules.save(
        i.session, community.id, year, sessions, i.user_id, submit=submit, now=i.deps.clock.now()
    )
    done = blocks.saved_view(
        community,
        meeting,
        len(sessions),
        state=saved.agenda.state,
        newly_submitted=saved.newly_submitted,
        deadline=_deadline(i.deps, meeting),
    )
    i.ack(response_action="update", view=done)
    if saved.newly_submitted:
        notice = blocks.submitted_notice(community, meeting, block, sessions, i.user_id)
        for staff in sorted(i.deps.settings.staff):
            i.later(post_message, i.client, staff, notice)


def _editable(i: Interaction, community_id: int, year: int):
    """(community, meeting, block) if the person may write the agenda now."""
    community = i.community_allowing(
        community_id,
        Action.EDIT_AGENDA,
        refusal=f"Only {who_can(Action.EDIT_AGENDA)} can write the onsite agenda.",
    )
    session = i.session
    meeting = session.exec(select(OnsiteMeeting).where(OnsiteMeeting.year == year)).first()
    block = onsite.block_of(session, meeting.id, community.id) if meeting else None
    if meeting is None or block is None:
        raise CopError(f"*{community.name}* has no onsite block for {year}; staff assign it.")
    deadline = _deadline(i.deps, meeting)
    if not rules.may_edit(i.actor.is_staff, i.deps.clock.now(), deadline):
        raise CopError(
            f"The onsite agenda was due {deadline:%B %-d, %Y}; only staff can change it now."
        )
    return community, meeting, block


register = route.register
