"""`copbot sandbox`'s one process: the Slack stand-in (`Workspace`), the Zoom stand-in,
the real bot in HTTP mode with its scheduler, and the page, on 127.0.0.1.

The page and the bot share one port: `/slack/events`, `/healthz` and `/calendar/…` go to
copbot's own WSGI application (so calendar links work), everything else is the page and
its JSON API (`sandbox.page_api`). The database and the workspace are kept in the data
folder between runs.
"""

from __future__ import annotations

import itertools
import json
import logging
import socketserver
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from bot.config import Settings
from bot.deps import Deps
from bot.scheduler import new_worker, start_background
from bot.server import make_wsgi_app
from bot.slack_client import make_web_client
from sandbox import world
from sandbox.clock import Clock, adjustable
from sandbox.page_api import PageApp
from sandbox.person import Slack
from sandbox.workspace import Workspace
from sandbox.zoom_standin import ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET, ZoomStandIn
from storage import db
from storage.models import set_clock_offset

log = logging.getLogger("copbot.sandbox")


class _Threading(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


class SandboxZoom(ZoomStandIn):
    """The Zoom stand-in whose join links open the page's meeting page, and whose
    meetings are kept in the data folder."""

    def __init__(self, join_base: str, path: Path):
        super().__init__()
        self.join_base = join_base
        self.path = path
        if path.is_file():
            saved = json.loads(path.read_text())
            if isinstance(saved, list):  # before registrants were kept
                saved = {"meetings": saved, "registrants": {}}
            for meeting in saved.get("meetings") or []:
                self.meetings[int(meeting["id"])] = meeting
            for meeting_id, listed in (saved.get("registrants") or {}).items():
                self.registrants[int(meeting_id)] = list(listed)
            counted = sum(len(v) for v in self.registrants.values())
            self._registrant_ids = itertools.count(counted + 1)
            start = max(self.meetings, default=85000000000) + 1
            self._ids = itertools.count(start)

    def _success(self, route: str, values: list[str], query: dict[str, str], body: Any):
        status, headers, answer = super()._success(route, values, query, body)
        if route == "POST /users/{userId}/meetings" and isinstance(answer, dict):
            answer["join_url"] = f"{self.join_base}/zoom/j/{answer['id']}?pwd=standin"
        if not route.startswith("GET"):
            self.save()
        return status, headers, answer

    def _registrant_locked(self, meeting: dict[str, Any], body: dict[str, Any]) -> dict:
        """A registrant whose own link opens the page's meeting page too."""
        registrant = super()._registrant_locked(meeting, body)
        token = registrant["join_url"].rsplit("tk=", 1)[-1]
        registrant["join_url"] = f"{self.join_base}/zoom/j/{meeting['id']}?tk={token}"
        return registrant

    def save(self) -> None:
        with self._lock:
            data = {
                "meetings": list(self.meetings.values()),
                "registrants": {str(k): v for k, v in self.registrants.items()},
            }
        self.path.write_text(json.dumps(data))


class Sandbox:
    """Everything `copbot sandbox` runs; `start()`, then `serve_forever()` or `stop()`."""

    def __init__(self, data_dir: Path, port: int = 8765, *, reset: bool = False):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if reset:
            for name in ("copbot.db", "copbot.db-wal", "copbot.db-shm", "workspace.json"):
                (self.data_dir / name).unlink(missing_ok=True)
            (self.data_dir / "zoom.json").unlink(missing_ok=True)
        # bind first: a port in use is the first thing to know

        self.page = PageApp(self)
        self.httpd = make_server(
            "127.0.0.1", port, self._dispatch, server_class=_Threading, handler_class=_Quiet
        )
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self._save_timer: threading.Timer | None = None
        self._save_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._serving: threading.Thread | None = None

    # ---- start-up -------------------------------------------------------------------
    def start(self) -> Sandbox:

        self.workspace = Workspace()
        saved = self._load_saved()
        for person in world.PEOPLE:
            self.workspace.add_user(
                person.id,
                person.name,
                tz=person.tz,
                real_name=person.real_name,
                email=f"{person.name}@example.org",
            )
        for channel_id, name in world.CHANNELS:
            self.workspace.add_channel(channel_id, name)
        for person in world.PEOPLE:
            self.workspace.dm_of(person.id)
        self.workspace.restore(saved)
        self.workspace.start()
        self.zoom = SandboxZoom(self.url, self.data_dir / "zoom.json").start()
        self.zoom.attendees = world.attendees
        # the organisation's Zoom account holds its staff; everyone else is a guest to it
        for email in sorted(world.ZOOM_ACCOUNT_USERS):
            self.zoom.add_user(email)
        db_url = f"sqlite:///{(self.data_dir / 'copbot.db').resolve()}"
        self.settings = Settings.from_mapping(
            {
                "SLACK_BOT_TOKEN": world.BOT_TOKEN,
                "SLACK_SIGNING_SECRET": world.SIGNING_SECRET,
                "SLACK_API_URL": self.workspace.url,
                "ZOOM_ACCOUNT_ID": ACCOUNT_ID,
                "ZOOM_CLIENT_ID": CLIENT_ID,
                "ZOOM_CLIENT_SECRET": CLIENT_SECRET,
                "ZOOM_API_URL": self.zoom.api_url,
                "ZOOM_OAUTH_URL": self.zoom.oauth_url,
                "ZOOM_RETRY_SECONDS": "5",
                "DATABASE_URL": db_url,
                "COPBOT_STAFF": world.STAFF.id,
                "COPBOT_TIMEZONE": "America/Chicago",
                "COPBOT_PUBLIC_URL": self.url,
                "COPBOT_LOG_LEVEL": "WARNING",
                "ZOOM_WEBHOOK_SECRET": world.ZOOM_WEBHOOK_SECRET,
            }
        )
        db.upgrade(db_url)
        offset = timedelta(seconds=saved.get("clock_offset", 0))
        self.bot = make_wsgi_app(self.settings, clock=adjustable(offset))
        self.deps: Deps = self.bot.deps
        client = self.client = make_web_client(self.settings)
        # the clock's passes and the background loop are one lease holder
        worker = new_worker()
        self.clock = Clock(self.deps, client, worker)
        self.scheduler = start_background(self.deps, client, worker)
        self.slack = Slack(self.workspace, self.url, world.SIGNING_SECRET)
        self.workspace.on_change.append(self.save_soon)
        return self

    def _load_saved(self) -> dict[str, Any]:
        path = self.data_dir / "workspace.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    # ---- saving -------------------------------------------------------------------------
    def save_soon(self) -> None:
        with self._save_lock:
            if self._save_timer is None:
                self._save_timer = threading.Timer(0.5, self.save)
                self._save_timer.daemon = True
                self._save_timer.start()

    def save(self) -> None:
        with self._save_lock:
            self._save_timer = None
        with self._write_lock:  # the timer's save and stop()'s never share the temp file
            data = self.workspace.snapshot()
            data["clock_offset"] = self.clock.offset.total_seconds()
            path = self.data_dir / "workspace.json"
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data))
            tmp.replace(path)

    # ---- serving ------------------------------------------------------------------------
    def _dispatch(self, environ: dict[str, Any], start_response: Any):
        path = environ.get("PATH_INFO", "")
        if path.startswith(("/slack/", "/healthz", "/calendar/")) or path == "/zoom/events":
            return self.bot(environ, start_response)
        return self.page(environ, start_response)

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def serve_in_background(self) -> Sandbox:
        self._serving = threading.Thread(target=self.serve_forever, daemon=True)
        self._serving.start()
        return self

    def stop(self) -> None:
        """Stop what was started (also after a start cut short by Ctrl-C)."""

        if self._serving:
            self.httpd.shutdown()
        self.httpd.server_close()
        if scheduler := getattr(self, "scheduler", None):
            scheduler.shutdown(wait=False)
        if deps := getattr(self, "deps", None):
            deps.background.wait_idle(5)
            deps.background.shutdown(wait=False)
        if getattr(self, "clock", None) is not None:
            self.save()
        if zoom := getattr(self, "zoom", None):  # started as it is made
            zoom.stop()
        workspace = getattr(self, "workspace", None)
        if workspace is not None and workspace._thread is not None:
            workspace.stop()
        set_clock_offset(timedelta(0))
