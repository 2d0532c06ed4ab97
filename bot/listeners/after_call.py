"""After the call: the call message's Add slides and Attendance buttons and the slides
form; the value question's Answer and "Don't ask me again" buttons and its form; the App
Home switch of a community's value questions.

Every id from a button or form names an object: it is loaded and the person's role is
checked in that object's own community. A malformed or forged id gets a clear message.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from bot.blocks import after_call as blocks
from bot.flows import after_call as flows
from bot.listeners.guard import Interaction, on_action, on_submission
from bot.listeners.routes import Routes
from bot.services import CopError, attendance, recordings, value
from bot.services import after_call_jobs as jobs
from bot.services import communities as svc
from bot.services.calls import parse_id
from bot.services.permissions import Action, can
from storage.models import Call

route = Routes()

log = logging.getLogger(__name__)


def _call(i: Interaction, raw: Any) -> Call:
    """The call `raw` names, if the person may add slides and readings in its own
    community."""
    call, _ = i.allowed(
        Call,
        parse_id(raw),
        Action.ADD_CALL_RESOURCES,
        "add slides and readings to its calls",
        missing="That call no longer exists.",
    )
    return call


# ---- slides and readings ---------------------------------------------------------------------
@route.action(blocks.ADD_RESOURCE_ACTION)
@on_action
def handle_add_open(i: Interaction) -> None:
    """Add slides: the form for one link."""
    i.open_view(blocks.resource_modal(_call(i, i.value)))


@route.view(blocks.RESOURCE_CALLBACK)
@on_submission(blocks.URL)
def handle_resource_submission(i: Interaction) -> None:
    """The link is kept in the request; posted in the call's thread after the ack."""
    values = i.values()
    url = str(values.get(blocks.URL) or "").strip()
    title = str(values.get(blocks.TITLE) or "").strip()
    kind = str(values.get(blocks.KIND) or "")
    errors = recordings.check_link(url, title, kind)
    if i.form_errors(errors):
        return
    call = _call(i, i.metadata().get("call"))
    item, _ = recordings.add_link(i.session, call, kind, url, title, i.user_id)
    i.ack()
    i.later(flows.post_in_thread, i.deps, i.client, item.id, i.deps.clock.now())


# ---- attendance ---------------------------------------------------------------------------
@route.action(blocks.ATTENDANCE_ACTION)
@on_action
def handle_attendance(i: Interaction) -> None:
    """Attendance: answered privately under the call's message."""
    i.tell(attendance_answer(i))


def attendance_answer(i: Interaction) -> str:
    """What the person may see of a call's attendance: all of it for its leaders and
    staff, their own for a member; nothing for anyone else."""
    deps, session, user_id = i.deps, i.session, i.user_id
    call = session.get(Call, parse_id(i.value))
    if call is None:
        raise CopError("That call no longer exists.")
    role = svc.role_of(session, call.community_id, user_id)
    ended = jobs.call_end(call) <= i.deps.clock.now()
    if not deps.settings.attendance:
        return "Attendance is not kept in this organisation."
    counted = attendance.of_call(session, call.id)
    job = jobs.job_of(session, call.id, jobs.ATTENDANCE)
    unavailable = job.last_error if job is not None and job.state == jobs.UNAVAILABLE else None
    if can(i.actor, Action.VIEW_ATTENDANCE, role):
        present = [a.slack_user_id for a in attendance.people_at(session, call.id) if a.member]
        return blocks.attendance_text(call, counted, present, unavailable, ended=ended)
    if role is None:
        raise CopError("Only the community's members see attendance, each their own.")
    mine = attendance.own(session, call.id, user_id)
    return blocks.own_attendance_text(
        call,
        mine.minutes if mine else None,
        ended=ended,
        read=counted is not None,
        unavailable=unavailable is not None,
    )


# ---- the value questions -------------------------------------------------------------------
@route.action(blocks.VALUE_ANSWER_ACTION)
@on_action
def handle_value_open(i: Interaction) -> None:
    """Answer: the value question's form (each question is its own person's)."""
    q = value.question_for(i.session, parse_id(i.value), i.user_id)
    if q.answered_at is not None:
        raise CopError("You answered this already: thank you.")
    call = i.session.get(Call, q.call_id)
    i.open_view(
        blocks.value_modal(q, call, value.QUESTION[q.stage], value.earlier_answer(i.session, q))
    )


@route.view(blocks.VALUE_CALLBACK)
@on_submission(blocks.ANSWER)
def handle_value_submission(i: Interaction) -> None:
    """The answer, saved once."""
    values = i.values()
    consent = values.get(blocks.CONSENT) or []
    consent = consent if isinstance(consent, list) else [consent]
    saved = value.save_answer(
        i.session,
        parse_id(i.metadata().get("question")),
        i.user_id,
        str(values.get(blocks.ANSWER) or ""),
        evidence_ok=blocks.EVIDENCE_OK in consent,
        may_name=blocks.MAY_NAME in consent,
        now=i.deps.clock.now(),
    )
    if not saved.first:
        i.ack(response_action="errors", errors={blocks.ANSWER: "You answered this already."})
        return
    i.ack()


@route.action(blocks.VALUE_STOP_ACTION)
@on_action
def handle_value_stop(i: Interaction) -> None:
    """Don't ask me again."""
    value.question_for(i.session, parse_id(i.value), i.user_id)
    value.stop_asking(i.session, i.user_id)
    i.tell("Done: copbot will not ask you about calls again.")


def _switch_refused(i: Interaction, error: CopError) -> None:
    # a switch in the person's own Home: nothing to answer under
    log.info("value switch refused for %s: %s", i.user_id, error)


@route.action(blocks.VALUE_COMMUNITY_ACTION)
@on_action(refuse=_switch_refused)
def handle_value_community(i: Interaction) -> None:
    """App Home's switch of a community's after-call question."""
    try:
        raw = json.loads(i.value or "{}")
    except ValueError:
        raw = None
    if not isinstance(raw, dict) or not isinstance(raw.get("on"), bool):
        raise CopError("That button is not one copbot made.")
    community = i.community_allowing(
        parse_id(raw.get("community")),
        Action.SET_VALUE_QUESTIONS,
        "turn the after-call question on or off",
    )
    value.set_community_asks(i.session, community.id, raw["on"], i.user_id, i.deps.clock.now())
    i.home_after()


register = route.register
