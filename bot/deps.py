"""What listeners need besides Slack's own arguments: settings, the database engine, the
clock (`deps.clock.now()` is copbot's "now"; the sandbox moves it) and the two pools that
do the work which follows an ack.

A middleware puts one `Deps` into Bolt's context under `deps`, and Bolt passes it to every
listener that declares a `deps` argument; tests pass it directly.
Listeners answer Slack in the request itself (the ack) and hand anything slow, such as
Zoom or a fan-out, to `deps.later(...)`, so the ack never waits for it. Modals go through
`deps.open_view(...)`, a pool of their own: a `trigger_id` lives three seconds, so
`views.open` never queues behind Zoom or broadcast work.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.ops import metrics
from bot.services import conferencing_alerts
from bot.services.permissions import Actor
from integrations.after_call import MeetingFacts, NoMeetingFacts
from integrations.conferencing import Conferencing, NoConferencing
from integrations.zoom import ERROR_OBSERVERS as ZOOM_ERROR_OBSERVERS
from integrations.zoom import ZoomClient
from integrations.zoom.after_call import ZoomAfterCall, ZoomMeetingFacts
from integrations.zoom.conferencing import ZoomConferencing
from storage.clock import Clock, SystemClock
from storage.db import get_engine

log = logging.getLogger(__name__)

# every Zoom error is counted in the metrics, by status and code
if metrics.zoom_error not in ZOOM_ERROR_OBSERVERS:
    ZOOM_ERROR_OBSERVERS.append(metrics.zoom_error)


class Background(ThreadPoolExecutor):
    """A thread pool for the work after an ack; logs failures and knows when it is idle."""

    def __init__(self, max_workers: int = 8, name: str = "copbot-later"):
        super().__init__(max_workers=max_workers, thread_name_prefix=name)
        self.name = name
        self._pending = 0
        self._idle = threading.Condition()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        with self._idle:
            self._pending += 1
            metrics.queue_depth(self.name, self._pending)
        # the job runs in a copy of the submitter's context: its log lines (its failure
        # too) carry the id of the request that handed it over
        context = contextvars.copy_context()
        future = super().submit(context.run, _logged, fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future) -> None:
        with self._idle:
            self._pending -= 1
            metrics.queue_depth(self.name, self._pending)
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no work is pending; False if that took longer than `timeout`."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)


def _logged(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except Exception:
        log.exception("background work failed")
        raise


def zoom_client(settings: Settings) -> ZoomClient | None:
    """The Zoom client when its three credentials are set, else None."""
    if not settings.zoom_configured:
        return None
    return ZoomClient(
        settings.zoom_account_id or "",
        settings.zoom_client_id or "",
        settings.zoom_client_secret or "",
        api_url=settings.zoom_api_url,
        oauth_url=settings.zoom_oauth_url,
        max_total_seconds=settings.zoom_retry_seconds,
    )


def make_conferencing(
    settings: Settings,
    on_missing_scope: Callable[[str], None] | None = None,
    client: ZoomClient | None = None,
) -> Conferencing:
    """Zoom when its three credentials are set, else no conferencing. `on_missing_scope`
    hears of each scope Zoom says the app lacks (code 4711); `client` is the Zoom client
    to share (one is made when none is given)."""
    client = client or zoom_client(settings)
    if client is None:
        return NoConferencing()
    return ZoomConferencing(
        client, settings.zoom_user, settings.zoom_hosts, on_missing_scope=on_missing_scope
    )


def make_meeting_facts(
    settings: Settings,
    on_missing_scope: Callable[[str], None] | None = None,
    client: ZoomClient | None = None,
) -> MeetingFacts:
    """What happened at calls' meetings: Zoom's when its credentials are set (read with
    `client`, shared with the conferencing), else none, and no after-call work."""
    client = client or zoom_client(settings)
    if client is None:
        return NoMeetingFacts()
    return ZoomMeetingFacts(ZoomAfterCall(client), on_missing_scope)


@dataclass(frozen=True)
class Deps:
    settings: Settings
    engine: Engine
    background: Background = field(default_factory=Background)
    conferencing: Conferencing = field(default_factory=NoConferencing)
    meeting_facts: MeetingFacts = field(default_factory=NoMeetingFacts)
    views: Background = field(default_factory=lambda: Background(4, "copbot-views"))
    clock: Clock = field(default_factory=SystemClock)

    @classmethod
    def create(cls, settings: Settings, clock: Clock | None = None) -> Deps:
        engine = get_engine(settings.database_url)
        clock = clock or SystemClock()
        told = conferencing_alerts.recorder(engine, clock)
        zoom = zoom_client(settings)
        return cls(
            settings=settings,
            engine=engine,
            conferencing=make_conferencing(settings, told, zoom),
            meeting_facts=make_meeting_facts(settings, told, zoom),
            clock=clock,
        )

    def actor(self, user_id: str) -> Actor:
        return Actor(user_id=user_id, is_staff=self.settings.is_staff(user_id))

    def later(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Run `fn` after the ack has gone back to Slack."""
        return self.background.submit(fn, *args, **kwargs)

    def open_view(self, client: WebClient, trigger_id: str, view: dict[str, Any]) -> Future:
        """Open a modal at once, on the views pool (never behind slow work); a failure
        (an expired trigger, a view Slack refuses) is logged with Slack's error code."""
        return self.views.submit(_open_view, client, trigger_id, view)

    @property
    def pools(self) -> tuple[Background, ...]:
        return (self.background, self.views)

    def drain(self, timeout: float) -> bool:
        """On the way out: let the work already handed to the pools finish, for up to
        `timeout` seconds in all, then drop what has not started. False if some was
        left."""
        deadline = time.monotonic() + timeout
        finished = all(pool.wait_idle(max(0.0, deadline - time.monotonic())) for pool in self.pools)
        for pool in self.pools:
            pool.shutdown(wait=False, cancel_futures=True)
        if not finished:
            log.warning("work after an ack was still running after %.0f s; not waiting", timeout)
        return finished


def _open_view(client: WebClient, trigger_id: str, view: dict[str, Any]) -> None:
    try:
        client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as e:
        log.warning("views.open of %s failed: %s", view.get("callback_id"), e.response.get("error"))
