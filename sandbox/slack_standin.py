"""A local stand-in for the Slack Web API: an HTTP server on 127.0.0.1 that answers like
Slack, records every call and holds each against Slack's OpenAPI spec.

Point the app at it with `SLACK_API_URL=<standin.url>`. Every call's method must exist in
the spec, every argument must be one the spec declares for that method, every required
argument must be present, and views and messages must fit Block Kit's limits
(`bot.blocks.limits`); anything else is answered as Slack would (`unknown_method`,
`invalid_arguments`) and listed in `violations`, which tests assert is empty.

It also receives what the app posts to a slash command's `response_url`
(`standin.response_url(...)`), recorded as calls of method `response_url`.

    with SlackStandIn() as slack:
        slack.add_user("U1", "ana", tz="America/Chicago")
        slack.fail("chat.postMessage", "channel_not_found")
        ...
        slack.wait_for("chat.postMessage")
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlparse

from bot.blocks.limits import check_message, check_view, markup_problems
from bot.slack_client import bot_scopes

SPEC_PATH = Path(__file__).with_name("specs") / "slack_web_openapi_v2.json"

TEAM_ID = "T0STANDIN"
# slack_sdk adds team_id to every call of a client bound to a workspace (Bolt's per-request
# client); Slack accepts it on every method, the 2020 spec lists it on few.
SDK_ADDED_ARGS = frozenset({"token", "team_id"})
BOT_USER_ID = "U0COPBOT"
BOT_ID = "B0COPBOT"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)

    def json_arg(self, name: str) -> Any:
        """An argument that Slack takes as JSON (view, blocks), decoded if it came as text."""
        value = self.args.get(name)
        if isinstance(value, str):
            return json.loads(value)
        return value


@dataclass
class _Failure:
    error: str
    status: int
    retry_after: int | None
    remaining: int


# Methods newer than the October 2020 spec that Slack's SDK calls, with their parameters
# as Slack documents them (apps.connections.open opens a Socket Mode connection).
def _params(required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, dict]:
    params = {name: {"name": name, "type": "string", "required": True} for name in required}
    params.update({name: {"name": name, "type": "string"} for name in optional})
    return params


NEWER_METHODS: dict[str, dict[str, dict[str, Any]]] = {
    "apps.connections.open": {},
    "files.getUploadURLExternal": _params(("filename", "length"), ("alt_txt", "snippet_type")),
    "files.completeUploadExternal": _params(
        ("files",), ("channel_id", "channels", "initial_comment", "thread_ts", "blocks")
    ),
}


class SlackSpec:
    """The parameters each Web API method declares in Slack's OpenAPI (Swagger 2.0) spec."""

    def __init__(self, path: Path = SPEC_PATH):
        spec = json.loads(path.read_text())
        self.methods: dict[str, dict[str, dict[str, Any]]] = dict(NEWER_METHODS)
        for route, operations in spec["paths"].items():
            params: dict[str, dict[str, Any]] = {}
            for op in operations.values():
                for p in op.get("parameters", []):
                    params[p["name"]] = p
            self.methods[route.lstrip("/")] = params

    def scope_of(self, method: str) -> str | None:
        """The scope the spec's token parameter names ("Requires scope: `x`")."""
        token = self.methods.get(method, {}).get("token", {})
        text = token.get("description", "")
        marker = "Requires scope: `"
        if marker not in text:
            return None
        scope = text.split(marker, 1)[1].split("`", 1)[0]
        return None if scope == "none" else scope

    def check(self, method: str, args: dict[str, Any]) -> list[str]:
        """Problems with a call of `method` with `args` (empty when it fits the spec)."""
        if method not in self.methods:
            return [f"{method}: not a Slack Web API method"]
        declared = self.methods[method]
        problems = []
        for name, value in args.items():
            if name in SDK_ADDED_ARGS:
                continue
            param = declared.get(name)
            if param is None:
                problems.append(f"{method}: argument {name!r} is not in the spec")
            elif not _fits(param.get("type"), value):
                problems.append(f"{method}: argument {name!r} should be {param.get('type')}")
        for name, param in declared.items():
            if name != "token" and param.get("required") and name not in args:
                problems.append(f"{method}: required argument {name!r} is missing")
        return problems


def _fits(kind: str | None, value: Any) -> bool:
    if kind == "boolean":
        return isinstance(value, bool) or str(value).lower() in ("true", "false", "1", "0")
    if kind in ("integer", "number"):
        if isinstance(value, bool):
            return False
        try:
            float(value)
            return True
        except (TypeError, ValueError):
            return False
    # strings: JSON arguments (view, blocks) may arrive as objects in a JSON body
    return isinstance(value, str | int | float | list | dict)


def _raw_markup(method: str, args: dict[str, Any]) -> list[str]:
    """Formatting in what copbot sends that Slack would show as typed (unbalanced mrkdwn
    markers, mrkdwn in plain text). Slack accepts it, so the stand-in answers as Slack
    does; the tests refuse it."""
    try:
        payload = {k: json.loads(v) if k in ("blocks", "view") and isinstance(v, str) else v
                   for k, v in args.items() if k in ("blocks", "view")}  # fmt: skip
    except ValueError:
        return []
    return [f"{method}: {p}" for p in markup_problems(payload)]


def _block_kit_problems(method: str, args: dict[str, Any]) -> list[str]:
    def decoded(name: str) -> Any:
        value = args.get(name)
        return json.loads(value) if isinstance(value, str) else value

    try:
        if method.startswith("views.") and "view" in args:
            return [f"{method}: {p}" for p in check_view(decoded("view"))]
        if method.startswith("chat.") and method != "chat.delete":
            payload = {"text": args.get("text"), "blocks": decoded("blocks")}
            return [f"{method}: {p}" for p in check_message(payload)]
    except ValueError:
        return [f"{method}: a JSON argument is not valid JSON"]
    return []


class SlackStandIn:
    """A local Slack Web API; see the module docstring."""

    def __init__(self, spec: SlackSpec | None = None, host: str = "127.0.0.1", port: int = 0):
        self.spec = spec or SlackSpec()
        # the bot scopes installed: those app_manifest.yml asks for (sent back in the
        # x-oauth-scopes header of every answer, as Slack does)
        self.scopes: tuple[str, ...] = bot_scopes() or ()
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.raw_markup: list[str] = []  # see _raw_markup
        self.users: dict[str, dict[str, Any]] = {}
        self.private_channels: set[str] = set()
        self.channels: dict[str, dict[str, Any]] = {}  # add_channel(); cleared by reset()
        self._failures: dict[str, list[_Failure]] = {}
        self._post_limit: _PostRateLimit | None = None
        self.latency = 0.0  # seconds each Web API call takes (`slow`); cleared by reset()
        self.rate_limited: list[Call] = []  # calls answered 429 by `limit_posts`
        self._lock = threading.Condition()
        self._ts = itertools.count(1)
        self._views = itertools.count(1)
        self._socket: _SocketModeSession | None = None
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # ---- lifecycle ------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        """The value for SLACK_API_URL."""
        return f"{self.base_url}/api/"

    def uploaded(self, file_id: str) -> str:
        """The content uploaded for `file_id` through files.uploadV2."""
        [call] = [c for c in self.calls_to("file_upload") if c.args["file_id"] == file_id]
        return call.args["content"]

    def response_url(self, name: str = "cmd") -> str:
        return f"{self.base_url}/hooks/{name}"

    def start(self) -> SlackStandIn:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- scripting ------------------------------------------------------------------
    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        tz: str = "America/New_York",
        email: str | None = None,
        is_bot: bool = False,
        real_name: str = "",
    ) -> None:
        profile = {"display_name": name, "real_name": real_name or name.title()}
        if email:
            profile["email"] = email
        self.users[user_id] = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "real_name": profile["real_name"],
            "tz": tz,
            "tz_label": tz,
            "tz_offset": 0,
            "is_bot": is_bot,
            "deleted": False,
            "profile": profile,
        }

    def add_channel(
        self,
        channel_id: str,
        *,
        kind: str = "public",
        members: tuple[str, ...] | list[str] = (),
        bot_member: bool | None = None,
        archived: bool = False,
        name: str | None = None,
    ) -> None:
        """A conversation for conversations.info and conversations.members: `kind` is
        public, private, im or mpim; `members` the people in it. The bot is in a private
        or public channel only when `bot_member` says so. Slack answers
        channel_not_found about a private channel the bot is not in, and about any
        conversation never added."""
        if kind == "private":
            self.private_channels.add(channel_id)
        self.channels[channel_id] = {
            "kind": kind,
            "members": list(members),
            "bot_member": bool(bot_member),
            "archived": archived,
            "name": name or channel_id.lower(),
        }

    def _conversation(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        entry = self.channels.get(str(args.get("channel", "")))
        if entry is None or (entry["kind"] == "private" and not entry["bot_member"]):
            return {"ok": False, "error": "channel_not_found"}
        if method == "conversations.members":
            return {"ok": True, "members": entry["members"], "response_metadata": {}}
        kind = entry["kind"]
        channel = {
            "id": args["channel"],
            "name": entry["name"],
            "is_channel": kind == "public",
            "is_group": kind == "private",
            "is_im": kind == "im",
            "is_mpim": kind == "mpim",
            "is_private": kind != "public",
            "is_archived": entry["archived"],
            "is_member": entry["bot_member"],
        }
        return {"ok": True, "channel": channel}

    def fail(
        self,
        method: str,
        error: str = "internal_error",
        *,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls of `method` with an error."""
        with self._lock:
            self._failures.setdefault(method, []).append(
                _Failure(error, status, retry_after, times)
            )

    def limit_posts(
        self, per_channel: float = 1.0, burst: int = 1, workspace: float | None = None
    ) -> None:
        """Enforce chat.postMessage's rate limit from now on (opt-in): about `per_channel`
        messages a second in each channel after a burst of `burst`, and optionally
        `workspace` a second in all; beyond it, HTTP 429 `ratelimited` with Retry-After."""
        with self._lock:
            self._post_limit = _PostRateLimit(per_channel, burst, workspace)

    def slow(self, seconds: float) -> None:
        """Make every Web API call take `seconds` from now on, as a busy Slack does."""
        with self._lock:
            self.latency = seconds

    def reset(self) -> None:
        with self._lock:
            self.latency = 0.0
            self._post_limit = None
            self.rate_limited.clear()
            self.calls.clear()
            self.violations.clear()
            self.raw_markup.clear()
            self._failures.clear()
            self.channels.clear()
            self.scopes = bot_scopes() or ()

    # ---- inspection -----------------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Wait until `count` calls of `method` (matching `where`) arrived; return them."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [
                    c for c in self.calls if c.method == method and (where is None or where(c))
                ]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = sorted({c.method for c in self.calls})
                    raise AssertionError(
                        f"expected {count} call(s) of {method}, got {len(found)}; saw {seen}"
                    )
                self._lock.wait(left)

    # ---- Socket Mode ----------------------------------------------------------------
    def wait_for_socket_mode(self, timeout: float = 10.0) -> None:
        """Wait until an app has connected over Socket Mode."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._socket is None or self._socket.closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no app connected over Socket Mode")
                self._lock.wait(left)

    def send_envelope(
        self, kind: str, payload: dict[str, Any], timeout: float = 5.0
    ) -> dict[str, Any]:
        """Deliver an envelope (slash_commands, interactive, events_api) to the connected
        app and return the payload of its ack ({} when the ack carried none)."""
        self.wait_for_socket_mode(timeout)
        assert self._socket is not None
        return self._socket.deliver(kind, payload, timeout)

    # ---- answering ------------------------------------------------------------------
    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)
            self._lock.notify_all()

    def _next_failure(self, method: str) -> _Failure | None:
        with self._lock:
            queue = self._failures.get(method)
            if not queue:
                return None
            failure = queue[0]
            failure.remaining -= 1
            if failure.remaining <= 0:
                queue.pop(0)
            return failure

    def answer(
        self, method: str, args: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        """(status, headers, body) for one Web API call; as Slack does, an answer to a
        bot token carries the scopes installed for it in `x-oauth-scopes`."""
        if self.latency:
            time.sleep(self.latency)
        status, extra, body = self._answer(method, args, headers)
        auth = headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip() or str(args.get("token", ""))
        if token.startswith("xoxb-"):
            extra = {**extra, "x-oauth-scopes": ",".join(self.scopes)}
        return status, extra, body

    def _answer(
        self, method: str, args: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        auth = headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip() or str(args.get("token", ""))
        problems = self.spec.check(method, {k: v for k, v in args.items() if k != "token"})
        problems += _block_kit_problems(method, args)
        markup = _raw_markup(method, args)
        if markup:
            with self._lock:
                self.raw_markup.extend(markup)
        call = Call(method, args, headers)
        if problems:
            with self._lock:
                self.violations.extend(problems)
        self._record(call)
        if method not in self.spec.methods:
            return 200, {}, {"ok": False, "error": "unknown_method"}
        if not token.startswith(("xoxb-", "xapp-", "xoxp-")):
            return 200, {}, {"ok": False, "error": "not_authed"}
        if problems:
            return 200, {}, {"ok": False, "error": "invalid_arguments", "detail": problems}
        if method == "chat.postMessage" and self._post_limit is not None:
            with self._lock:
                wait = self._post_limit.take(str(args.get("channel", "")), time.monotonic())
                if wait:
                    self.rate_limited.append(call)
            if wait:
                return 429, {"Retry-After": str(wait)}, {"ok": False, "error": "ratelimited"}
        failure = self._next_failure(method)
        if failure is not None:
            extra = (
                {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            )
            return failure.status, extra, {"ok": False, "error": failure.error}
        return 200, {}, self._success(method, args, token)

    def _success(self, method: str, args: dict[str, Any], token: str = "") -> dict[str, Any]:
        if method == "apps.connections.open":
            if not token.startswith("xapp-"):
                return {"ok": False, "error": "not_allowed_token_type"}
            host, port = self._server.server_address[:2]
            return {"ok": True, "url": f"ws://{host}:{port}/socket-mode/link?ticket=standin"}
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://standin.slack.test/",
                "team": "Stand-in",
                "user": "copbot",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
            }
        if method in ("chat.postMessage", "chat.update", "chat.scheduleMessage"):
            ts = args.get("ts") or f"{1700000000 + next(self._ts)}.000100"
            return {
                "ok": True,
                "channel": args.get("channel"),
                "ts": ts,
                "message": {"text": args.get("text", ""), "ts": ts, "bot_id": BOT_ID},
            }
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{1700000000 + next(self._ts)}.000200"}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):08d}"
            return {
                "ok": True,
                "file_id": file_id,
                "upload_url": f"{self.base_url}/upload/{file_id}",
            }
        if method == "files.completeUploadExternal":
            files = args.get("files")
            files = json.loads(files) if isinstance(files, str) else files
            return {
                "ok": True,
                "files": [{"id": f["id"], "title": f.get("title", "")} for f in files],
            }
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(args.get("users", "")).lstrip("UW")}}
        if method == "chat.delete":
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
        if method == "conversations.join":
            channel = str(args.get("channel", ""))
            if channel in self.private_channels:
                return {"ok": False, "error": "method_not_supported_for_channel_type"}
            return {"ok": True, "channel": {"id": channel, "is_member": True}}
        if method in ("conversations.info", "conversations.members"):
            return self._conversation(method, args)
        if method == "users.lookupByEmail":
            wanted = str(args.get("email", "")).strip().lower()
            for user in self.users.values():
                if (user["profile"].get("email") or "").lower() == wanted and wanted:
                    return {"ok": True, "user": user}
            return {"ok": False, "error": "users_not_found"}
        if method == "users.info":
            user = self.users.get(str(args.get("user", "")))
            if user is None:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": user}
        if method.startswith("views."):
            view = args.get("view")
            view = json.loads(view) if isinstance(view, str) else (view or {})
            return {
                "ok": True,
                "view": {**view, "id": f"V{next(self._views):08d}", "team_id": TEAM_ID},
            }
        return {"ok": True}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _args(self) -> dict[str, Any]:
                parsed = urlparse(self.path)
                args: dict[str, Any] = dict(parse_qsl(parsed.query))
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if raw:
                    ctype = self.headers.get("Content-Type", "")
                    if "json" in ctype:
                        args.update(json.loads(raw))
                    else:
                        args.update(parse_qsl(raw.decode()))
                return args

            def _send(self, status: int, headers: dict[str, str], body: dict[str, Any]) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)

            def _handle(self) -> None:
                path = urlparse(self.path).path
                if path.startswith("/upload/"):  # step 2 of files.uploadV2: the bytes
                    length = int(self.headers.get("Content-Length") or 0)
                    content = self.rfile.read(length) if length else b""
                    upload = {
                        "file_id": path.rsplit("/", 1)[1],
                        "content": content.decode("utf-8", "replace"),
                    }
                    standin._record(Call("file_upload", upload, {}))
                    self._send(200, {}, {"ok": True})
                    return
                if (
                    path.startswith("/socket-mode/")
                    and "websocket" in self.headers.get("Upgrade", "").lower()
                ):

                    def ready(session: _SocketModeSession) -> None:
                        with standin._lock:
                            standin._socket = session
                            standin._lock.notify_all()

                    _SocketModeSession(self).serve(on_ready=ready)
                    self.close_connection = True
                    return
                args = self._args()
                headers = {k.lower(): v for k, v in self.headers.items()}
                if path.startswith("/api/"):
                    self._send(*standin.answer(path[len("/api/") :], args, headers))
                elif path.startswith("/hooks/"):
                    problems = check_message(args)
                    markup = _raw_markup("response_url", args)
                    with standin._lock:
                        standin.violations.extend(f"response_url: {p}" for p in problems)
                        standin.raw_markup.extend(markup)
                    standin._record(Call("response_url", args, headers))
                    self._send(200, {}, {"ok": True})
                else:
                    self._send(404, {}, {"ok": False, "error": "not_found"})

            do_GET = _handle
            do_POST = _handle

        return Handler


class _PostRateLimit:
    """Token buckets: one per channel, and one for the workspace when it has a rate."""

    def __init__(self, per_channel: float, burst: int, workspace: float | None):
        self.rate, self.burst, self.workspace = per_channel, max(burst, 1), workspace
        self.channels: dict[str, tuple[float, float]] = {}  # channel -> (tokens, at)
        self.all: tuple[float, float] | None = None

    @staticmethod
    def _refill(bucket: tuple[float, float] | None, rate: float, cap: float, now: float):
        tokens, at = bucket if bucket else (cap, now)
        return min(cap, tokens + (now - at) * rate)

    def take(self, channel: str, now: float) -> int:
        """0 when the message may go now (and it is counted); else seconds to wait."""
        mine = self._refill(self.channels.get(channel), self.rate, self.burst, now)
        waits = [] if mine >= 1 else [(1 - mine) / self.rate]
        shared = None
        if self.workspace:
            shared = self._refill(self.all, self.workspace, self.workspace, now)
            if shared < 1:
                waits.append((1 - shared) / self.workspace)
        if waits:
            return max(1, int(max(waits) + 0.999))
        self.channels[channel] = (mine - 1, now)
        if shared is not None:
            self.all = (shared - 1, now)
        return 0


_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class _SocketModeSession:
    """One Socket Mode WebSocket connection: Slack's side of it, minimally (RFC 6455 frames
    without fragmentation, which is all Slack's SDK sends)."""

    def __init__(self, handler: BaseHTTPRequestHandler):
        self.handler = handler
        self.closed = False
        self._send_lock = threading.Lock()
        self._acks: dict[str, dict[str, Any]] = {}
        self._cond = threading.Condition()
        self._ids = itertools.count(1)

    def serve(self, on_ready: Callable[[_SocketModeSession], None]) -> None:
        """Handshake, hello, then frames until the app closes. The session is offered to
        `on_ready` once the app has spoken (its first ping), so nothing sent is lost."""
        key = self.handler.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()
        self.handler.wfile.write(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )
        self._send(
            1,
            json.dumps(
                {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0COPBOT"}}
            ).encode(),
        )
        announced = False
        try:
            while True:
                opcode, data = self._read_frame()
                if not announced:
                    announced = True
                    on_ready(self)
                if opcode == 8:  # close
                    self._send(8, data[:2])
                    break
                if opcode == 9:  # ping
                    self._send(10, data)
                elif opcode == 1:
                    message = json.loads(data)
                    if "envelope_id" in message:
                        with self._cond:
                            self._acks[message["envelope_id"]] = message.get("payload") or {}
                            self._cond.notify_all()
        except (ConnectionError, OSError, ValueError):
            pass
        finally:
            self.closed = True

    def deliver(self, kind: str, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
        envelope_id = f"env-{next(self._ids):06d}"
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": 0,
            "retry_reason": "",
        }
        self._send(1, json.dumps(envelope).encode())
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self._acks, timeout):
                raise AssertionError(f"no ack for {kind} envelope within {timeout} s")
            return self._acks.pop(envelope_id)

    def _send(self, opcode: int, data: bytes) -> None:
        n = len(data)
        if n < 126:
            header = bytes([0x80 | opcode, n])
        elif n < 65536:
            header = bytes([0x80 | opcode, 126]) + n.to_bytes(2, "big")
        else:
            header = bytes([0x80 | opcode, 127]) + n.to_bytes(8, "big")
        with self._send_lock:
            self.handler.wfile.write(header + data)
            self.handler.wfile.flush()

    def _read_frame(self) -> tuple[int, bytes]:
        read = self.handler.rfile.read
        head = read(2)
        if len(head) < 2:
            raise ConnectionError("socket closed")
        opcode, masked, n = head[0] & 0x0F, head[1] & 0x80, head[1] & 0x7F
        if n == 126:
            n = int.from_bytes(read(2), "big")
        elif n == 127:
            n = int.from_bytes(read(8), "big")
        mask = read(4) if masked else b""
        data = read(n)
        if mask:
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        return opcode, data
