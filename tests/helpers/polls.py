"""Buttons clicked in a poll message, each click its own."""

from __future__ import annotations

import time
import uuid

from bot.blocks import polls as pb


def click_payload(user, action_id: str, value: str, name: str = "act") -> dict:
    """A button click; each its own (Slack gives every click a new trigger_id and
    action_ts, so the replay layer lets it through)."""
    return {
        "type": "block_actions",
        "team": {"id": "T0STANDIN"},
        "user": {"id": user.user_id},
        "api_app_id": "A0COPBOT",
        "trigger_id": f"99.{uuid.uuid4().hex}.trigger",
        "response_url": user.slack.response_url(name),
        "container": {"type": "message", "channel_id": user.channel_id, "message_ts": "1.1"},
        "channel": {"id": user.channel_id},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "value": value,
                "block_id": "b",
                "action_ts": f"{time.time():.6f}{uuid.uuid4().int % 1000:03d}",
            }
        ],
    }


def click(user, action_id: str, value: str, name: str = "act"):
    response = user.interact(click_payload(user, action_id, value, name))
    assert response.status_code == 200, response.text
    return response


def vote(user, poll_id: int, option_id: int):
    return click(user, pb.VOTE_ACTION, f"{poll_id}:{option_id}", name="vote")
