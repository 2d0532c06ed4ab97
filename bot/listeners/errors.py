"""What every request leaves behind whatever happens: one structured log line, and, when a
listener fails (a malformed payload, a bug), a short answer instead of HTTP 500.

`describe(body)` names a request by kind, command/action/callback id and user, never by
anything a person typed; `log_request` writes the line; `on_error` is the app's global
error handler.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.request import BoltRequest

from bot.blocks.help import NAMES
from bot.blocks.polls import VOTE_ACTION, WITHDRAW_ACTION
from bot.ops import logs, metrics
from bot.slack_client import tell

log = logging.getLogger("copbot.requests")

SORRY = (
    "Something went wrong on my side with that. Please try again; if it happens again, "
    "tell the people who run copbot."
)
_VOTES = (VOTE_ACTION, WITHDRAW_ACTION)
_SAFE = re.compile(r"[^A-Za-z0-9_.:/#-]")


def _clean(value: Any, limit: int = 60) -> str:
    """An id from a payload, fit for a log line (payloads can be forged)."""
    text = _SAFE.sub("?", str(value or ""))
    return text[:limit] or "-"


def describe(body: Any) -> tuple[str, str, str]:
    """(kind, command/action/callback id, user id) of a request's body."""
    body = body if isinstance(body, dict) else {}
    kind = body.get("type")
    user = body.get("user")
    user_id = user.get("id") if isinstance(user, dict) else body.get("user_id")
    if kind is None and body.get("command"):
        word = str(body.get("text") or "").split(maxsplit=1)
        sub = word[0].lower() if word and word[0].lower() in NAMES else ""
        return "command", f"{_clean(body['command'], 30)} {sub}".strip(), _clean(user_id)
    if kind == "block_actions":
        actions = body.get("actions")
        first = actions[0] if isinstance(actions, list) and actions else {}
        what = first.get("action_id") if isinstance(first, dict) else None
        if isinstance(what, str) and what.startswith(_VOTES):
            user_id = None  # a voter is named nowhere: anonymous polls stay anonymous
        return kind, _clean(what), _clean(user_id)
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        return (
            kind,
            _clean(view.get("callback_id") if isinstance(view, dict) else None),
            _clean(user_id),
        )
    if kind == "event_callback":
        event = body.get("event")
        event = event if isinstance(event, dict) else {}
        return "event", _clean(event.get("type")), _clean(event.get("user"))
    return _clean(kind or "unknown", 32), "-", _clean(user_id)


# the kind of a request as logs and metrics name it
_KINDS = {
    "command": "command",
    "block_actions": "action",
    "view_submission": "view",
    "view_closed": "view",
    "event": "event",
    "shortcut": "shortcut",
    "message_action": "shortcut",
}


def request_kind(body: Any) -> str:
    """command, action, view, event, shortcut or other."""
    return _KINDS.get(describe(body)[0], "other")


def outcome_of(request: BoltRequest, response: BoltResponse) -> str:
    """ok, replay, error (a listener failed and was answered with an apology) or http_N."""
    if request.context.get("copbot_replay"):
        return "replay"
    if logs.current().get("outcome") == "error":
        return "error"
    return "ok" if response.status == 200 else f"http_{response.status}"


def log_request(request: BoltRequest, response: BoltResponse, ms: float) -> None:
    """One line per request at INFO: kind, id, user, status, time; no text, no tokens.
    In JSON the line also carries the request id, kind, community, outcome and ms."""
    kind, what, user = describe(request.body)
    outcome = outcome_of(request, response)
    logs.note(outcome=outcome, ms=round(ms))
    metrics.request_done(request_kind(request.body), outcome, ms / 1000)
    replay = " replay=yes" if outcome == "replay" else ""
    log.info(
        "request kind=%s id=%s user=%s status=%s ms=%d%s",
        kind,
        what,
        user,
        response.status,
        ms,
        replay,
    )


def sorry_view() -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Something went wrong"},
        "close": {"type": "plain_text", "text": "Back"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": SORRY}}],
    }


def on_error(error: Exception, body: Any, request: BoltRequest) -> BoltResponse:
    """The global error handler: log what failed (not what was typed) and answer 200."""
    kind, what, user = describe(body)
    logs.note(outcome="error")
    log.error("request failed: kind=%s id=%s user=%s", kind, what, user, exc_info=error)
    if kind == "view_submission":
        # pushed on top of the form, so what the person typed is still there underneath
        return BoltResponse(status=200, body={"response_action": "push", "view": sorry_view()})
    if kind == "block_actions":
        url = body.get("response_url") if isinstance(body, dict) else None
        deps = request.context.get("deps")
        if deps is not None and isinstance(url, str) and url.startswith(("https://", "http://")):
            # a signed request's response_url: the one way to tell the person who clicked
            deps.later(tell, url, SORRY)
        return BoltResponse(status=200, body="")
    if kind == "command":
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": SORRY})
    return BoltResponse(status=200, body="")
