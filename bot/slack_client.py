"""The one factory for Slack's WebClient, and the bot scopes each Web API method needs.

The client honours `SLACK_API_URL`, retries on HTTP 429 (honouring Retry-After) and on
connection errors, and has a timeout on every request.
"""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot.config import Settings

# Every Web API method the code calls, with the bot scope it needs (None: no scope).
# A test scans the code for client calls and checks each is listed here and that the
# manifest declares exactly these scopes (plus `commands` for the slash command).
SCOPES_BY_METHOD: dict[str, str | None] = {
    "auth.test": None,
    "chat.delete": "chat:write",
    "chat.postMessage": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.update": "chat:write",
    "conversations.join": "channels:join",
    "conversations.open": "im:write",
    "pins.add": "pins:write",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "users.info": "users:read",
    "views.open": None,
    "views.publish": None,
    "views.update": None,
}
# SDK helpers that call several Web API methods
SDK_HELPERS: dict[str, tuple[str, ...]] = {
    "files.upload_v2": ("files.getUploadURLExternal", "files.completeUploadExternal"),
}
# users.info returns profile.email only with this scope; copbot stores it when known.
EXTRA_SCOPES = ("commands", "users:read.email")

REQUEST_TIMEOUT_SECONDS = 10


def make_web_client(settings: Settings, token: str | None = None) -> WebClient:
    """A WebClient for the bot token, pointed at `SLACK_API_URL`, with retries."""
    return WebClient(
        token=token or settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=REQUEST_TIMEOUT_SECONDS,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
        ],
    )
