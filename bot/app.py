"""Builds the Bolt app: settings and storage in, listeners registered, nothing else.

Listeners run in the request's own thread (`process_before_response=True`) and answer
with their ack at once; what follows an ack runs on `Deps.background`. The HTTP answer
so goes back the moment the ack is ready instead of on Bolt's next 10 ms poll.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.config import Settings
from bot.deps import Deps
from bot.listeners import register_all
from bot.listeners.events import once_per_event
from bot.slack_client import make_web_client


def build_app(
    settings: Settings,
    *,
    deps: Deps | None = None,
    socket_mode: bool = False,
    client: WebClient | None = None,
) -> App:
    """The copbot Bolt app. Over HTTP every request's signature is verified."""
    deps = deps or Deps.create(settings)
    app = App(
        # the bot token travels in the client (Bolt reads it from there)
        signing_secret=settings.slack_signing_secret if not socket_mode else None,
        request_verification_enabled=not socket_mode,
        client=client or make_web_client(settings),
        process_before_response=True,
        logger=logging.getLogger("copbot.bolt"),
    )

    def inject(context: dict[str, Any], next: Any) -> Any:
        context["copbot"] = deps
        return next()

    app.middleware(inject)
    app.middleware(once_per_event)
    register_all(app)
    return app
