"""Requests as Slack sends them to an app: slash commands, view submissions, events,
each signed with the app's signing secret. Used by the tests, the benchmarks and the
local stand-in; the field names follow Slack's published payload samples.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

from sandbox.slack_standin import TEAM_ID

_ids = itertools.count(1)


def signature(secret: str, timestamp: str, body: str) -> str:
    """Slack's v0 signature: HMAC-SHA256 of `v0:{timestamp}:{body}`, hex, prefixed `v0=`."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str,
    body: str,
    *,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature(secret, ts, body),
    }


def slash_command(*args: Any, **kwargs: Any) -> str:
    """A slash command as the form-encoded body Slack POSTs over HTTP."""
    return urlencode(slash_command_fields(*args, **kwargs))


def slash_command_fields(
    text: str,
    *,
    user_id: str,
    channel_id: str,
    team_id: str = TEAM_ID,
    response_url: str = "http://127.0.0.1:9/hooks/none",
    command: str = "/cop",
) -> dict[str, str]:
    """A slash command's fields (the payload of a Socket Mode slash_commands envelope)."""
    n = next(_ids)
    return dict(
        {
            "token": "unused-verification-token",
            "team_id": team_id,
            "team_domain": "standin",
            "channel_id": channel_id,
            "channel_name": "community",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0COPBOT",
            "response_url": response_url,
            "trigger_id": f"{n}.{n}.trigger{n:06d}",
        }
    )


def input_value(kind: str, value: Any) -> dict[str, Any]:
    """One input's entry in `view.state.values`, as Slack sends it."""
    if kind == "plain_text_input":
        return {"type": kind, "value": value}
    if kind == "conversations_select":
        return {"type": kind, "selected_conversation": value}
    if kind == "users_select":
        return {"type": kind, "selected_user": value}
    if kind == "datepicker":
        return {"type": kind, "selected_date": value}
    if kind == "timepicker":
        return {"type": kind, "selected_time": value}
    if kind in ("number_input", "url_text_input"):
        return {"type": kind, "value": value}
    if kind == "radio_buttons":
        return {
            "type": kind,
            "selected_option": {"text": {"type": "plain_text", "text": value}, "value": value},
        }
    if kind == "checkboxes":
        return {
            "type": kind,
            "selected_options": [
                {"text": {"type": "plain_text", "text": v}, "value": v} for v in value
            ],
        }
    raise ValueError(f"unknown input kind {kind}")


def _interaction(kind: str, user_id: str, team_id: str, trigger_id: str) -> dict[str, Any]:
    """The fields an interaction payload opens with: its type, who, where, which app."""
    return {
        "type": kind,
        "team": {"id": team_id, "domain": "standin"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": team_id},
        "api_app_id": "A0COPBOT",
        "trigger_id": trigger_id,
    }


def view_submission(*args: Any, **kwargs: Any) -> str:
    """A view submission as the form-encoded `payload=` body Slack POSTs over HTTP."""
    return urlencode({"payload": json.dumps(view_submission_payload(*args, **kwargs))})


def view_submission_payload(
    callback_id: str,
    values: dict[str, dict[str, Any]],
    *,
    user_id: str,
    team_id: str = TEAM_ID,
    private_metadata: str = "",
    view_id: str = "V0000001",
    view_hash: str | None = None,
) -> dict[str, Any]:
    """`values` maps block_id -> {action_id: input_value(...)}. Each payload gets a hash of
    its own unless `view_hash` is given (Slack gives a view a new hash on each update)."""
    return {
        **_interaction("view_submission", user_id, team_id, f"{next(_ids)}.trigger"),
        "view": {
            "id": view_id,
            "team_id": team_id,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "state": {"values": values},
            "hash": view_hash or f"{next(_ids)}.hash",
        },
    }


def event_callback(
    event: dict[str, Any], *, event_id: str | None = None, team_id: str = TEAM_ID
) -> str:
    return json.dumps(
        {
            "token": "unused-verification-token",
            "team_id": team_id,
            "api_app_id": "A0COPBOT",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_ids):08d}",
            "event_time": int(time.time()),
        }
    )


def block_action_payload(
    action_id: str,
    value: str,
    *,
    user_id: str,
    view: dict[str, Any],
    state_values: dict[str, dict[str, Any]],
    team_id: str = TEAM_ID,
    view_id: str = "V0000001",
    action_ts: str | None = None,
) -> dict[str, Any]:
    """A button clicked in a modal: Slack sends the modal with its current input state."""
    return {
        **_interaction("block_actions", user_id, team_id, f"{next(_ids)}.trigger"),
        "container": {"type": "view", "view_id": view_id},
        "view": {
            **view,
            "id": view_id,
            "team_id": team_id,
            "hash": f"{next(_ids)}.hash",
            "state": {"values": state_values},
        },
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "plan_nav",
                "value": value,
                "action_ts": action_ts or f"{time.time():.6f}",
            }
        ],
    }


def message_click_payload(
    action_id: str,
    value: str,
    *,
    user_id: str,
    channel_id: str,
    response_url: str = "http://127.0.0.1:9/hooks/none",
    message_ts: str = "1.1",
    block_id: str = "b",
    team_id: str = TEAM_ID,
) -> dict[str, Any]:
    """A button clicked in a channel message. Like Slack, each click has its own
    trigger_id and action_ts (the replay layer rightly answers a repeated one without
    acting on it again)."""
    n = next(_ids)
    return {
        **_interaction("block_actions", user_id, team_id, f"{n}.{n}.trigger"),
        "response_url": response_url,
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "channel": {"id": channel_id},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "action_ts": f"{int(time.time())}.{n:06d}",
            }
        ],
    }


def interactive(payload: dict[str, Any]) -> str:
    """Any interactive payload as the form-encoded body Slack POSTs over HTTP."""
    return urlencode({"payload": json.dumps(payload)})
