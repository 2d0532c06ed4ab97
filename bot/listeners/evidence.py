"""The evidence log: the message shortcut "Save as evidence", `/cop evidence [note]`,
`/cop evidence list`, and leaders' Remove buttons."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import evidence as blocks
from bot.blocks import plural
from bot.deps import Deps
from bot.listeners.common import CommandRequest, object_id
from bot.services import CopError
from bot.services import communities as svc
from bot.services import evidence as log_
from bot.services.permissions import Action, can, who_can
from bot.slack_client import respond, tell
from storage.db import session_scope
from storage.models import Community, Evidence

log = logging.getLogger(__name__)


def _list_payload(deps: Deps, session, community: Community, user_id: str) -> dict[str, Any]:
    role = svc.role_of(session, community.id, user_id)
    return blocks.evidence_list(
        community,
        log_.items(session, community.id),
        log_.count(session, community.id),
        may_remove=can(deps.actor(user_id), Action.MANAGE_EVIDENCE, role),
    )


def cmd_evidence(req: CommandRequest) -> None:
    community = req.community()
    role = svc.role_of(req.session, community.id, req.user_id)
    words = req.args.split()
    sub = words[0].lower() if words else ""
    if sub in ("", "list"):
        req.reply(_list_payload(req.deps, req.session, community, req.user_id))
        return
    if sub == "remove" and len(words) == 2:
        if not can(req.actor, Action.MANAGE_EVIDENCE, role):
            raise CopError(f"Only {who_can(Action.MANAGE_EVIDENCE)} can remove evidence.")
        item_id = object_id(words[1])
        if item_id is None or not log_.remove(req.session, community.id, item_id):
            raise CopError(f"*{community.name}*'s evidence log has no item {words[1][:12]}.")
        req.say_ephemeral("Removed from the evidence log.")
        return
    if not can(req.actor, Action.ADD_EVIDENCE, role):
        raise CopError(
            f"Only {who_can(Action.ADD_EVIDENCE)} can add to *{community.name}*'s evidence log; "
            "`/cop join` first."
        )
    log_.add_note(req.session, community.id, req.args, req.user_id)
    req.say_ephemeral(
        f"Added your note to *{community.name}*'s evidence log "
        f"({plural(log_.count(req.session, community.id), 'item')}). `/cop evidence` lists them."
    )


def handle_save_shortcut(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    ack()
    deps: Deps = context["copbot"]
    deps.later(save_message, client, deps, body)


def save_message(client: WebClient, deps: Deps, body: dict[str, Any]) -> None:
    """After the ack: store the message, then its permalink; answer the person."""
    user_id = (body.get("user") or {}).get("id", "")
    channel = (body.get("channel") or {}).get("id", "")
    team_id = (body.get("team") or {}).get("id", "")
    msg = body.get("message") or {}
    ts = msg.get("ts") or body.get("message_ts") or ""
    answer = body.get("response_url") or ""
    with session_scope(deps.engine) as session:
        community = svc.by_channel(session, team_id, channel)
        if community is None:
            tell(answer, "This channel has no community, so there is no evidence log here.")
            return
        role = svc.role_of(session, community.id, user_id)
        if not can(deps.actor(user_id), Action.ADD_EVIDENCE, role):
            tell(
                answer,
                f"Only {who_can(Action.ADD_EVIDENCE)} can add to {community.name}'s "
                "evidence log; `/cop join` first.",
            )
            return
        if not ts:
            tell(answer, "Slack did not say which message this was; nothing was saved.")
            return
        item, new = log_.add_message(
            session,
            community.id,
            channel=channel,
            ts=ts,
            text=msg.get("text", ""),
            author=msg.get("user"),
            added_by=user_id,
        )
        item_id, name = item.id, community.name
        total = log_.count(session, community.id)
    if not new:
        tell(answer, f"That message is already in {name}'s evidence log.")
        return
    try:
        permalink = client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
    except SlackApiError as e:
        log.info("chat.getPermalink: %s", e.response.get("error"))
        permalink = None
    if permalink:
        with session_scope(deps.engine) as session:
            log_.set_permalink(session, item_id, permalink)
    tell(
        answer,
        f"Saved to {name}'s evidence log ({plural(total, 'item')}). `/cop evidence` lists them.",
    )


def handle_remove(ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]):
    ack()
    deps: Deps = context["copbot"]
    user_id = body["user"]["id"]
    value = (body.get("actions") or [{}])[0].get("value", "")
    answer = body.get("response_url") or ""
    item_id = object_id(value)
    if item_id is None:
        tell(answer, "That button is out of date; `/cop evidence` lists the log again.")
        return
    with session_scope(deps.engine) as session:
        item = session.get(Evidence, item_id)
        if item is None:
            tell(answer, "That item was already removed.")
            return
        community = session.get(Community, item.community_id)
        role = svc.role_of(session, community.id, user_id)
        if not can(deps.actor(user_id), Action.MANAGE_EVIDENCE, role):
            tell(answer, f"Only {who_can(Action.MANAGE_EVIDENCE)} can remove evidence.")
            return
        log_.remove(session, community.id, item.id)
        payload = _list_payload(deps, session, community, user_id)
    deps.later(respond, answer, {**payload, "replace_original": True})


def register(app: App) -> None:
    app.shortcut(blocks.SHORTCUT_CALLBACK)(handle_save_shortcut)
    app.action(blocks.REMOVE_ACTION)(handle_remove)
