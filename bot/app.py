"""Builds the Bolt app: settings and storage in, listeners registered, nothing else.

Listeners run in the request's own thread (`process_before_response=True`) and answer
with their ack at once; what follows an ack runs on `Deps.background`. The HTTP answer
so goes back the moment the ack is ready instead of on Bolt's next 10 ms poll.

Every request, whatever its fate, gets one log line (`bot.listeners.errors`); a failing
listener answers a short apology instead of HTTP 500; a replayed interactive request
answers as its first delivery did and runs nothing (`bot.listeners.replay`).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot.config import Settings
from bot.deps import Deps
from bot.listeners import register_all
from bot.listeners.errors import log_request, on_error
from bot.listeners.events import once_per_event
from bot.listeners.replay import remember, replay_guard
from bot.slack_client import make_web_client

# Bolt reads SLACK_BOT_TOKEN from the environment on its own and then warns that the
# client's token wins: it is the same token, so the warning says nothing
_TOKEN_SKIPPED = "As you gave `client` as well, `token` will be unused."


class _NoTokenSkippedWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != _TOKEN_SKIPPED


class CopbotApp(App):
    """Bolt's App, with the answer of each request remembered for replays and logged."""

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        started = time.monotonic()
        response = super().dispatch(req)
        remember(req, response)
        log_request(req, response, (time.monotonic() - started) * 1000)
        return response


def build_app(
    settings: Settings,
    *,
    deps: Deps | None = None,
    socket_mode: bool = False,
    client: WebClient | None = None,
) -> App:
    """The copbot Bolt app. Over HTTP every request's signature is verified. The bot token
    is not checked here (Slack may be away at start): `bot.slack_client.SlackCheck` does."""
    deps = deps or Deps.create(settings)
    logger = logging.getLogger("copbot.bolt")
    quiet = _NoTokenSkippedWarning()
    logger.addFilter(quiet)
    try:
        app = CopbotApp(
            # the bot token travels in the client (Bolt reads it from there)
            signing_secret=settings.slack_signing_secret if not socket_mode else None,
            request_verification_enabled=not socket_mode,
            token_verification_enabled=False,
            client=client or make_web_client(settings),
            process_before_response=True,
            logger=logger,
        )
    finally:
        logger.removeFilter(quiet)

    def inject(context: dict[str, Any], next: Any) -> Any:
        context["copbot"] = deps
        return next()

    app.middleware(inject)
    app.middleware(once_per_event)
    app.middleware(replay_guard)
    app.error(on_error)
    register_all(app)
    return app
