"""The one factory for Slack's WebClient, the bot scopes each Web API method needs, the
check that Slack accepts the bot token (`SlackCheck`), and the few ways copbot speaks
through it: `post_message`, and `respond`/`tell` through a command's response_url.

The client honours `SLACK_API_URL`, retries on HTTP 429 (honouring Retry-After) and on
connection errors, and has a timeout on every request.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from bot.blocks.community import message_for
from bot.config import Settings
from bot.ops import metrics

log = logging.getLogger(__name__)


class CountedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """slack_sdk's 429 handler (waits Retry-After, then tries again), counting every 429
    Slack answers in the metrics, by Web API method, retried or not."""

    def can_retry(self, *, state, request, response=None, error=None) -> bool:
        if response is not None and response.status_code == 429:
            metrics.slack_rate_limited(request.url.rstrip("/").rsplit("/", 1)[-1])
        return super().can_retry(state=state, request=request, response=response, error=error)


# Every Web API method the code calls, with the bot scope it needs (None: no scope).
# A test scans the code for client calls and checks each is listed here and that the
# manifest declares exactly these scopes (plus `commands` for the slash command).
SCOPES_BY_METHOD: dict[str, str | None] = {
    "auth.test": None,
    "chat.delete": "chat:write",
    "chat.getPermalink": None,
    "chat.postMessage": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.update": "chat:write",
    "conversations.info": "channels:read",
    "conversations.join": "channels:join",
    "conversations.members": "channels:read",
    "conversations.open": "im:write",
    "pins.add": "pins:write",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "users.info": "users:read",
    "users.lookupByEmail": "users:read.email",
    "views.open": None,
    "views.publish": None,
    "views.update": None,
}
# app_manifest.yml, the Slack app's manifest at the top of the checkout: the bot scopes it
# asks for (what `copbot doctor` holds the token's scopes against, and what the Slack
# stand-in installs). None when the file is not there (an install without the checkout).
MANIFEST_PATH = Path(__file__).resolve().parent.parent / "app_manifest.yml"


def bot_scopes(path: Path = MANIFEST_PATH) -> tuple[str, ...] | None:
    """The manifest's `oauth_config.scopes.bot`, or None without a readable manifest."""
    try:
        data = yaml.safe_load(path.read_text())
        scopes = data["oauth_config"]["scopes"]["bot"]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return None
    return tuple(str(s) for s in scopes)


# SDK helpers that call several Web API methods
SDK_HELPERS: dict[str, tuple[str, ...]] = {
    "files.upload_v2": ("files.getUploadURLExternal", "files.completeUploadExternal"),
}
# scopes no Web API method of the code needs: the slash command's own
# groups:read: conversations.info and .members on private channels (the 2020 spec names
# the user-token scope conversations:read for both)
EXTRA_SCOPES = ("commands", "groups:read")

REQUEST_TIMEOUT_SECONDS = 10


def make_web_client(settings: Settings, token: str | None = None) -> WebClient:
    """A WebClient for the bot token, pointed at `SLACK_API_URL`, with retries."""
    return WebClient(
        token=token or settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=REQUEST_TIMEOUT_SECONDS,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            CountedRateLimitRetryHandler(max_retry_count=3),
        ],
    )


# auth.test errors that mean the bot token itself is wrong (not that Slack is away)
TOKEN_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)
CHECK_TIMEOUT_SECONDS = 5


class SlackCheck:
    """Whether Slack accepts the bot token: `auth.test`, retried in the background until it
    answers, so copbot starts even when Slack is away and `/healthz` can say why.

    `state` is "ok", "checking" (no answer yet), "unreachable" (no answer from Slack), or
    Slack's error code (e.g. "invalid_auth" for a wrong SLACK_BOT_TOKEN).
    """

    def __init__(
        self,
        settings: Settings,
        first_delay: float = 1.0,
        max_delay: float = 60.0,
        *,
        announce: bool = True,
    ):
        # no retry handlers: the check retries on its own schedule
        self.client = WebClient(
            token=settings.slack_bot_token,
            base_url=settings.slack_api_url,
            timeout=CHECK_TIMEOUT_SECONDS,
        )
        self.api_url = settings.slack_api_url
        self.first_delay = first_delay
        self.announce = announce  # log each change of state
        self.max_delay = max_delay
        self.state = "checking"
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> str:
        """One auth.test; sets and returns the state (logging it when it changes)."""
        try:
            self.client.auth_test()
            state = "ok"
        except SlackApiError as e:
            error = e.response.get("error") if isinstance(e.response.data, dict) else None
            state = error or "unreachable"
        except Exception:  # noqa: BLE001 - connection refused, DNS, timeout: Slack is away
            state = "unreachable"
        with self._lock:
            before, self.state = self.state, state
        if state != before and self.announce:
            if state == "ok":
                log.info("Slack accepts the bot token")
            elif state in TOKEN_ERRORS:
                log.error("Slack refuses SLACK_BOT_TOKEN (%s); copbot keeps checking", state)
            else:
                log.warning("Slack is %s at %s; copbot keeps trying", state, self.api_url)
        return state

    def current(self) -> str:
        """The state, checking now if no check has answered yet."""
        return self.check() if self.state == "checking" else self.state

    def start(self) -> SlackCheck:
        """Check in a background thread until Slack accepts the token."""
        self._thread = threading.Thread(target=self._run, name="copbot-slack-check", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        delay = self.first_delay
        while not self._stop.is_set() and self.check() != "ok":
            self._stop.wait(delay)
            delay = min(delay * 2, self.max_delay)


def post_message(client: WebClient, channel: str, payload: dict) -> str | None:
    """Post a message; returns Slack's error code on failure (logged), None on success."""
    try:
        client.chat_postMessage(channel=channel, **payload)
        return None
    except SlackApiError as e:
        error = e.response.get("error") or "unknown_error"
        log.warning("posting to %s failed: %s", channel, error)
        return error


def respond(response_url: str, payload: dict[str, Any]) -> None:
    """Answer a command again through its response_url (ephemeral unless it says not)."""
    if not response_url:
        return
    try:
        WebhookClient(response_url, timeout=10).send_dict({"response_type": "ephemeral", **payload})
    except Exception as e:  # noqa: BLE001 - a lost follow-up must not break the caller
        log.warning("response_url answer failed: %s", type(e).__name__)


def tell(response_url: str, text: str, *, replace: bool = False) -> None:
    """A short ephemeral answer through a response_url, as a new message unless `replace`."""
    respond(response_url, message_for(text) | {"replace_original": replace})
