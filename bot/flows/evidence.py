"""After the "Save as evidence" shortcut is acked: store the message in its community's
evidence log, then its permalink, and tell the person."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.services import communities as svc
from bot.services import evidence as log_
from bot.services.permissions import Action, can, who_can
from bot.slack_client import tell
from bot.text import plural
from storage.db import session_scope

log = logging.getLogger(__name__)


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
