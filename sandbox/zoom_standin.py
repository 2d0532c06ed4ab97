"""A local stand-in for Zoom: the Server-to-Server OAuth token endpoint and the Meetings
API, on 127.0.0.1, holding every request against Zoom's OpenAPI (Swagger 2.0) spec.

Point copbot at it with `ZOOM_OAUTH_URL=<standin.oauth_url>` and
`ZOOM_API_URL=<standin.api_url>`. Tokens expire as told (`token_lifetime`); a request
with an unknown or expired token gets 401 with code 124 as Zoom answers. Failures can be
scripted: `standin.fail("POST /users/{userId}/meetings", 500, times=2)`,
`standin.fail(..., 429, retry_after=1)`, `standin.delay(..., seconds=2)` (for timeouts),
and the token endpoint too: `standin.fail_token(503)`, `standin.fail_token(200,
bad_json=True)`, `standin.fail_token(drop=True)` (the connection closes unanswered),
`standin.delay_token(seconds)`. Scopes as Zoom has them: a token carries the app's
`scopes` of the moment it is made (default: every granular scope copbot needs), the
token answer lists them in `scope`, and a route whose scope (from
`integrations.zoom_scopes`) the token lacks is refused with HTTP 400, code 4711,
"Invalid access token, does not contain scopes:[…]". As Zoom does, the list of a user's
meetings comes in pages of `page_size` (`page_number` from 1) and shows only the first
250 characters of each agenda. Anything that does not fit the spec is answered 400 and listed in
`violations`.

After a call: `add_past_meeting(meeting_id, uuid, start, participants)` records an ended
instance whose participants (one record per join, as Zoom gives them: rejoins repeat a
person, guests come without `user_email`) are listed in pages of `page_size` with a
`next_page_token`; a UUID that starts with `/` or holds `//` must come encoded twice, as
Zoom documents (once-encoded it is answered 404 and listed in `violations`).
`add_recording(meeting_id, uuid, share_url, password)` gives the meeting's recording.
Webhook deliveries are in `sandbox.zoom_webhooks`.

Hosts, as Zoom has them: a meeting belongs to the user it was created for
(`POST /users/{userId}/meetings`; a user the account does not have, `add_user`, is
answered 404 with code 1001), and that user's list shows only their meetings. A
user makes or changes at most `daily_limit` (100) meetings a UTC day (`clock` tells the
day): the next create or update is answered 429 with Zoom's daily-limit message and no
Retry-After. A user hosts `concurrent_meetings` (1) meeting at a time: `start_meeting(id)`
is refused (False, listed in `refused_starts`) while another of the host's meetings is
live, and a meeting taken as held after the call could not start if an earlier meeting
of the same host overlapped it (it then has no participants, and is in `refused_starts`).

Registration, as Zoom's current API has it: a meeting requires registration when its
`settings.approval_type` is 0 (automatic) or 1 (manual); otherwise adding a registrant,
one (`POST /meetings/{id}/registrants`) or up to 30 at once (`POST
/meetings/{id}/batch_registrants`, which also needs automatic approval and a scheduled
meeting), is refused with HTTP 400 and code 3000. Each registrant gets a `registrant_id`
and a join link of their own; registering an email again answers the same registrant.
`PUT /meetings/{id}/registrants/status` cancels, denies or approves up to 30; `GET
/meetings/{id}/registrants` lists them by status, in pages. `register(meeting_id, email,
name)` is what Zoom's own registration page does for someone who finds the meeting.

Emails, as Zoom shows them since March 2022: a participant's `user_email` is shown only
for users of the account (`add_user`, the hosts among them) and for people who
registered for that meeting (who then also carry their `registrant_id`); every other
participant comes with an empty `user_email`. The records given to `add_past_meeting` are
the truth (each person's real email); the API answers what Zoom would show of it.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlparse

import jsonschema

from integrations import zoom_scopes

SPEC_PATH = Path(__file__).with_name("specs") / "zoom_meetings_openapi.json"

ACCOUNT_ID = "standin-account"
CLIENT_ID = "standin-client"
CLIENT_SECRET = "standin-secret"


TOKEN_ROUTE = "POST /oauth/token"
CREATE_ROUTE = "POST /users/{userId}/meetings"
UPDATE_ROUTE = "PATCH /meetings/{meetingId}"
DAILY_LIMIT_MESSAGE = (
    "You have reached the maximum daily rate limit for this API. Refer to the response "
    "header for details on when you can make another request."
)

# the operations copbot uses that the 2018 copy of Zoom's spec lacks, as Zoom's current
# reference documents them ("Perform batch registration")
SUPPLEMENT: dict[str, dict[str, Any]] = {
    "POST /meetings/{meetingId}/batch_registrants": {
        "path": [{"name": "meetingId", "type": "integer", "in": "path"}],
        "query": {},
        "body": {
            "type": "object",
            "properties": {
                "auto_approve": {"type": "boolean"},
                "registrants_confirmation_email": {"type": "boolean"},
                "registrants": {
                    "type": "array",
                    "maxItems": 30,
                    "items": {
                        "type": "object",
                        "required": ["email", "first_name"],
                        "properties": {
                            "email": {"type": "string"},
                            "first_name": {"type": "string", "maxLength": 64},
                            "last_name": {"type": "string", "maxLength": 64},
                        },
                    },
                },
            },
        },
        "body_required": True,
    },
}
REGISTRATION_OFF = 3000  # Zoom's code for "Registration has not been enabled"

DROP = -1  # a status that means: close the connection without answering
NOT_JSON = object()  # an answer body that is not JSON
RETENTION = object()  # a recording's deletion date: the account's retention, as Zoom sets it


@dataclass
class ZoomCall:
    route: str  # e.g. "POST /users/{userId}/meetings"
    path: str
    params: dict[str, str]
    body: Any
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Script:
    status: int
    code: int | None
    message: str
    retry_after: str | None
    delay: float
    remaining: int
    then_succeed_slowly: bool = False
    bad_json: bool = False
    drop: bool = False


def _inline(node: Any, spec: dict[str, Any], refs: int = 0) -> Any:
    """The schema with its local $refs replaced by what they point at (a chain of more
    than 12 references, which only a recursive schema has, becomes an open schema)."""
    if isinstance(node, dict):
        if "$ref" in node:
            if refs > 12:
                return {}
            target: Any = spec
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return _inline(target, spec, refs + 1)
        return {k: _inline(v, spec, refs) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, spec, refs) for v in node]
    return node


def _declared_properties(schema: dict[str, Any]) -> set[str]:
    names = set(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        names |= _declared_properties(part)
    return names


def _property_schema(schema: dict[str, Any], name: str) -> dict[str, Any] | None:
    if name in schema.get("properties", {}):
        return schema["properties"][name]
    for part in schema.get("allOf", []):
        found = _property_schema(part, name)
        if found is not None:
            return found
    return None


class ZoomSpec:
    """The operations of Zoom's Meetings API spec that copbot uses, with their parameters."""

    def __init__(self, path: Path = SPEC_PATH):
        spec = json.loads(path.read_text())
        self.operations: dict[str, dict[str, Any]] = {}
        for route, ops in spec["paths"].items():
            for verb, op in ops.items():
                params = [_inline(p, spec) for p in op.get("parameters", [])]
                self.operations[f"{verb.upper()} {route}"] = {
                    "path": [p for p in params if p.get("in") == "path"],
                    "query": {p["name"]: p for p in params if p.get("in") == "query"},
                    "body": next((p["schema"] for p in params if p.get("in") == "body"), None),
                    "body_required": any(
                        p.get("in") == "body" and p.get("required") for p in params
                    ),
                }
        self.operations.update(SUPPLEMENT)
        self.routes = [
            (key, re.compile("^" + re.sub(r"\{[^}]+\}", "([^/]+)", key.split(" ", 1)[1]) + "$"))
            for key in self.operations
        ]

    def route_of(self, verb: str, path: str) -> tuple[str, list[str]] | None:
        for key, pattern in self.routes:
            if not key.startswith(verb + " "):
                continue
            match = pattern.match(path)
            if match:
                return key, list(match.groups())
        return None

    def check(
        self, route: str, path_values: list[str], query: dict[str, str], body: Any
    ) -> list[str]:
        op = self.operations[route]
        problems = []
        for param, value in zip(op["path"], path_values, strict=False):
            if param.get("type") == "integer" and not value.isdigit():
                problems.append(f"{route}: path {param['name']} should be an integer")
        for name, value in query.items():
            param = op["query"].get(name)
            if param is None:
                problems.append(f"{route}: query parameter {name!r} is not in the spec")
            elif "enum" in param and value not in param["enum"]:
                problems.append(f"{route}: {name}={value!r} is not one of {param['enum']}")
        schema = op["body"]
        if schema is None:
            if body is not None:
                problems.append(f"{route}: takes no body")
            return problems
        if body is None:
            if op["body_required"]:
                problems.append(f"{route}: a body is required")
            return problems
        declared = _declared_properties(schema)
        for name in body:
            if name not in declared:
                problems.append(f"{route}: body field {name!r} is not in the spec")
        settings = _property_schema(schema, "settings")
        if settings and isinstance(body.get("settings"), dict):
            for name in body["settings"]:
                if name not in _declared_properties(settings):
                    problems.append(f"{route}: settings field {name!r} is not in the spec")
        validator = jsonschema.Draft4Validator(schema)
        problems += [f"{route}: {e.message}" for e in validator.iter_errors(body)]
        return problems


class ZoomStandIn:
    """A local Zoom; see the module docstring."""

    def __init__(
        self,
        spec: ZoomSpec | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        token_lifetime: int = 3599,
        scopes: list[str] | tuple[str, ...] | None = None,
    ):
        self.spec = spec or ZoomSpec()
        self.token_lifetime = token_lifetime
        # the account's "delete cloud recordings after N days" (None: kept)
        self.retention_days: int | None = 30
        # the scopes the app holds: a token carries those of the moment it is made; by
        # default every granular scope copbot needs, so the sandbox works
        self.scopes: tuple[str, ...] = tuple(scopes if scopes is not None else zoom_scopes.needed())
        self._token_scopes: dict[str, frozenset[str]] = {}
        # the account's users, by id and by email (GET /users/{userId}); "me" is the
        # app's creator
        self.users: dict[str, dict[str, Any]] = {}
        self.calls: list[ZoomCall] = []
        self.token_requests = 0
        self.violations: list[str] = []
        self.meetings: dict[int, dict[str, Any]] = {}
        # ended instances per meeting id: {"uuid", "start_time", "participants"}
        self.past: dict[int, list[dict[str, Any]]] = {}
        self.recordings: dict[str, dict[str, Any]] = {}  # by meeting id and by uuid
        # when set: a meeting the stand-in made, asked about after the call, was held with
        # these participants (records as `add_past_meeting` takes them) and recorded
        self.attendees: Any = None
        # hosts: each meeting's user, creates/updates per user and UTC day, live meetings
        self.daily_limit = 100
        self.concurrent_meetings = 1
        self.clock = lambda: datetime.now(UTC)
        self.owners: dict[int, str] = {}  # a meeting put in `meetings` by hand is "me"'s
        self.requests_per_day: dict[tuple[str, str], int] = {}
        self.live: set[int] = set()
        self.refused_starts: list[int] = []
        # registrants per meeting id, in the order they registered
        self.registrants: dict[int, list[dict[str, Any]]] = {}
        self._tokens: dict[str, float] = {}
        self._scripts: dict[str, list[_Script]] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(85000000001)
        self._token_ids = itertools.count(1)
        self._registrant_ids = itertools.count(1)
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self.add_user("host@example.org", user_id="standin-host", me=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/v2"

    @property
    def oauth_url(self) -> str:
        return f"{self.base_url}/oauth/token"

    def start(self) -> ZoomStandIn:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ZoomStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- scripting ----------------------------------------------------------------------
    def fail(
        self,
        route: str,
        status: int,
        *,
        code: int | None = None,
        message: str = "",
        retry_after: str | int | None = None,
        times: int = 1,
    ) -> None:
        with self._lock:
            self._scripts.setdefault(route, []).append(
                _Script(
                    status,
                    code,
                    message or f"stand-in failure {status}",
                    None if retry_after is None else str(retry_after),
                    0.0,
                    times,
                )
            )

    def delay(
        self, route: str, seconds: float, *, times: int = 1, then_succeed: bool = True
    ) -> None:
        """Answer the next calls of `route` only after `seconds` (the client times out).
        With `then_succeed`, the delayed call still takes effect, as a slow Zoom would."""
        with self._lock:
            self._scripts.setdefault(route, []).append(
                _Script(200, None, "", None, seconds, times, then_succeed_slowly=then_succeed)
            )

    def fail_token(
        self,
        status: int = 503,
        *,
        times: int = 1,
        bad_json: bool = False,
        drop: bool = False,
    ) -> None:
        """The next `times` token requests fail: with `status`, with a body that is not
        JSON (`bad_json`), or by closing the connection without an answer (`drop`)."""
        with self._lock:
            self._scripts.setdefault(TOKEN_ROUTE, []).append(
                _Script(status, None, "", None, 0.0, times, bad_json=bad_json, drop=drop)
            )

    def delay_token(self, seconds: float, *, times: int = 1) -> None:
        """The next `times` token requests are answered only after `seconds`."""
        with self._lock:
            self._scripts.setdefault(TOKEN_ROUTE, []).append(
                _Script(200, None, "", None, seconds, times, then_succeed_slowly=True)
            )

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens = {t: 0.0 for t in self._tokens}

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.violations.clear()
            self._scripts.clear()
            self.meetings.clear()
            self.past.clear()
            self.recordings.clear()
            self.registrants.clear()
            self.token_requests = 0
            self.owners.clear()
            self.requests_per_day.clear()
            self.live.clear()
            self.refused_starts.clear()
            self.scopes = zoom_scopes.needed()
            self.retention_days = 30
            self.users.clear()
        self.add_user("host@example.org", user_id="standin-host", me=True)
        self.daily_limit = 100
        self.concurrent_meetings = 1
        self.clock = lambda: datetime.now(UTC)

    def add_past_meeting(
        self,
        meeting_id: int,
        uuid: str,
        start: datetime,
        participants: list[dict[str, Any]],
    ) -> None:
        """An ended instance of `meeting_id` and its participant records (fields as
        Zoom's current API gives them: id, name, user_email, join_time, leave_time,
        duration in seconds)."""
        with self._lock:
            self.past.setdefault(int(meeting_id), []).append(
                {
                    "uuid": uuid,
                    "start_time": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "participants": list(participants),
                }
            )

    def add_recording(
        self,
        meeting_id: int,
        uuid: str,
        share_url: str,
        password: str = "",
        start: datetime | None = None,
        deletes_on: date | None | object = RETENTION,
    ) -> dict[str, Any]:
        """The meeting's cloud recording, as GET /meetings/{id}/recordings answers it. As
        on an account that deletes recordings after `retention_days` (Zoom's setting
        "Delete cloud recordings after N days"), it carries `auto_delete_date`; give
        `deletes_on` a date, or None for an account that keeps them."""
        began = (start or datetime.now(UTC)).astimezone(UTC)
        when = began.strftime("%Y-%m-%dT%H:%M:%SZ")
        if deletes_on is RETENTION:
            deletes_on = (
                began.date() + timedelta(days=self.retention_days) if self.retention_days else None
            )
        recording = {
            "uuid": uuid,
            "id": int(meeting_id),
            "account_id": ACCOUNT_ID,
            "host_id": "standin-host",
            "topic": "",
            "start_time": when,
            "duration": 60,
            "total_size": 1000,
            "recording_count": 1,
            "share_url": share_url,
            "password": password,
            "auto_delete": isinstance(deletes_on, date),
            **(
                {"auto_delete_date": deletes_on.isoformat()} if isinstance(deletes_on, date) else {}
            ),
            "recording_files": [
                {
                    "id": f"file-{meeting_id}",
                    "meeting_id": uuid,
                    "recording_start": when,
                    "recording_end": when,
                    "file_type": "MP4",
                    "file_size": 1000,
                    "play_url": f"{share_url}/play",
                    "download_url": f"{share_url}/download",
                    "status": "completed",
                    "recording_type": "shared_screen_with_speaker_view",
                }
            ],
        }
        with self._lock:
            self.recordings[str(int(meeting_id))] = recording
            self.recordings[uuid] = recording
        return recording

    def _key(self, user: str) -> str:
        """The account user a {userId} names (by id, email or "me"): their id; a name
        the account does not know, as it was written (emails compare without case)."""
        named = unquote(user).strip()
        found = self.users.get(named) or self.users.get(named.lower())
        return found["id"] if found else named.lower()

    def meetings_of(self, user: str) -> list[dict[str, Any]]:
        """The meetings made for `user` (as the path named them: an email, an id, `me`)."""
        key = self._key(user)
        with self._lock:
            return [
                m for i, m in self.meetings.items() if self.owners.get(i, self._key("me")) == key
            ]

    def start_meeting(self, meeting_id: int) -> bool:
        """The host starts the meeting (or, with join before host, its first participant
        joins): refused while the host has `concurrent_meetings` live already."""
        with self._lock:
            owner = self.owners.get(int(meeting_id))
            busy = [
                i
                for i in self.live
                if self.owners.get(i, self._key("me")) == owner and i != meeting_id
            ]
            if owner is None or len(busy) >= self.concurrent_meetings:
                self.refused_starts.append(int(meeting_id))
                return False
            self.live.add(int(meeting_id))
            return True

    def end_meeting(self, meeting_id: int) -> None:
        with self._lock:
            self.live.discard(int(meeting_id))

    def _over_daily_limit(self, user: str) -> bool:
        """Count one create/update of `user` today; True (not counted) past the limit."""
        key = (self._key(user), self.clock().astimezone(UTC).date().isoformat())
        with self._lock:
            done = self.requests_per_day.get(key, 0)
            if done >= self.daily_limit:
                return True
            self.requests_per_day[key] = done + 1
            return False

    def register(self, meeting_id: int, email: str, name: str = "") -> dict[str, Any]:
        """Someone registers on the meeting's Zoom page (registration must be on)."""
        first, _, last = (name or email.split("@")[0]).partition(" ")
        status, _, answer = self._add_registrant(
            int(meeting_id), {"email": email, "first_name": first, "last_name": last}
        )
        if status >= 400:
            raise ValueError(answer["message"])
        return answer

    def registrant_of(self, meeting_id: int, email: str) -> dict[str, Any] | None:
        """The meeting's registrant with that email, whatever their status."""
        wanted = email.strip().lower()
        with self._lock:
            for r in self.registrants.get(int(meeting_id), []):
                if r["email"].lower() == wanted:
                    return r
        return None

    def add_user(
        self,
        email: str,
        *,
        user_id: str | None = None,
        type: int = 2,
        status: str = "active",
        me: bool = False,
    ) -> dict[str, Any]:
        """A user of the account, as GET /users/{userId} answers it (type 1 Basic, 2
        Licensed; status active, inactive or pending)."""
        user = {
            "id": user_id or f"user-{len(self.users) + 1}",
            "email": email,
            "first_name": email.split("@")[0],
            "last_name": "",
            "type": type,
            "status": status,
            "timezone": "UTC",
        }
        with self._lock:
            self.users[user["id"]] = user
            self.users[email.lower()] = user
            if me:
                self.users["me"] = user
        return user

    def calls_to(self, route: str) -> list[ZoomCall]:
        with self._lock:
            return [c for c in self.calls if c.route == route]

    # ---- answering ------------------------------------------------------------------------
    def _token_answer(
        self, headers: dict[str, str], query: dict[str, str]
    ) -> tuple[int, dict, Any]:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        with self._lock:
            self.token_requests += 1
        script = self._next_script(TOKEN_ROUTE)
        if script is not None:
            if script.drop:
                return DROP, {}, None
            if script.bad_json:
                return script.status, {}, NOT_JSON
            if script.delay:
                time.sleep(script.delay)
            else:
                return script.status, {}, {"reason": script.message, "error": "server_error"}
        if headers.get("authorization") != f"Basic {expected}":
            return (
                401,
                {},
                {"reason": "Invalid client_id or client_secret", "error": "invalid_client"},
            )
        if (
            query.get("grant_type") != "account_credentials"
            or query.get("account_id") != ACCOUNT_ID
        ):
            return 400, {}, {"reason": "Invalid request : account_id", "error": "invalid_request"}
        token = f"standin-token-{next(self._token_ids)}"
        with self._lock:
            self._tokens[token] = time.monotonic() + self.token_lifetime
            self._token_scopes[token] = frozenset(self.scopes)
            granted = " ".join(self.scopes)
        return (
            200,
            {},
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": self.token_lifetime,
                "scope": granted,
                "api_url": self.base_url,
            },
        )

    def _scope_refusal(self, route: str, token: str) -> dict[str, Any] | None:
        """Zoom's answer to a token without the route's scope: HTTP 400, code 4711, naming
        the scopes that would do (granular user- and admin-level; classic for a token of
        classic scopes)."""
        row = zoom_scopes.of_route(route)
        with self._lock:
            held = self._token_scopes.get(token, frozenset())
        if row is None or row.covered_by(held):
            return None
        classic = any(name in zoom_scopes.CLASSIC for name in held)
        names = [*row.classic] if classic and row.classic else [row.user_level, row.granular]
        return {
            "code": 4711,
            "message": f"Invalid access token, does not contain scopes:[{', '.join(names)}].",
        }

    def _next_script(self, route: str) -> _Script | None:
        with self._lock:
            queue = self._scripts.get(route)
            if not queue:
                return None
            script = queue[0]
            script.remaining -= 1
            if script.remaining <= 0:
                queue.pop(0)
            return script

    def answer(
        self, verb: str, path: str, query: dict[str, str], body: Any, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], Any]:
        if path == "/oauth/token" and verb == "POST":
            return self._token_answer(headers, query)
        if not path.startswith("/v2/"):
            return 404, {}, {"code": 404, "message": "Not found"}
        api_path = path[len("/v2") :]
        found = self.spec.route_of(verb, api_path)
        if found is None:
            with self._lock:
                self.violations.append(f"{verb} {api_path}: not in Zoom's spec")
            return 404, {}, {"code": 404, "message": "No such API"}
        route, values = found
        with self._lock:
            self.calls.append(ZoomCall(route, api_path, query, body, headers))
        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        with self._lock:
            valid = self._tokens.get(token, 0.0) > time.monotonic()
        if not valid:
            return 401, {}, {"code": 124, "message": "Invalid access token."}
        refusal = self._scope_refusal(route, token)
        if refusal is not None:
            return 400, {}, refusal
        problems = self.spec.check(route, values, query, body)
        if problems:
            with self._lock:
                self.violations.extend(problems)
            return 400, {}, {"code": 300, "message": "; ".join(problems)}
        if route in (CREATE_ROUTE, "GET /users/{userId}/meetings"):
            named = unquote(values[0])
            with self._lock:
                known = bool(self.users.get(named) or self.users.get(named.lower()))
            if not known:
                return 404, {}, {"code": 1001, "message": f"User does not exist: {named}."}
        over = None
        if route == CREATE_ROUTE:
            over = self._over_daily_limit(values[0])
        elif route == UPDATE_ROUTE and values[0].isdigit():
            with self._lock:
                owner = self.owners.get(int(values[0]))
            over = owner is not None and self._over_daily_limit(owner)
        if over:  # Zoom's daily limit: no Retry-After, try again after 00:00 UTC
            return 429, {}, {"code": 429, "message": DAILY_LIMIT_MESSAGE}
        script = self._next_script(route)
        if script is not None:
            if script.delay:
                time.sleep(script.delay)
                if not script.then_succeed_slowly:
                    return 504, {}, {"code": 504, "message": "timeout"}
            else:
                extra = {"Retry-After": script.retry_after} if script.retry_after else {}
                return (
                    script.status,
                    extra,
                    {"code": script.code or script.status, "message": script.message},
                )
        return self._success(route, values, query, body)

    def _success(
        self, route: str, values: list[str], query: dict[str, str], body: Any
    ) -> tuple[int, dict[str, str], Any]:
        if route == "POST /users/{userId}/meetings":
            meeting_id = next(self._ids)
            meeting = {
                "id": meeting_id,
                "uuid": f"uuid{meeting_id}==",
                "host_id": "standin-host" if values[0] == "me" else f"host-{values[0]}",
                "host_email": values[0] if "@" in values[0] else "host@example.org",
                "topic": body.get("topic", ""),
                "type": body.get("type", 2),
                "status": "waiting",
                "start_time": body.get("start_time"),
                "duration": body.get("duration"),
                "timezone": body.get("timezone", "UTC"),
                "agenda": body.get("agenda", ""),
                "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "join_url": f"https://zoom.example/j/{meeting_id}?pwd=standin",
                "password": "cop123",
                "settings": {"approval_type": 2, **(body.get("settings") or {})},
            }
            with self._lock:
                self.meetings[meeting_id] = meeting
                self.owners[meeting_id] = self._key(values[0])
            return 201, {}, meeting
        if route == "GET /users/{userId}/meetings":
            return 200, {}, self._list_page(query, self._key(values[0]))
        if route == "GET /users/{userId}":
            with self._lock:
                named = unquote(values[0])
                user = self.users.get(named) or self.users.get(named.lower())
            if user is None:
                return 404, {}, {"code": 1001, "message": f"User does not exist: {values[0]}."}
            return 200, {}, user
        if route == "GET /past_meetings/{meetingUUID}/participants":
            return self._participants(values[0], query)
        if route == "GET /past_meetings/{meetingId}/instances":
            self._held(int(values[0]))
            with self._lock:
                past = self.past.get(int(values[0]))
            if past is None:
                return 404, {}, {"code": 3001, "message": "Meeting does not exist."}
            listed = [{"uuid": p["uuid"], "start_time": p["start_time"]} for p in past]
            return 200, {}, {"meetings": listed}
        if route == "GET /meetings/{meetingId}/recordings":
            if values[0].isdigit():
                self._held(int(values[0]))
            key = values[0] if values[0].isdigit() else self._uuid_of(values[0])
            with self._lock:
                recording = self.recordings.get(key or "")
            if recording is None:
                return 404, {}, {"code": 3301, "message": "This recording does not exist."}
            return 200, {}, recording
        meeting_id = int(values[0])
        with self._lock:
            meeting = self.meetings.get(meeting_id)
        if meeting is None:
            return 404, {}, {"code": 3001, "message": f"Meeting does not exist: {meeting_id}."}
        if route == "GET /meetings/{meetingId}":
            return 200, {}, meeting
        if route == "PATCH /meetings/{meetingId}":
            with self._lock:
                settings = {**meeting.get("settings", {}), **(body.get("settings") or {})}
                meeting.update(body)
                meeting["settings"] = settings
            return 204, {}, None
        if route == "POST /meetings/{meetingId}/registrants":
            return self._add_registrant(meeting_id, body)
        if route == "POST /meetings/{meetingId}/batch_registrants":
            return self._batch(meeting_id, meeting, body)
        if route == "GET /meetings/{meetingId}/registrants":
            return self._registrant_page(meeting_id, meeting, query)
        if route == "PUT /meetings/{meetingId}/registrants/status":
            return self._registrant_status(meeting_id, meeting, body)
        if route == "DELETE /meetings/{meetingId}":
            with self._lock:
                del self.meetings[meeting_id]
                self.owners.pop(meeting_id, None)
                self.live.discard(meeting_id)
            return 204, {}, None
        return 404, {}, {"code": 404, "message": "Not supported by the stand-in"}

    # ---- registration ---------------------------------------------------------------------
    @staticmethod
    def _registration_on(meeting: dict[str, Any]) -> bool:
        return (meeting.get("settings") or {}).get("approval_type", 2) in (0, 1)

    @staticmethod
    def _registration_off(meeting_id: int) -> tuple[int, dict, Any]:
        message = f"Registration has not been enabled for this meeting: {meeting_id}."
        return 400, {}, {"code": REGISTRATION_OFF, "message": message}

    def _add_registrant(self, meeting_id: int, body: dict[str, Any]) -> tuple[int, dict, Any]:
        with self._lock:
            meeting = self.meetings.get(meeting_id)
            if meeting is None:
                return 404, {}, {"code": 3001, "message": f"Meeting does not exist: {meeting_id}."}
            if not self._registration_on(meeting):
                return self._registration_off(meeting_id)
            registrant = self._registrant_locked(meeting, body)
        answer = {
            "id": meeting_id,
            "registrant_id": registrant["id"],
            "topic": meeting.get("topic", ""),
            "start_time": meeting.get("start_time"),
            "join_url": registrant["join_url"],
        }
        return 201, {}, answer

    def _registrant_locked(self, meeting: dict[str, Any], body: dict[str, Any]) -> dict:
        """The registrant of `body`'s email, made or (when cancelled) approved again."""
        listed = self.registrants.setdefault(int(meeting["id"]), [])
        email = str(body["email"]).strip()
        for r in listed:
            if r["email"].lower() == email.lower():
                if r["status"] != "approved" and meeting["settings"].get("approval_type") == 0:
                    r["status"] = "approved"
                return r
        token = f"{next(self._registrant_ids):06d}"
        approved = meeting["settings"].get("approval_type") == 0
        registrant = {
            "id": f"reg{token}",
            "email": email,
            "first_name": body.get("first_name", ""),
            "last_name": body.get("last_name", ""),
            "status": "approved" if approved else "pending",
            "create_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "join_url": f"https://zoom.example/w/{meeting['id']}?tk=tk{token}",
        }
        listed.append(registrant)
        return registrant

    def _batch(self, meeting_id: int, meeting: dict, body: dict) -> tuple[int, dict, Any]:
        with self._lock:
            if not self._registration_on(meeting):
                return self._registration_off(meeting_id)
            if meeting.get("type", 2) != 2:
                message = "Batch registration is only for scheduled meetings (type 2)."
                return 400, {}, {"code": 300, "message": message}
            if meeting["settings"].get("approval_type") != 0:
                message = "Batch registration needs automatic approval (approval_type 0)."
                return 400, {}, {"code": 300, "message": message}
            made = [self._registrant_locked(meeting, r) for r in body.get("registrants") or []]
        return (
            201,
            {},
            {
                "registrants": [
                    {
                        "registrant_id": r["id"],
                        "email": r["email"],
                        "join_url": r["join_url"],
                        "participant_pin_code": 100000 + n,
                    }
                    for n, r in enumerate(made)
                ]
            },
        )

    def _registrant_page(self, meeting_id: int, meeting: dict, query: dict) -> tuple:
        if not self._registration_on(meeting):
            return self._registration_off(meeting_id)
        status = query.get("status", "approved")
        size = int(query.get("page_size", 30))
        number = max(int(query.get("page_number", 1)), 1)
        if not 1 <= size <= 300:
            return 400, {}, {"code": 300, "message": "page_size must be 1 to 300"}
        with self._lock:
            found = [dict(r) for r in self.registrants.get(meeting_id, []) if r["status"] == status]
        page = found[(number - 1) * size : number * size]
        return (
            200,
            {},
            {
                "page_count": -(-len(found) // size) if found else 0,
                "page_number": number,
                "page_size": size,
                "total_records": len(found),
                "registrants": page,
            },
        )

    def _registrant_status(self, meeting_id: int, meeting: dict, body: dict) -> tuple:
        if not self._registration_on(meeting):
            return self._registration_off(meeting_id)
        named = body.get("registrants") or []
        if len(named) > 30:
            return 400, {}, {"code": 300, "message": "At most 30 registrants at a time."}
        new = {"approve": "approved", "cancel": "cancelled", "deny": "denied"}[body["action"]]
        with self._lock:
            listed = self.registrants.get(meeting_id, [])
            for item in named:
                for r in listed:
                    if r["id"] == item.get("id") or (
                        item.get("email") and r["email"].lower() == str(item["email"]).lower()
                    ):
                        r["status"] = new
        return 204, {}, None

    def _shown(self, meeting_id: int | None, record: dict[str, Any]) -> dict[str, Any]:
        """A participant record as Zoom's API shows it: the email of a guest only if they
        registered (with their registrant id), of the account's users always."""
        truth = (record.get("user_email") or "").strip()
        shown = {k: v for k, v in record.items() if k != "registrant_id"}
        registrant = None
        with self._lock:
            for r in self.registrants.get(meeting_id or 0, []):
                named = record.get("registrant_id")
                if (named and r["id"] == named) or (
                    truth and not named and r["email"].lower() == truth.lower()
                ):
                    registrant = r
                    break
            internal = bool(truth) and truth.lower() in self.users
        if registrant is not None and registrant["status"] == "approved":
            shown["registrant_id"] = registrant["id"]
            shown["user_email"] = registrant["email"]
        elif not internal:
            shown["user_email"] = ""
        shown["internal_user"] = internal
        return shown

    def _held(self, meeting_id: int) -> None:
        """With `attendees` set, a meeting it made is taken as held once asked about."""
        with self._lock:
            meeting = self.meetings.get(meeting_id)
            known = meeting_id in self.past
        if self.attendees is None or meeting is None or known:
            return
        start = meeting.get("start_time") or ""
        try:
            when = datetime.fromisoformat(start.replace("Z", "+00:00"))
        except ValueError:
            return
        if self._host_was_busy(meeting_id, when, int(meeting.get("duration") or 60)):
            with self._lock:
                self.refused_starts.append(meeting_id)
            return  # the host had another meeting live: this one never started
        uuid = f"held{meeting_id}=="
        self.add_past_meeting(meeting_id, uuid, when, self.attendees(meeting, when))
        self.add_recording(meeting_id, uuid, f"{meeting.get('join_url', '')}&recording=1", "")

    def _host_was_busy(self, meeting_id: int, when: datetime, minutes: int) -> bool:
        """Did `concurrent_meetings` earlier meetings of the same host overlap this one?"""
        end = when.timestamp() + minutes * 60
        with self._lock:
            owner = self.owners.get(meeting_id)
            others = [
                (i, m)
                for i, m in self.meetings.items()
                if i != meeting_id and self.owners.get(i, self._key("me")) == owner
            ]
        earlier = 0
        for other_id, other in others:
            try:
                start = datetime.fromisoformat(
                    (other.get("start_time") or "").replace("Z", "+00:00")
                )
            except ValueError:
                continue
            other_end = start.timestamp() + int(other.get("duration") or 60) * 60
            overlaps = start.timestamp() < end and when.timestamp() < other_end
            first = (start, other_id) < (when, meeting_id)
            if overlaps and first:
                earlier += 1
        return earlier >= self.concurrent_meetings

    def _uuid_of(self, segment: str) -> str | None:
        """The UUID a path segment names, read as Zoom reads it: decoded once, and once
        more if it was encoded twice. A UUID with `/` that came encoded only once is what
        Zoom cannot read: None, and a violation."""
        once = unquote(segment)
        if "/" in once:
            with self._lock:
                self.violations.append(f"meeting UUID {once!r} holds '/': it must be encoded twice")
            return None
        return unquote(once) if "%" in once else once

    def _participants(self, segment: str, query: dict[str, str]) -> tuple[int, dict, Any]:
        uuid = self._uuid_of(segment)
        with self._lock:
            found = [
                (mid, p)
                for mid, past in self.past.items()
                for p in past
                if uuid and p["uuid"] == uuid
            ]
        if not found:
            return 404, {}, {"code": 3001, "message": "Meeting does not exist."}
        size = int(query.get("page_size", 30))
        if not 1 <= size <= 300:
            with self._lock:
                self.violations.append(f"participants page_size {size} is not 1 to 300")
            return 400, {}, {"code": 300, "message": "page_size must be 1 to 300"}
        token = query.get("next_page_token", "")
        start = int(token.removeprefix("page-")) if token.startswith("page-") else 0
        if token and not token.startswith("page-"):
            return 400, {}, {"code": 300, "message": "Invalid next_page_token"}
        meeting_id, held = found[0]
        everyone = held["participants"]
        page = [self._shown(meeting_id, p) for p in everyone[start : start + size]]
        following = start + size
        return (
            200,
            {},
            {
                "page_count": -(-len(everyone) // size) if everyone else 0,
                "page_size": size,
                "total_records": len(everyone),
                "next_page_token": f"page-{following}" if following < len(everyone) else "",
                "participants": page,
            },
        )

    def _list_page(self, query: dict[str, str], user: str) -> dict[str, Any]:
        """One page of the user's meetings, as Zoom lists them: agendas cut to 250."""
        size = min(int(query.get("page_size", 30)), 300)
        number = max(int(query.get("page_number", 1)), 1)
        with self._lock:
            meetings = [
                m for i, m in self.meetings.items() if self.owners.get(i, self._key("me")) == user
            ]
        page = meetings[(number - 1) * size : number * size]
        shown = ("uuid", "id", "host_id", "topic", "type", "start_time", "duration")
        shown += ("timezone", "created_at", "join_url")
        listed = [
            {**{k: m[k] for k in shown if k in m}, "agenda": (m.get("agenda") or "")[:250]}
            for m in page
        ]
        return {
            "page_size": size,
            "page_count": -(-len(meetings) // size) if meetings else 0,
            "page_number": number,
            "total_records": len(meetings),
            "meetings": listed,
        }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                parsed = urlparse(self.path)
                query = dict(parse_qsl(parsed.query))
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    status, extra, answer = 400, {}, {"code": 300, "message": "Invalid JSON"}
                else:
                    status, extra, answer = standin.answer(
                        self.command, parsed.path, query, body, headers
                    )
                if status == DROP:
                    self.close_connection = True
                    return  # no answer at all: the client sees the connection close
                if answer is NOT_JSON:
                    payload = b"<html>upstream error</html>"
                else:
                    payload = b"" if answer is None else json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json;charset=UTF-8")
                    self.send_header("Content-Length", str(len(payload)))
                    for k, v in extra.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

        return Handler
