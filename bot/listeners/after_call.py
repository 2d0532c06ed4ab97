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

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import Session

from bot.blocks import after_call as blocks
from bot.deps import Deps
from bot.flows import after_call as flows
from bot.listeners.common import community_allowing, modal_values
from bot.services import CopError, attendance, recordings, value
from bot.services import after_call_jobs as jobs
from bot.services import communities as svc
from bot.services.calls import parse_id
from bot.services.permissions import Action, can
from bot.slack_client import tell
from storage.db import session_scope
from storage.models import Call, utcnow

log = logging.getLogger(__name__)


def _button_value(body: dict[str, Any]) -> str:
    return str(((body.get("actions") or [{}])[0]).get("value") or "")


def _call(session: Session, raw: Any) -> Call:
    call = session.get(Call, parse_id(raw))
    if call is None:
        raise CopError("That call no longer exists.")
    return call


def _meta(view: dict[str, Any]) -> dict[str, Any]:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        meta = None
    if not isinstance(meta, dict):
        raise CopError("This form is not one copbot made: open it again.")
    return meta


# ---- slides and readings ---------------------------------------------------------------------
def handle_add_open(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    ack()
    deps: Deps = context["copbot"]
    user_id = body["user"]["id"]
    try:
        with session_scope(deps.engine) as session:
            call = _call(session, _button_value(body))
            community_allowing(
                deps,
                session,
                call.community_id,
                user_id,
                Action.ADD_CALL_RESOURCES,
                "add slides and readings to its calls",
            )
            view = blocks.resource_modal(call)
    except CopError as e:
        deps.later(tell, body.get("response_url", ""), str(e))
        return
    deps.open_view(client, body.get("trigger_id", ""), view)


def handle_resource_submission(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    deps: Deps = context["copbot"]
    user_id = body["user"]["id"]
    values = modal_values(body["view"])
    url = str(values.get(blocks.URL) or "").strip()
    title = str(values.get(blocks.TITLE) or "").strip()
    kind = str(values.get(blocks.KIND) or "")
    errors = recordings.check_link(url, title, kind)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    try:
        with session_scope(deps.engine) as session:
            call = _call(session, _meta(body["view"]).get("call"))
            community_allowing(
                deps,
                session,
                call.community_id,
                user_id,
                Action.ADD_CALL_RESOURCES,
                "add slides and readings to its calls",
            )
            item, _ = recordings.add_link(session, call, kind, url, title, user_id)
            item_id = item.id
    except CopError as e:
        ack(response_action="errors", errors={blocks.URL: str(e)})
        return
    ack()
    deps.later(flows.post_in_thread, deps, client, item_id, utcnow())


# ---- attendance ---------------------------------------------------------------------------
def handle_attendance(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    ack()
    deps: Deps = context["copbot"]
    user_id = body["user"]["id"]
    try:
        with session_scope(deps.engine) as session:
            text = attendance_answer(deps, session, _button_value(body), user_id)
    except CopError as e:
        text = str(e)
    deps.later(tell, body.get("response_url", ""), text)


def attendance_answer(deps: Deps, session: Session, raw: str, user_id: str) -> str:
    """What `user_id` may see of a call's attendance: all of it for its leaders and staff,
    their own for a member; nothing for anyone else."""
    call = _call(session, raw)
    role = svc.role_of(session, call.community_id, user_id)
    ended = jobs.call_end(call) <= utcnow()
    if not deps.settings.attendance:
        return "Attendance is not kept in this organisation."
    counted = attendance.of_call(session, call.id)
    job = jobs.job_of(session, call.id, jobs.ATTENDANCE)
    unavailable = job.last_error if job is not None and job.state == jobs.UNAVAILABLE else None
    if can(deps.actor(user_id), Action.VIEW_ATTENDANCE, role):
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
def handle_value_open(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    ack()
    deps: Deps = context["copbot"]
    user_id = body["user"]["id"]
    try:
        with session_scope(deps.engine) as session:
            q = value.question_for(session, parse_id(_button_value(body)), user_id)
            if q.answered_at is not None:
                raise CopError("You answered this already: thank you.")
            call = session.get(Call, q.call_id)
            view = blocks.value_modal(
                q, call, value.QUESTION[q.stage], value.earlier_answer(session, q)
            )
    except CopError as e:
        deps.later(tell, body.get("response_url", ""), str(e))
        return
    deps.open_view(client, body.get("trigger_id", ""), view)


def handle_value_submission(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    deps: Deps = context["copbot"]
    user_id = body["user"]["id"]
    values = modal_values(body["view"])
    consent = values.get(blocks.CONSENT) or []
    consent = consent if isinstance(consent, list) else [consent]
    try:
        with session_scope(deps.engine) as session:
            saved = value.save_answer(
                session,
                parse_id(_meta(body["view"]).get("question")),
                user_id,
                str(values.get(blocks.ANSWER) or ""),
                evidence_ok=blocks.EVIDENCE_OK in consent,
                may_name=blocks.MAY_NAME in consent,
                now=utcnow(),
            )
    except CopError as e:
        ack(response_action="errors", errors={blocks.ANSWER: str(e)})
        return
    if not saved.first:
        ack(response_action="errors", errors={blocks.ANSWER: "You answered this already."})
        return
    ack()


def handle_value_stop(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    ack()
    deps: Deps = context["copbot"]
    user_id = body["user"]["id"]
    try:
        with session_scope(deps.engine) as session:
            value.question_for(session, parse_id(_button_value(body)), user_id)
            value.stop_asking(session, user_id)
    except CopError as e:
        deps.later(tell, body.get("response_url", ""), str(e))
        return
    deps.later(
        tell,
        body.get("response_url", ""),
        "Done: copbot will not ask you about calls again.",
    )


def handle_value_community(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    ack()
    deps: Deps = context["copbot"]
    user_id = body["user"]["id"]
    try:
        raw = json.loads(_button_value(body) or "{}")
        if not isinstance(raw, dict) or not isinstance(raw.get("on"), bool):
            raise CopError("That button is not one copbot made.")
        with session_scope(deps.engine) as session:
            community = community_allowing(
                deps,
                session,
                parse_id(raw.get("community")),
                user_id,
                Action.SET_VALUE_QUESTIONS,
                "turn the after-call question on or off",
            )
            value.set_community_asks(session, community.id, raw["on"], user_id)
    except (CopError, ValueError) as e:
        log.info("value switch refused for %s: %s", user_id, e)
        return
    from bot.listeners.events import publish_home

    deps.later(publish_home, client, deps, user_id)


def register(app: App) -> None:
    app.action(blocks.ADD_RESOURCE_ACTION)(handle_add_open)
    app.view(blocks.RESOURCE_CALLBACK)(handle_resource_submission)
    app.action(blocks.ATTENDANCE_ACTION)(handle_attendance)
    app.action(blocks.VALUE_ANSWER_ACTION)(handle_value_open)
    app.view(blocks.VALUE_CALLBACK)(handle_value_submission)
    app.action(blocks.VALUE_STOP_ACTION)(handle_value_stop)
    app.action(blocks.VALUE_COMMUNITY_ACTION)(handle_value_community)
