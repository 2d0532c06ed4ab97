"""The page and its JSON API: static files from `sandbox/static/`, the state a person
sees (long-polled), and what they do (commands, clicks, submissions, the clock).

Every answer is JSON; Slack text reaches the browser as data and the page inserts it with
textContent, never as HTML.
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import asdict
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from sqlmodel import select

from bot.blocks.help import SUBCOMMANDS
from sandbox import world
from sandbox.person import Slack
from sandbox.workspace import Workspace
from sandbox.zoom_standin import ZoomStandIn
from storage.db import session_scope
from storage.models import Community, Membership


class Running(Protocol):
    """What the page reads of the running sandbox (`sandbox.server.Sandbox`)."""

    clock: Any
    deps: Any
    httpd: Any
    settings: Any
    slack: Slack
    workspace: Workspace
    zoom: ZoomStandIn


STATIC = Path(__file__).with_name("static")
MANIFEST = Path(__file__).resolve().parent.parent / "app_manifest.yml"
LONG_POLL_SECONDS = 20.0
MAX_BODY = 1_000_000


class BadRequest(ValueError):
    pass


class PageApp:
    def __init__(self, sandbox: Running):
        self.sandbox = sandbox
        self.routes = {
            "/api/command": self.command,
            "/api/say": self.say,
            "/api/action": self.action,
            "/api/submit": self.submit,
            "/api/close": self.close,
            "/api/home": self.home,
            "/api/shortcut": self.shortcut,
            "/api/clock": self.clock,
        }

    def __call__(self, environ: dict[str, Any], start_response: Any):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            if not self._same_site(environ):
                raise BadRequest("requests come from the sandbox's own page only")
            if method == "POST" and path in self.routes:
                return _json(start_response, self.routes[path](_body(environ)))
            if method == "GET" and path == "/api/config":
                return _json(start_response, self.config())
            if method == "GET" and path == "/api/state":
                query = parse_qs(environ.get("QUERY_STRING", ""))
                return _json(start_response, self.state(query))
            if method == "GET" and path.startswith("/zoom/j/"):
                query = parse_qs(environ.get("QUERY_STRING", ""))
                return self.zoom_page(path, start_response, (query.get("tk") or [""])[0])
            if method == "GET" and path.startswith("/files/"):
                query = parse_qs(environ.get("QUERY_STRING", ""))
                return self.download(path, query, start_response)
            if method == "GET" and path == "/favicon.ico":
                return _static("/static/favicon.ico", start_response)
            if method == "GET":
                return _static(path, start_response)
        except BadRequest as e:
            status = "403 Forbidden" if "own page" in str(e) else "400 Bad Request"
            return _json(start_response, {"ok": False, "error": str(e)}, status)
        start_response("405 Method Not Allowed", [("Content-Type", "text/plain")])
        return [b"Method Not Allowed"]

    def _same_site(self, environ: dict[str, Any]) -> bool:
        """Only the page itself may act: the Host is the sandbox's (no DNS rebinding), a
        POST is JSON (so another site's form cannot send it) from no other Origin."""
        port = self.sandbox.httpd.server_port
        if environ.get("HTTP_HOST", "") not in (f"127.0.0.1:{port}", f"localhost:{port}"):
            return False
        if environ.get("REQUEST_METHOD") != "POST":
            return True
        origin = environ.get("HTTP_ORIGIN")
        if origin and origin not in (f"http://127.0.0.1:{port}", f"http://localhost:{port}"):
            return False
        return environ.get("CONTENT_TYPE", "").startswith("application/json")

    # ---- reading ----------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        return {
            "people": [asdict(p) for p in world.PEOPLE],
            "subcommands": [
                {"name": s.name, "usage": s.usage, "summary": s.summary} for s in SUBCOMMANDS
            ],
            "bot": {"id": "U0COPBOT", "name": "copbot"},
            "start_channel": self._start_channel(),
            "message_shortcuts": _message_shortcuts(),
        }

    def roles(self) -> dict[str, str]:
        """What each person is, from copbot's own records: staff, leader of X, member of Y."""
        with session_scope(self.sandbox.deps.engine) as session:
            rows = session.exec(
                select(Membership.slack_user_id, Membership.role, Community.name)
                .join(Community, Community.id == Membership.community_id)
                .order_by(Community.name)
            ).all()
        out: dict[str, str] = {}
        for person in world.PEOPLE:
            led = [name for uid, role, name in rows if uid == person.id and role == "leader"]
            joined = [name for uid, role, name in rows if uid == person.id and role == "member"]
            parts = ["staff"] if self.sandbox.settings.is_staff(person.id) else []
            if led:
                parts.append("leader of " + ", ".join(led))
            if joined:
                parts.append("member of " + ", ".join(joined))
            out[person.id] = "; ".join(parts) or "in no community yet"
        return out

    def _start_channel(self) -> str:
        """The channel the page opens on: the first with messages (the demo's community),
        else #general."""
        ws = self.sandbox.workspace
        busy = {m.channel for m in ws.messages if not m.deleted and m.ephemeral_to is None}
        for channel_id, _name in world.CHANNELS:
            if channel_id in busy:
                return channel_id
        return world.CHANNELS[0][0]

    def state(self, query: dict[str, list[str]]) -> dict[str, Any]:
        user = _user(query.get("user", [""])[0])
        try:
            since = int(query.get("since", ["-1"])[0])
        except ValueError:
            raise BadRequest("since is a number") from None
        ws = self.sandbox.workspace
        version = ws.wait_change(since, LONG_POLL_SECONDS) if since >= 0 else ws.version
        stack = ws.stacks.get(user) or []
        modal = None
        if stack:
            top = stack[-1]
            modal = {
                "view": ws.public_view(top),
                "errors": ws.view_errors.get(top, {}),
                "depth": len(stack),
            }
        home = ws.public_view(ws.homes[user]) if user in ws.homes else None
        channels = [
            {"id": c.id, "name": c.name, "is_im": c.is_im, "user": c.user}
            for c in ws.channels.values()
            if not c.is_im or c.user == user
        ]
        return {
            "version": version,
            "now": self.sandbox.clock.now().isoformat(),
            "channels": channels,
            "messages": [asdict(m) for m in ws.visible(user)],
            "modal": modal,
            "home": home,
            "problems": [asdict(p) for p in ws.problems if p.user in (user, None)][-50:],
            "roles": self.roles(),
            "users": {
                uid: {"name": u["name"], "real_name": u["real_name"], "tz": u["tz"]}
                for uid, u in ws.users.items()
            },
        }

    # ---- acting -------------------------------------------------------------------------
    def command(self, body: dict[str, Any]) -> dict[str, Any]:
        user, channel = _user(body.get("user")), self._channel(body.get("channel"), body)
        outcome = self.sandbox.slack.command(user, channel, str(body.get("text", ""))[:4000])
        return {"ok": outcome.error is None, "error": outcome.error}

    def say(self, body: dict[str, Any]) -> dict[str, Any]:
        user, channel = _user(body.get("user")), self._channel(body.get("channel"), body)
        text = str(body.get("text", "")).strip()[:4000]
        if not text:
            raise BadRequest("nothing to say")
        escaped = self.sandbox.slack.escape(text)
        thread = body.get("thread_ts") or None
        self.sandbox.workspace.person_says(user, channel, escaped, thread)
        return {"ok": True}

    def action(self, body: dict[str, Any]) -> dict[str, Any]:
        user = _user(body.get("user"))
        action = body.get("action")
        if not isinstance(action, dict) or not action.get("action_id"):
            raise BadRequest("an action needs its action_id")
        outcome = self.sandbox.slack.click(
            user,
            action,
            channel=body.get("channel"),
            ts=body.get("ts"),
            view_id=body.get("view_id"),
            values=body.get("values") or {},
        )
        return {"ok": outcome.error is None, "error": outcome.error}

    def submit(self, body: dict[str, Any]) -> dict[str, Any]:
        user = _user(body.get("user"))
        outcome = self.sandbox.slack.submit(
            user, str(body.get("view_id", "")), body.get("values") or {}
        )
        return {"ok": outcome.error is None, "error": outcome.error}

    def close(self, body: dict[str, Any]) -> dict[str, Any]:
        user = _user(body.get("user"))
        outcome = self.sandbox.slack.close(user, all_views=bool(body.get("all")))
        return {"ok": outcome.error is None, "error": outcome.error}

    def home(self, body: dict[str, Any]) -> dict[str, Any]:
        outcome = self.sandbox.slack.open_home(_user(body.get("user")))
        return {"ok": outcome.error is None, "error": outcome.error}

    def shortcut(self, body: dict[str, Any]) -> dict[str, Any]:
        """A message shortcut chosen on a message's menu (`message_action`)."""
        user = _user(body.get("user"))
        callback_id = str(body.get("callback_id", ""))
        if callback_id not in {s["callback_id"] for s in _message_shortcuts()}:
            raise BadRequest("no such message shortcut")
        channel, ts = body.get("channel"), str(body.get("ts", ""))
        if not isinstance(channel, str) or self.sandbox.workspace.find(channel, ts) is None:
            raise BadRequest("no such message")
        outcome = self.sandbox.slack.message_action(user, channel, ts, callback_id)
        return {"ok": outcome.error is None, "error": outcome.error}

    def clock(self, body: dict[str, Any]) -> dict[str, Any]:
        step = str(body.get("step", ""))
        try:
            lines = self.sandbox.clock.advance(step)
        except ValueError as e:
            raise BadRequest(str(e)) from None
        self.sandbox.workspace.changed()
        return {
            "ok": True,
            "now": self.sandbox.clock.now().isoformat(),
            "lines": lines,
            "summary": self.sandbox.clock.summary,
        }

    def _channel(self, channel: Any, body: dict[str, Any]) -> str:
        if not isinstance(channel, str) or channel not in self.sandbox.workspace.channels:
            raise BadRequest("no such channel")
        return channel

    # ---- Zoom ------------------------------------------------------------------------
    def zoom_page(self, path: str, start_response: Any, token: str = ""):
        meeting_id = path.rsplit("/", 1)[1]
        meeting = self.sandbox.zoom.meetings.get(int(meeting_id)) if meeting_id.isdigit() else None
        if meeting is None:
            title, detail = "No such meeting", f"There is no meeting {meeting_id} in the sandbox."
        else:
            title = f"Zoom meeting: {meeting.get('topic') or 'untitled'}"
            detail = (
                f"Meeting {meeting['id']}, starting {_meeting_start(meeting)}, "
                f"{meeting.get('duration')} minutes. "
                "In the sandbox nobody joins a real call: this page stands in for Zoom."
            )
            detail = self._registrant_line(int(meeting_id), token) + detail
        html = (
            "<!doctype html><html><head><meta charset='utf-8'><title>"
            f"{escape(title)}</title><link rel='stylesheet' href='/static/sandbox.css'></head>"
            f"<body class='zoom'><main><h1 id='zoom-title'>{escape(title)}</h1>"
            f"<p id='zoom-detail'>{escape(detail)}</p></main></body></html>"
        ).encode()
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [html]

    # ---- files ----------------------------------------------------------------------------
    def download(self, path: str, query: dict[str, list[str]], start_response: Any):
        """A shared file's content, for a person who sees a message it was shared in."""
        user = _user(query.get("user", [""])[0])
        shared = self.sandbox.workspace.file_for(user, path.removeprefix("/files/"))
        if shared is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not Found"]
        data = shared["content"].encode()
        name = quote(shared["name"])
        start_response(
            "200 OK",
            [
                ("Content-Type", f"{shared.get('mimetype', 'text/plain')}; charset=utf-8"),
                ("Content-Length", str(len(data))),
                ("Content-Disposition", f"attachment; filename*=UTF-8''{name}"),
                ("Cache-Control", "no-store"),
            ],
        )
        return [data]

    def _registrant_line(self, meeting_id: int, token: str) -> str:
        """Whose own link this is (a registrant's), as Zoom greets them."""
        if not token:
            return ""
        for r in self.sandbox.zoom.registrants.get(meeting_id, []):
            if r["join_url"].endswith(f"tk={token}"):
                if r["status"] != "approved":
                    return "This registration was cancelled: the link no longer works. "
                name = f"{r['first_name']} {r['last_name']}".strip()
                return f"Your own link: registered as {name} ({r['email']}). "
        return "This link is not one of the meeting's registrations. "


def _meeting_start(meeting: dict[str, Any]) -> str:
    """The meeting's start in its own zone, as Zoom's join page says it (Zoom gives
    `start_time` in UTC with a `Z` when the meeting has a `timezone`)."""
    raw, zone = str(meeting.get("start_time") or ""), str(meeting.get("timezone") or "UTC")
    try:
        start = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        tz = ZoneInfo(zone)
    except (ValueError, ZoneInfoNotFoundError):
        return f"{raw} ({zone})" if raw else "at a time not set"
    if start.tzinfo is None:  # a local time in the meeting's zone
        start = start.replace(tzinfo=tz)
    local = start.astimezone(tz)
    return f"{local:%A, %B} {local.day}, {local:%Y} at {local:%-I:%M %p} ({zone})"


def _message_shortcuts() -> list[dict[str, str]]:
    """The message shortcuts of app_manifest.yml (a message's "More actions" menu)."""
    if not MANIFEST.is_file():
        return []
    manifest = yaml.safe_load(MANIFEST.read_text())
    shortcuts = (manifest.get("features") or {}).get("shortcuts") or []
    return [
        {"name": s["name"], "callback_id": s["callback_id"]}
        for s in shortcuts
        if s.get("type") == "message"
    ]


def _user(value: Any) -> str:
    ids = {p.id for p in world.PEOPLE}
    if value not in ids:
        raise BadRequest("no such person")
    return str(value)


def _body(environ: dict[str, Any]) -> dict[str, Any]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length > MAX_BODY:
        raise BadRequest("request too large")
    raw = environ["wsgi.input"].read(length) if length else b""
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise BadRequest("the body is not JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the body is not a JSON object")
    return body


def _json(start_response: Any, body: Any, status: str = "200 OK"):
    payload = json.dumps(body).encode()
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(payload))),
            ("Cache-Control", "no-store"),
        ],
    )
    return [payload]


def _static(path: str, start_response: Any):
    name = "index.html" if path in ("", "/") else path.removeprefix("/static/")
    target = (STATIC / name).resolve()
    if STATIC.resolve() not in target.parents or not target.is_file():
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not Found"]
    data = target.read_bytes()
    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind.endswith("javascript"):
        kind += "; charset=utf-8"
    start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(len(data)))])
    return [data]
