"""Builds the Bolt app: settings and storage in, listeners registered, nothing else.

Listeners run in the request's own thread (`process_before_response=True`) and answer
with their ack at once; what follows an ack runs on `Deps.background`. The HTTP answer
so goes back the moment the ack is ready instead of on Bolt's next 10 ms poll.

Every request, whatever its fate, gets one log line (`bot.listeners.errors`); a failing
listener answers a short apology instead of HTTP 500; a replayed interactive request
answers as its first delivery did and runs nothing (`bot.listeners.replay`). Over HTTP
the answer is stored for replays once it is written to Slack (`after_the_answer`): a
replay meanwhile waits for it, as it waits for a first delivery still running.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.logger.messages import (
    warning_client_prioritized_and_token_skipped,
    warning_token_skipped,
)
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot.config import Settings
from bot.deps import Deps
from bot.listeners import register_all
from bot.listeners.errors import log_request, on_error, request_kind
from bot.listeners.replay import once_per_event, remember, replay_guard
from bot.ops import logs
from bot.slack_client import make_web_client

# Bolt reads SLACK_BOT_TOKEN from the environment on its own and then warns that the
# client's token, or `authorize`, wins: it is the same token, so the warnings say nothing
_TOKEN_WARNINGS = frozenset(
    {warning_client_prioritized_and_token_skipped(), warning_token_skipped()}
)


class _NoTokenWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in _TOKEN_WARNINGS


def _authorize_with(token: str | None):
    """Bolt's authorize: the one workspace's bot token, with no auth.test on the request
    path (so requests are answered while Slack's Web API is away)."""

    def authorize(
        enterprise_id: str | None, team_id: str | None, user_id: str | None
    ) -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=enterprise_id, team_id=team_id, bot_token=token, user_id=user_id
        )

    return authorize


_after = threading.local()


@contextmanager
def after_the_answer() -> Iterator[list[Callable[[], None]]]:
    """Within this block (the HTTP server's handling of one request), storing a claimed
    request's answer for its replays is collected in the list instead of done before
    the answer: the server does it once the answer is written to Slack. Elsewhere
    (Socket Mode, tests calling the app) it is done at once."""
    pending: list[Callable[[], None]] = []
    _after.pending = pending
    try:
        yield pending
    finally:
        _after.pending = None


class CopbotApp(App):
    """Bolt's App, with the answer of each request remembered for replays and logged."""

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        started = time.monotonic()
        stamp = req.headers.get("x-slack-request-timestamp") or [None]
        with logs.request_scope(request_kind(req.body), logs.new_request_id(stamp[0])):
            response = super().dispatch(req)
            log_request(req, response, (time.monotonic() - started) * 1000)
        pending = getattr(_after, "pending", None)
        if pending is None:
            remember(req, response)
        else:
            pending.append(lambda: remember(req, response))
        return response


def build_app(
    settings: Settings,
    *,
    deps: Deps | None = None,
    socket_mode: bool = False,
    client: WebClient | None = None,
) -> App:
    """The copbot Bolt app. Over HTTP every request's signature is verified. Nothing here
    calls Slack (it may be away at start): `bot.slack_client.SlackCheck` checks the token."""
    deps = deps or Deps.create(settings)
    logger = logging.getLogger("copbot.bolt")
    quiet = _NoTokenWarnings()
    logger.addFilter(quiet)
    client = client or make_web_client(settings)
    try:
        app = CopbotApp(
            # the bot token travels in the client and in each request's authorization
            signing_secret=settings.slack_signing_secret if not socket_mode else None,
            request_verification_enabled=not socket_mode,
            token_verification_enabled=False,
            authorize=_authorize_with(client.token),
            client=client,
            process_before_response=True,
            logger=logger,
        )
    finally:
        logger.removeFilter(quiet)

    def inject(context: dict[str, Any], next: Any) -> Any:
        # Bolt passes context keys to listeners by name: a listener declares `deps: Deps`
        context["deps"] = deps
        return next()

    app.middleware(inject)
    app.middleware(once_per_event)
    app.middleware(replay_guard)
    app.error(on_error)
    register_all(app)
    return app
