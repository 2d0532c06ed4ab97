"""The HTTP surface: a WSGI application (`POST /slack/events`, `POST /zoom/events`,
`GET /healthz` (alive), `GET /readyz` (the database answers and is migrated),
`GET /metrics` (Prometheus)) and the gunicorn runner behind `copbot serve`.

Workers build their own app after the fork, so no database connection or HTTP session
crosses a process boundary.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import func, select, text

from bot.app import after_the_answer, build_app
from bot.config import Settings
from bot.deps import Deps
from bot.flows.calendars import calendar_file
from bot.ops import logs, metrics
from bot.scheduler import start_background, stop_background
from bot.slack_client import SlackCheck
from bot.webhooks.zoom import PATH as ZOOM_EVENTS_PATH
from bot.webhooks.zoom import make_handler as make_zoom_handler
from storage.clock import Clock
from storage.db import schema_status
from storage.models import AfterCallJob

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
# on SIGTERM: a worker answers the requests in flight, then its scheduler pass and the
# work after acks get STOP_SECONDS; gunicorn kills what is left at GRACEFUL_SECONDS
STOP_SECONDS = 20.0
GRACEFUL_SECONDS = 30


def make_wsgi_app(
    settings: Settings,
    *,
    scheduler: bool = False,
    slack_check: SlackCheck | None = None,
    clock: Clock | None = None,
) -> HttpSurface:
    """The WSGI application for `settings`; with `scheduler`, passes run in the background
    (safe in every worker: a reminder is claimed by one pass only). It starts whether or
    not Slack answers: `slack_check` (by default a new one) keeps asking in the background
    and `/healthz` reports what Slack said. `clock` is the time it reads (default: the
    real time)."""
    deps = Deps.create(settings, clock)
    app = build_app(settings, deps=deps)
    loop = start_background(deps, app.client) if scheduler else None
    return HttpSurface(settings, deps, app, slack_check or SlackCheck(settings).start(), loop)


class HttpSurface:
    """One worker's WSGI application: Slack's and Zoom's POSTs, the health, readiness and
    metrics pages and the calendar files, routed by path."""

    def __init__(self, settings: Settings, deps: Deps, app: App, slack: SlackCheck, loop: Any):
        self.settings = settings
        self.deps = deps
        self.slack_check = slack
        self._loop = loop
        self._bolt = SlackRequestHandler(app, path=EVENTS_PATH)
        self._zoom_events = make_zoom_handler(deps, app.client)
        self._pages = {
            "/healthz": self.healthz,
            "/readyz": self.readyz,
            "/metrics": self.metrics_page,
        }

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD")
        if path in self._pages and method in ("GET", "HEAD"):
            return self._pages[path](start_response)
        if path == ZOOM_EVENTS_PATH and method == "POST":
            with logs.request_scope("webhook"):
                return self._zoom_events(environ, start_response)
        if path.startswith("/calendar/") and method in ("GET", "HEAD"):
            return self.calendar(path, start_response)
        with after_the_answer() as pending:
            try:
                body = self._bolt(environ, start_response)
            except Exception as e:  # noqa: BLE001 - listener errors are handled inside Bolt:
                # what escapes is a body Bolt cannot read (a payload not a JSON object)
                log.warning("request with a malformed body refused: %s", type(e).__name__)
                start_response("400 Bad Request", [("Content-Type", "text/plain")])
                return [b"Bad Request"]
        return _ThenAfter(body, pending)

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """The worker is going away (its requests are answered): the scheduler's pass
        and the work after acks get up to `timeout` seconds, then the lease is given up."""
        deadline = time.monotonic() + timeout
        if self._loop is not None:
            stop_background(self._loop, timeout)
        self.deps.drain(max(0.0, deadline - time.monotonic()))
        self.slack_check.stop()

    def healthz(self, start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            with self.deps.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            database = "ok"
        except Exception as e:  # noqa: BLE001 - the health check reports any failure
            log.warning("health check: database unreachable: %s", type(e).__name__)
            database = "unreachable"
        body = {"database": database, "slack": self.slack_check.current()}
        healthy = all(v == "ok" for v in body.values())
        status = "200 OK" if healthy else "503 Service Unavailable"
        return _json(start_response, status, {"ok": healthy, **body})

    def readyz(self, start_response: Callable[..., Any]) -> Iterable[bytes]:
        ready, reason = database_ready(self.settings.database_url)
        body = {"ready": ready, "database": reason}
        return _json(start_response, "200 OK" if ready else "503 Service Unavailable", body)

    def metrics_page(self, start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = metrics.render([lambda: after_call_job_states(self.deps.engine)])
        start_response(
            "200 OK", [("Content-Type", metrics.CONTENT_TYPE), ("Content-Length", str(len(body)))]
        )
        return [body]

    def calendar(self, path: str, start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = calendar_file(self.deps, path)
        if body is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not Found"]
        start_response(
            "200 OK",
            [
                ("Content-Type", "text/calendar; charset=utf-8"),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-cache"),
            ],
        )
        return [body]


class _ThenAfter:
    """A response body whose `close()`, which the WSGI server calls once the body is
    written, does what the request left for after its answer."""

    def __init__(self, body: Iterable[bytes], pending: list[Callable[[], None]]):
        self._body = body
        self._pending = pending

    def __iter__(self):
        return iter(self._body)

    def close(self) -> None:
        for work in self._pending:
            try:
                work()
            except Exception:  # noqa: BLE001 - the answer is out; log and go on
                log.exception("work after a request's answer failed")


def _json(start_response: Callable[..., Any], status: str, body: dict) -> Iterable[bytes]:
    payload = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
    )
    return [payload]


def database_ready(url: str) -> tuple[bool, str]:
    """(ready, why): the database answers and its schema is the code's newest migration."""
    try:
        current, head = schema_status(url)
    except Exception as e:  # noqa: BLE001 - readiness reports any failure, as a reason
        log.warning("readiness: database unreachable: %s", type(e).__name__)
        return False, f"unreachable ({type(e).__name__})"
    if current != head:
        return (
            False,
            f"schema at {current or 'nothing'}, code expects {head}: run `copbot db upgrade`",
        )
    return True, "ok"


def after_call_job_states(engine: Any) -> Iterable[Any]:
    """copbot_after_call_jobs{state}: after-call jobs by state, read at scrape time."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(AfterCallJob.state, func.count()).group_by(AfterCallJob.state)
            ).all()
    except Exception as e:  # noqa: BLE001 - a scrape never fails for the database
        log.warning("metrics: after-call jobs unreadable: %s", type(e).__name__)
        return []
    return [
        metrics.gauge_family(
            "copbot_after_call_jobs",
            "After-call jobs (attendance, recordings, questions) by state",
            "state",
            {state: count for state, count in rows},
        )
    ]


def run_gunicorn(
    settings: Settings,
    host: str,
    port: int,
    workers: int,
    threads: int,
    *,
    scheduler: bool = True,
) -> None:
    """Serve the WSGI app with gunicorn's threaded workers (each also running scheduler
    passes unless `scheduler` is False)."""
    from gunicorn.app.base import BaseApplication  # gunicorn runs on Unix only: asked for here

    class CopbotServer(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", threads)
            self.cfg.set("timeout", 30)
            self.cfg.set("graceful_timeout", GRACEFUL_SECONDS)
            self.cfg.set("worker_exit", _stop_worker)
            self.cfg.set("accesslog", None)
            self.cfg.set("proc_name", "copbot")
            self.cfg.set("child_exit", lambda _server, worker: metrics.worker_exited(worker.pid))

        def load(self):
            return make_wsgi_app(settings, scheduler=scheduler)

    CopbotServer().run()


def _stop_worker(_arbiter: Any, worker: Any) -> None:
    """gunicorn's worker_exit hook; in the worker, after its last request was answered
    (gunicorn also calls it in the master, where there is no app to stop)."""
    stop = getattr(getattr(worker, "wsgi", None), "stop", None)
    if stop is not None:
        stop()
