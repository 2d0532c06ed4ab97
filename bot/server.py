"""The HTTP surface: a WSGI application (`POST /slack/events`, `POST /zoom/events`,
`GET /healthz` (alive), `GET /readyz` (the database answers and is migrated),
`GET /metrics` (Prometheus)) and the gunicorn runner behind `copbot serve`.

Workers build their own app after the fork, so no database connection or HTTP session
crosses a process boundary.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text

from bot.app import after_the_answer, build_app
from bot.config import Settings
from bot.deps import Deps
from bot.ops import logs, metrics
from bot.slack_client import SlackCheck
from bot.webhooks.zoom import PATH as ZOOM_EVENTS_PATH
from bot.webhooks.zoom import make_handler as make_zoom_handler
from storage.db import schema_status

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
# on SIGTERM: a worker answers the requests in flight, then its scheduler pass and the
# work after acks get STOP_SECONDS; gunicorn kills what is left at GRACEFUL_SECONDS
STOP_SECONDS = 20.0
GRACEFUL_SECONDS = 30


def make_wsgi_app(
    settings: Settings, *, scheduler: bool = False, slack_check: SlackCheck | None = None
) -> Callable[..., Iterable[bytes]]:
    """The WSGI application for `settings`; with `scheduler`, passes run in the background
    (safe in every worker: a reminder is claimed by one pass only). It starts whether or
    not Slack answers: `slack_check` (by default a new one) keeps asking in the background
    and `/healthz` reports what Slack said."""
    deps = Deps.create(settings)
    app = build_app(settings, deps=deps)
    slack = slack_check or SlackCheck(settings).start()
    bolt = SlackRequestHandler(app, path=EVENTS_PATH)
    zoom_events = make_zoom_handler(deps, app.client)
    loop = None
    if scheduler:
        from bot.scheduler import start_background

        loop = start_background(deps, app.client)
    engine = deps.engine

    def stop(timeout: float = STOP_SECONDS) -> None:
        """The worker is going away (its requests are answered): the scheduler's pass
        and the work after acks get up to `timeout` seconds, then the lease is given up."""
        deadline = time.monotonic() + timeout
        if loop is not None:
            from bot.scheduler import stop_background

            stop_background(loop, timeout)
        deps.drain(max(0.0, deadline - time.monotonic()))
        slack.stop()

    def healthz(start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            database = "ok"
        except Exception as e:  # noqa: BLE001 - the health check reports any failure
            log.warning("health check: database unreachable: %s", type(e).__name__)
            database = "unreachable"
        body = {"database": database, "slack": slack.current()}
        healthy = all(v == "ok" for v in body.values())
        body = {"ok": healthy, **body}
        status = "200 OK" if healthy else "503 Service Unavailable"
        payload = json.dumps(body).encode()
        start_response(
            status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
        )
        return [payload]

    def readyz(start_response: Callable[..., Any]) -> Iterable[bytes]:
        ready, reason = database_ready(settings.database_url)
        body = {"ready": ready, "database": reason}
        return _json(start_response, "200 OK" if ready else "503 Service Unavailable", body)

    def metrics_page(start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = metrics.render([lambda: after_call_job_states(engine)])
        start_response(
            "200 OK", [("Content-Type", metrics.CONTENT_TYPE), ("Content-Length", str(len(body)))]
        )
        return [body]

    def calendar(path: str, start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = calendar_file(deps, path)
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

    def application(environ: dict[str, Any], start_response: Callable[..., Any]):
        path = environ.get("PATH_INFO", "")
        if path == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return healthz(start_response)
        if path == "/readyz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return readyz(start_response)
        if path == "/metrics" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return metrics_page(start_response)
        if path == ZOOM_EVENTS_PATH and environ.get("REQUEST_METHOD") == "POST":
            with logs.request_scope("webhook"):
                return zoom_events(environ, start_response)
        if path.startswith("/calendar/") and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return calendar(path, start_response)
        with after_the_answer() as pending:
            try:
                body = bolt(environ, start_response)
            except Exception as e:  # noqa: BLE001 - listener errors are handled inside Bolt:
                # what escapes is a body Bolt cannot read (a payload not a JSON object)
                log.warning("request with a malformed body refused: %s", type(e).__name__)
                start_response("400 Bad Request", [("Content-Type", "text/plain")])
                return [b"Bad Request"]
        return _ThenAfter(body, pending)

    application.deps = deps
    application.slack_check = slack
    application.stop = stop
    return application


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
    from sqlalchemy import func, select

    from storage.models import AfterCallJob

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


_FEED = re.compile(r"^/calendar/([A-Za-z0-9_-]{16,64})\.ics$")
_ONE_CALL = re.compile(r"^/calendar/call/([A-Za-z0-9_-]{16,64})\.ics$")
_OWN_CALL = re.compile(r"^/calendar/mine/([A-Za-z0-9_-]{16,64})\.ics$")


def calendar_file(deps: Deps, path: str) -> bytes | None:
    """The .ics at `path`: a community's feed, one call, or one call with a registered
    person's own join link; None when there is none."""
    from sqlmodel import select

    from integrations.calendar import call_ics, feed_ics
    from storage.db import session_scope
    from storage.models import Call, Community

    if path.startswith("/calendar/onsite/"):
        from integrations.onsite_calendar import onsite_file

        return onsite_file(deps.engine, path)
    with session_scope(deps.engine) as session:
        if match := _OWN_CALL.match(path):
            from bot.services.registrations import by_calendar_token

            row = by_calendar_token(session, match.group(1))
            call = session.get(Call, row.call_id) if row is not None else None
            if call is None:
                return None
            community = session.get(Community, call.community_id)
            return call_ics(call, community, row.join_url)
        if match := _ONE_CALL.match(path):
            call = session.exec(select(Call).where(Call.uid == match.group(1))).first()
            if call is None:
                return None
            return call_ics(call, session.get(Community, call.community_id))
        if match := _FEED.match(path):
            community = session.exec(
                select(Community).where(Community.calendar_token == match.group(1))
            ).first()
            if community is None:
                return None
            calls = session.exec(
                select(Call).where(Call.community_id == community.id).order_by(Call.start_at)
            ).all()
            return feed_ics(community, calls)
    return None


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
    from gunicorn.app.base import BaseApplication

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
