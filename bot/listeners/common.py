"""Helpers shared by listeners: argument parsing and the profile cache refresh."""

from __future__ import annotations

import logging
import re

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.services import people
from storage.db import session_scope

log = logging.getLogger(__name__)

USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
CHANNEL_MENTION = re.compile(r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>")


def parse_mentions(text: str) -> tuple[list[str], str]:
    """User ids mentioned in `text`, and whatever else was there (stripped)."""
    ids = USER_MENTION.findall(text)
    rest = USER_MENTION.sub(" ", text).strip()
    return ids, rest


def parse_channel(text: str) -> tuple[str | None, str]:
    match = CHANNEL_MENTION.search(text)
    if not match:
        return None, text.strip()
    return match.group(1), CHANNEL_MENTION.sub(" ", text, count=1).strip()


def refresh_profiles(client: WebClient, deps: Deps, user_ids: list[str]) -> None:
    """Fetch users.info for each user whose cached profile is missing or a day old."""
    for uid in dict.fromkeys(user_ids):
        with session_scope(deps.engine) as session:
            if not people.needs_profile(session, uid):
                continue
        try:
            response = client.users_info(user=uid)
        except SlackApiError as e:
            log.warning("users.info for %s failed: %s", uid, e.response.get("error"))
            continue
        with session_scope(deps.engine) as session:
            people.store_profile(session, response["user"])


def post_message(client: WebClient, channel: str, payload: dict) -> str | None:
    """Post a message; returns Slack's error code on failure (logged), None on success."""
    try:
        client.chat_postMessage(channel=channel, **payload)
        return None
    except SlackApiError as e:
        error = e.response.get("error") or "unknown_error"
        log.warning("posting to %s failed: %s", channel, error)
        return error
