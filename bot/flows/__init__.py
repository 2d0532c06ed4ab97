"""Work that follows an ack: posting, fanning out and updating messages."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


def post_message(client: WebClient, channel: str, payload: dict[str, Any]) -> str | None:
    """Post a message; Slack's error code on failure (logged), None on success."""
    try:
        client.chat_postMessage(channel=channel, **payload)
        return None
    except SlackApiError as e:
        error = e.response.get("error") or "unknown_error"
        log.warning("posting to %s failed: %s", channel, error)
        return error
