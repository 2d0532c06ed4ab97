"""Announcements: `/cop announce` (staff only), its form and preview, and the Edit,
Delete (or Cancel) and Retry buttons of staff's App Home. Posting every copy happens
after the ack (`bot.flows.announcements`)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy.exc import IntegrityError

from bot.blocks import announcements as blocks
from bot.blocks import plural
from bot.blocks.community import message_for
from bot.deps import Deps
from bot.flows import announcements as flows
from bot.listeners.common import CommandRequest, modal_values
from bot.listeners.events import publish_home
from bot.services import CopError, people
from bot.services import announcements as rules
from bot.services import communities as svc
from bot.services.ids import object_id
from bot.services.permissions import Action, can, who_can
from bot.slack_client import post_message
from storage.db import session_scope
from storage.models import Community, utcnow

log = logging.getLogger(__name__)

REFUSED = f"Only {who_can(Action.ANNOUNCE)} can post announcements; nothing was posted."


def _staff(deps: Deps, user_id: str) -> None:
    if not can(deps.actor(user_id), Action.ANNOUNCE):
        raise CopError(REFUSED)


def _choices(session, team_id: str) -> list[tuple[int, str]]:
    return [(c.id, c.name) for c in svc.all_by_name(session) if c.team_id == team_id]


def cmd_announce(req: CommandRequest) -> None:
    _staff(req.deps, req.user_id)
    if req.args:
        raise CopError("`/cop announce` opens the form; write the text there.")
    here = svc.by_channel(req.session, req.team_id, req.channel_id)
    view = blocks.announce_modal(
        _choices(req.session, req.team_id), picked=[here.id] if here else None
    )
    req.ack()
    req.deps.open_view(req.client, req.trigger_id, view)


# ---- the form and its preview ------------------------------------------------------------------
def _zone(session, user_id: str, deps: Deps) -> str:
    person = people.get(session, user_id)
    return (person.tz if person and person.tz else None) or deps.settings.timezone


def handle_create(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    deps: Deps = context["copbot"]
    view = body["view"]
    user_id = body["user"]["id"]
    team_id = (body.get("team") or {}).get("id") or view.get("team_id", "")
    values = modal_values(view)
    try:
        _staff(deps, user_id)
        meta = json.loads(view.get("private_metadata") or "{}")
        meta = meta if isinstance(meta, dict) else {}
        editing = None
        if meta.get("announcement"):
            editing = object_id(meta["announcement"])
            if editing is None:
                raise ValueError("not an announcement id")
        send_at = values.get(rules.SEND_AT)
        send_at = datetime.fromtimestamp(int(send_at), UTC) if send_at else None
    except CopError as e:
        ack(response_action="errors", errors={rules.TEXT: str(e)})
        return
    except (ValueError, TypeError, OverflowError):
        ack(response_action="errors", errors={rules.TEXT: "The form came back damaged."})
        return
    for attempt in (1, 2):  # two first submissions at once: one insert wins, then update
        try:
            return _save_form(ack, client, deps, view, values, editing, user_id, team_id, send_at)
        except IntegrityError:
            if attempt == 2:
                raise


def _save_form(ack, client, deps, view, values, editing, user_id, team_id, send_at) -> None:
    """Store the form (a new draft, or an edit) and answer: the preview, or errors."""
    mention = values.get(rules.MENTION) or "none"
    mention = "" if mention == "none" else mention
    pin = "pin" in (values.get(rules.OPTIONS) or [])
    try:
        with session_scope(deps.engine) as session:
            if editing is not None and rules.TARGETS not in values and rules.AREA not in values:
                communities = _sent_to(session, editing)  # a sent one keeps its channels
            else:
                communities = rules.targets(
                    session, team_id, values.get(rules.TARGETS) or [], values.get(rules.AREA)
                )
            draft, errors = rules.validate(
                values.get(rules.TEXT) or "", communities, mention, pin, send_at, utcnow()
            )
            if errors:
                ack(response_action="errors", errors=errors)
                return
            if editing is not None:
                state = rules.edit(session, editing, draft, utcnow())
            else:
                zone = _zone(session, user_id, deps)
                source = f"view:{view.get('id')}"
                announcement = rules.draft_from_form(session, team_id, draft, user_id, zone, source)
                names = [c.name for c in communities]
                preview = blocks.preview_view(announcement, names)
    except CopError as e:
        ack(response_action="errors", errors={rules.TARGETS: str(e)})
        return
    if editing is None:
        ack(response_action="push", view=preview)
        return
    ack()
    deps.later(_after_edit, client, deps, editing, user_id, state)


def _sent_to(session, announcement_id: int) -> list[Community]:
    return [session.get(Community, c.community_id) for c in rules.copies(session, announcement_id)]


def _after_edit(client: WebClient, deps: Deps, announcement_id: int, user_id: str, state: str):
    if state == "scheduled":
        text = "Saved: the scheduled announcement goes out with your changes."
    else:
        flows.update_copies(client, deps, announcement_id)
        line, _ = flows.summary(deps, announcement_id)
        text = f"Saved: every posted copy now shows your changes ({line})."
    post_message(client, user_id, message_for(text))
    publish_home(client, deps, user_id)


def handle_preview(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    deps: Deps = context["copbot"]
    user_id = body["user"]["id"]
    try:
        _staff(deps, user_id)
        meta = json.loads(body["view"].get("private_metadata") or "{}")
        announcement_id = int(meta["announcement"])
        now = utcnow()
        with session_scope(deps.engine) as session:
            state = rules.confirm(session, announcement_id, now)
            send_at = rules.load(session, announcement_id).send_at
    except CopError as e:
        ack()
        deps.later(post_message, client, user_id, message_for(str(e)))
        return
    except (ValueError, TypeError, KeyError):
        ack()
        deps.later(post_message, client, user_id, message_for("That form is not one copbot knows."))
        return
    ack(response_action="clear")
    if state == "sending":
        deps.later(flows.send, client, deps, announcement_id, now)
    elif state == "scheduled":
        text = (
            f"Scheduled: it goes out {blocks.when(send_at)}. Change or cancel it from "
            "copbot's Home tab until then."
        )
        deps.later(post_message, client, user_id, message_for(text))


# ---- App Home buttons --------------------------------------------------------------------------
def _announcement_id(deps: Deps, client: WebClient, body: dict[str, Any]) -> int | None:
    """The button's announcement, if the person may manage it; else they are told."""
    user_id = body["user"]["id"]
    value = str((body.get("actions") or [{}])[0].get("value", ""))
    try:
        _staff(deps, user_id)
        announcement_id = object_id(value)
        if announcement_id is None:
            raise CopError("That button is not an announcement copbot knows.")
        with session_scope(deps.engine) as session:
            return rules.load(session, announcement_id).id
    except CopError as e:
        deps.later(post_message, client, user_id, message_for(str(e)))
        return None


def _checked(ack: Ack, body: dict[str, Any], client: WebClient, deps: Deps) -> int | None:
    ack()
    return _announcement_id(deps, client, body)


def handle_edit(ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]):
    deps: Deps = context["copbot"]
    announcement_id = _checked(ack, body, client, deps)
    if announcement_id is None:
        return
    team_id = (body.get("team") or {}).get("id", "")
    with session_scope(deps.engine) as session:
        announcement = rules.load(session, announcement_id)
        picked = [c.community_id for c in rules.copies(session, announcement_id)]
        view = blocks.announce_modal(_choices(session, team_id), announcement, picked)
    deps.open_view(client, body.get("trigger_id", ""), view)


def handle_delete(ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]):
    deps: Deps = context["copbot"]
    announcement_id = _checked(ack, body, client, deps)
    if announcement_id is None:
        return
    user_id = body["user"]["id"]
    with session_scope(deps.engine) as session:
        state = rules.cancel_or_delete(session, announcement_id)

    def after() -> None:
        if state == "deleted":
            gone = flows.delete_copies(client, deps, announcement_id)
            text = f"Deleted the announcement from {plural(gone, 'channel')}."
        elif state == "cancelled":
            text = "Cancelled: the scheduled announcement will not go out."
        else:
            text = "That announcement was deleted or cancelled already (or is going out now)."
        post_message(client, user_id, message_for(text))
        publish_home(client, deps, user_id)

    deps.later(after)


def handle_retry(ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]):
    deps: Deps = context["copbot"]
    announcement_id = _checked(ack, body, client, deps)
    if announcement_id is None:
        return
    user_id = body["user"]["id"]

    def after() -> None:
        flows.retry(client, deps, announcement_id)
        publish_home(client, deps, user_id)

    deps.later(after)


def register(app: App) -> None:
    app.view(blocks.CREATE_CALLBACK)(handle_create)
    app.view(blocks.PREVIEW_CALLBACK)(handle_preview)
    app.action(blocks.EDIT_ACTION)(handle_edit)
    app.action(blocks.DELETE_ACTION)(handle_delete)
    app.action(blocks.RETRY_ACTION)(handle_retry)
