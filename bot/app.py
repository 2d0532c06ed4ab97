"""Builds the Bolt app: settings and storage in, listeners registered, nothing else."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.config import Settings
from bot.deps import Deps
from bot.listeners import register_all
from bot.listeners.events import once_per_event
from bot.slack_client import make_web_client
from storage.db import get_engine


class ListenerExecutor(ThreadPoolExecutor):
    """Runs listeners (and the work they do after their ack); knows when it is idle."""

    def __init__(self, max_workers: int = 16):
        super().__init__(max_workers=max_workers, thread_name_prefix="copbot-listener")
        self._pending = 0
        self._idle = threading.Condition()

    def submit(self, fn, /, *args, **kwargs) -> Future:
        with self._idle:
            self._pending += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no listener is running; False if that took longer than `timeout`."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)


def build_app(
    settings: Settings, *, socket_mode: bool = False, client: WebClient | None = None
) -> App:
    """The copbot Bolt app. Over HTTP every request's signature is verified.

    Its listener executor, which knows when all work is done, is `app.copbot_executor`.
    """
    deps = Deps(settings=settings, engine=get_engine(settings.database_url))
    executor = ListenerExecutor()
    app = App(
        listener_executor=executor,
        token=settings.slack_bot_token,
        signing_secret=settings.slack_signing_secret if not socket_mode else None,
        request_verification_enabled=not socket_mode,
        client=client or make_web_client(settings),
        logger=logging.getLogger("copbot.bolt"),
    )

    def inject(context: dict[str, Any], next: Any) -> Any:
        context["copbot"] = deps
        return next()

    app.middleware(inject)
    app.middleware(once_per_event)
    register_all(app)
    app.copbot_executor = executor
    return app
