"""The Zoom Meetings client: Server-to-Server OAuth on `requests`.

- The access token (`grant_type=account_credentials`, Basic auth of client id and secret)
  is cached until shortly before it expires and shared by threads.
- A 401 (or Zoom error code 124, invalid token) refreshes the token once.
- Code 4711 (the token lacks a scope) also gets one fresh token (an admin may have added
  the scope since), then raises `ZoomScopeMissing` naming the scope to add; the token
  answer's `scope` field is kept as `granted_scopes` (see `integrations.zoom_scopes`).
- 429 and 5xx are retried with exponential back-off and jitter, honouring `Retry-After`,
  within a bounded total time; every request has a timeout. A 429 for Zoom's daily limit
  (100 meeting creates/updates a user a UTC day) is not retried: `ZoomDailyLimit`.
- Creating a meeting is idempotent per `marker`: the marker opens the meeting's agenda
  (Zoom's list answers only the first 250 characters of an agenda), and after an
  ambiguous failure (a timeout, a 5xx) every page of the user's scheduled meetings is
  searched for it before another create is tried, so a retry never makes two meetings.
- A create has a deadline: no request starts after `max_total_seconds`, so the whole
  create takes at most `longest_create_seconds`.
- Registration: a meeting made with `registration=True` requires registration with
  automatic approval (`settings.approval_type` 0); `register` adds people 30 at a time
  (`batch_registrants`, Zoom's most; Zoom answers the same registrant for an email
  registered before, so a retry registers no one twice), `cancel_registrants` cancels
  them (30 a status update), `enable_registration` turns it on for an existing meeting.
  Zoom refuses registrants with code 3000 while registration is off.
- After a call, `integrations.zoom_after_call` reads the meeting's past instances, every
  page of their participants and the recording with this client.

Errors, also those of the token endpoint (no connection, timeout, 5xx, an answer that is
not JSON), surface as `ZoomError` subclasses carrying Zoom's code and message; the
conferencing seam turns them into plain words.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from integrations import zoom_scopes

log = logging.getLogger(__name__)

TOKEN_MARGIN_SECONDS = 60
INVALID_TOKEN_CODE = 124
MISSING_SCOPE_CODE = 4711  # "Invalid access token, does not contain scopes:[…]"
LIST_PAGE_SIZE = 300  # the most Zoom's list returns a page
REGISTRANT_BATCH = 30  # the most registrants Zoom takes in one batch or status update
REGISTRATION_OFF = 3000  # Zoom's code: registration has not been enabled for the meeting
# registration required, approved automatically, once for the meeting
REGISTRATION_SETTINGS = {"approval_type": 0, "registration_type": 1}
MAX_LIST_PAGES = 50


# called with (HTTP status, Zoom's code) for every Zoom error: copbot counts them in its
# metrics (bot.ops.metrics) without this module importing copbot
ERROR_OBSERVERS: list[Callable[[int, int | None], None]] = []


class ZoomError(Exception):
    """A Zoom API error: HTTP status, Zoom's error code and message."""

    def __init__(self, status: int, code: int | None, message: str):
        self.status = status
        self.code = code
        self.message = message
        super().__init__(f"Zoom {status}" + (f" (code {code})" if code else "") + f": {message}")
        for observe in ERROR_OBSERVERS:
            observe(status, code)


class ZoomAuthError(ZoomError):
    """The credentials were refused (wrong account id, client id or secret)."""


class ZoomBadRequest(ZoomError):
    """Zoom refused the request as invalid (4xx other than auth, not found, rate limit)."""


class ZoomScopeMissing(ZoomBadRequest):
    """Zoom's code 4711: the app's token lacks a scope the request needs. `scope` is the
    one to add (the admin-level granular scope); `named` all Zoom listed."""

    def __init__(self, status: int, code: int | None, message: str):
        super().__init__(status, code, message)
        self.named = zoom_scopes.scopes_in_message(message)
        self.scope = zoom_scopes.scope_to_add(self.named)


class ZoomNotFound(ZoomError):
    pass


class ZoomUnavailable(ZoomError):
    """Zoom did not answer usefully in time (timeouts, 5xx, 429) even after retries."""


class ZoomDailyLimit(ZoomError):
    """The user reached Zoom's daily limit of meeting creates/updates (100 a UTC day):
    429 with a daily-limit message and no Retry-After. Retrying before 00:00 UTC is
    useless, so it is never retried."""


def is_daily_limit(status: int, message: str) -> bool:
    return status == 429 and "daily" in (message or "").lower()


@dataclass(frozen=True)
class Meeting:
    id: int
    join_url: str
    password: str
    start_time: datetime | None
    topic: str
    agenda: str

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Meeting:
        start = data.get("start_time")
        return cls(
            id=int(data["id"]),
            join_url=data.get("join_url", ""),
            password=data.get("password", ""),
            start_time=datetime.fromisoformat(start.replace("Z", "+00:00")) if start else None,
            topic=data.get("topic", ""),
            agenda=data.get("agenda", ""),
        )


@dataclass(frozen=True)
class Registrant:
    """One person registered for a meeting, with the join link that is theirs alone."""

    email: str
    registrant_id: str
    join_url: str


@dataclass(frozen=True)
class NewRegistrant:
    email: str
    first_name: str
    last_name: str = ""


def marker_text(marker: str) -> str:
    return f"[{marker}]"


def marked_agenda(agenda: str, marker: str | None) -> str:
    """The agenda as sent to Zoom: the marker first (the part Zoom's list shows), then the
    agenda, within Zoom's 2,000 characters."""
    text = f"{marker_text(marker)}\n{agenda}" if marker else agenda
    return text.strip()[:2000]


def zoom_time(when: datetime) -> str:
    """A start time as Zoom takes it in UTC: yyyy-MM-ddTHH:mm:ssZ."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ZoomClient:
    def __init__(
        self,
        account_id: str,
        client_id: str,
        client_secret: str,
        *,
        api_url: str = "https://api.zoom.us/v2",
        oauth_url: str = "https://zoom.us/oauth/token",
        timeout: float = 10.0,
        max_attempts: int = 5,
        max_total_seconds: float = 30.0,
        backoff_base: float = 0.5,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
    ):
        self.account_id = account_id
        self._client_id = client_id
        self._client_secret = client_secret
        self.api_url = api_url.rstrip("/")
        self.oauth_url = oauth_url
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.max_total_seconds = max_total_seconds
        self.backoff_base = backoff_base
        self._http = session or requests.Session()
        self._sleep = sleep
        self._clock = clock
        self._rng = rng
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = threading.Lock()
        # what the token answer's `scope` said the app holds (None: not asked yet)
        self.granted_scopes: frozenset[str] | None = None

    def __repr__(self) -> str:  # no secrets
        return f"ZoomClient(account_id={self.account_id!r}, api_url={self.api_url!r})"

    # ---- the token ----------------------------------------------------------------------
    def token(self, *, refresh: bool = False, stale: str | None = None) -> str:
        """A valid access token. `refresh` fetches a new one unless another thread already
        replaced `stale` (the token that was refused)."""
        with self._token_lock:
            current_ok = self._token is not None and self._clock() < self._token_expires
            if current_ok and not (refresh and self._token == stale):
                return self._token  # type: ignore[return-value]
            self._token = self._fetch_token()
            return self._token

    def _fetch_token(self) -> str:
        """Ask the token endpoint (the caller holds the lock); every failure a ZoomError."""
        try:
            response = self._http.post(
                self.oauth_url,
                params={"grant_type": "account_credentials", "account_id": self.account_id},
                auth=(self._client_id, self._client_secret),
                timeout=self.timeout,
            )
        except requests.RequestException as e:
            raise ZoomUnavailable(
                0, None, f"no answer from Zoom's token endpoint ({type(e).__name__})"
            ) from None
        status = response.status_code
        if status == 429 or status >= 500:
            code, message = _error_of(response)
            raise ZoomUnavailable(status, code, message or "the token endpoint failed")
        if status != 200:
            code, message = _error_of(response)
            raise ZoomAuthError(status, code, message or "token refused")
        try:
            data = response.json()
            token = data["access_token"]
            expires_in = float(data.get("expires_in", 3600))
            if not isinstance(token, str) or not token:
                raise ValueError("empty token")
        except (ValueError, TypeError, KeyError, AttributeError):
            raise ZoomUnavailable(
                status, None, "the token endpoint answered something that is not a token"
            ) from None
        if "scope" in data:
            self.granted_scopes = zoom_scopes.parse_granted(data["scope"])
        self._token_expires = self._clock() + max(0.0, expires_in - TOKEN_MARGIN_SECONDS)
        return token

    def scopes(self, *, fresh: bool = False) -> frozenset[str]:
        """The scopes the app's token holds, as the token answer's `scope` says (a new
        token is fetched if none was yet, or with `fresh`: scopes added since are only in
        a new token); a ZoomError when Zoom cannot be asked."""
        if fresh or self.granted_scopes is None:
            self.token(refresh=True, stale=self._token)
        return self.granted_scopes or frozenset()

    # ---- one request, with retries ------------------------------------------------------
    @property
    def longest_create_seconds(self) -> float:
        """The longest a `create_meeting` can take: its retry budget, then one last
        request that started just before the deadline, with the token it may need and
        the one refresh a refused token gets."""
        return self.max_total_seconds + 4 * self.timeout

    def request(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        retry_timeouts: bool = True,
        retry_server_errors: bool = True,
        deadline: float | None = None,
    ) -> requests.Response:
        """One API call. Timeouts and 5xx are retried unless told not to (a create whose
        outcome is unknown must not simply be sent again); 429 always is. No retry starts
        after `deadline` (a `clock()` value; default: `max_total_seconds` from now)."""
        if deadline is None:
            deadline = self._clock() + self.max_total_seconds
        elif self._clock() >= deadline:
            raise ZoomUnavailable(0, None, "no time left to ask Zoom")
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            try:
                token = self.token()
            except ZoomUnavailable:
                wait = self._backoff(attempt)
                if not self._may_retry(attempt, deadline, wait):
                    raise
                self._sleep(wait)
                continue
            try:
                response = self._http.request(
                    method,
                    f"{self.api_url}{path}",
                    json=json,
                    params=params,
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=self.timeout,
                )
            except requests.RequestException as e:
                wait = self._backoff(attempt)
                if not retry_timeouts or not self._may_retry(attempt, deadline, wait):
                    raise ZoomUnavailable(
                        0, None, f"no answer from Zoom ({type(e).__name__})"
                    ) from None
                self._sleep(wait)
                continue
            status = response.status_code
            if status < 400:
                return response
            code, message = _error_of(response)
            # a refused token, or one without a scope (an admin may have added it since
            # the token was made: a new token carries it): one fresh token, once
            if (status == 401 or code in (INVALID_TOKEN_CODE, MISSING_SCOPE_CODE)) and not (
                refreshed
            ):
                refreshed = True
                self.token(refresh=True, stale=token)
                continue
            if code == MISSING_SCOPE_CODE:
                raise ZoomScopeMissing(status, code, message)
            if is_daily_limit(status, message):
                raise ZoomDailyLimit(status, code, message)
            if status == 429 or (status >= 500 and retry_server_errors):
                wait = _retry_after(response)
                if wait is None:
                    wait = self._backoff(attempt)
                if self._may_retry(attempt, deadline, wait):
                    log.info("Zoom %s %s: %s, retrying in %.1fs", method, path, status, wait)
                    self._sleep(wait)
                    continue
                raise ZoomUnavailable(status, code, message or response.reason)
            if status >= 500:
                raise ZoomUnavailable(status, code, message or response.reason)
            if status == 401:
                raise ZoomAuthError(status, code, message)
            if status == 404:
                raise ZoomNotFound(status, code, message)
            raise ZoomBadRequest(status, code, message)

    def _backoff(self, attempt: int) -> float:
        base = self.backoff_base * (2 ** (attempt - 1))
        return base * (0.5 + self._rng())  # jitter: 50% to 150%

    def _may_retry(self, attempt: int, deadline: float, wait: float) -> bool:
        return attempt < self.max_attempts and self._clock() + wait <= deadline

    # ---- meetings -----------------------------------------------------------------------
    def create_meeting(
        self,
        user_id: str,
        *,
        topic: str,
        start: datetime,
        duration_minutes: int,
        timezone: str,
        agenda: str = "",
        marker: str | None = None,
        settings: dict[str, Any] | None = None,
        registration: bool = False,
    ) -> Meeting:
        """Create a scheduled meeting (type 2). With a `marker`, a retried create adopts the
        meeting an earlier, unanswered attempt made instead of making a second one. With
        `registration`, people join with links of their own (`register`)."""
        settings = dict(
            settings or {"join_before_host": True, "waiting_room": False, "mute_upon_entry": True}
        )
        if registration:
            settings.update(REGISTRATION_SETTINGS)
        body = {
            "topic": topic[:200],
            "type": 2,
            "start_time": zoom_time(start),
            "timezone": timezone,
            "duration": duration_minutes,
            "agenda": marked_agenda(agenda, marker),
            "settings": settings,
        }
        deadline = self._clock() + self.max_total_seconds
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.request(
                    "POST",
                    f"/users/{user_id}/meetings",
                    json=body,
                    retry_timeouts=False,
                    retry_server_errors=False,
                    deadline=deadline,
                )
                return Meeting.from_api(response.json())
            except ZoomUnavailable:
                # the create may or may not have happened (a slow Zoom may still be making
                # it): wait, then look for it before trying again
                wait = self._backoff(attempt)
                if not self._may_retry(attempt, deadline, wait):
                    raise
                self._sleep(wait)
                if marker:
                    found = self.find_by_marker(user_id, marker, deadline=deadline)
                    if found is not None:
                        return self._details(found)

    def find_by_marker(
        self, user_id: str, marker: str, *, deadline: float | None = None
    ) -> Meeting | None:
        """The scheduled meeting whose agenda opens with `marker`, on any page."""
        opening = marker_text(marker)
        page = 1
        while page <= MAX_LIST_PAGES:
            data = self.request(
                "GET",
                f"/users/{user_id}/meetings",
                params={"type": "scheduled", "page_size": LIST_PAGE_SIZE, "page_number": page},
                deadline=deadline,
            ).json()
            items = data.get("meetings") or []
            for item in items:
                if (item.get("agenda") or "").startswith(opening):
                    return Meeting.from_api(item)
            total = int(data.get("total_records") or 0)
            size = int(data.get("page_size") or LIST_PAGE_SIZE)
            if not items or page * size >= total:
                return None
            page += 1
        log.warning("Zoom lists more than %s pages of meetings; stopped looking", MAX_LIST_PAGES)
        return None

    def _details(self, listed: Meeting) -> Meeting:
        """The whole meeting (the list leaves out its passcode), or what the list said."""
        try:
            return self.get_meeting(listed.id)
        except ZoomError:
            return listed

    def get_meeting(self, meeting_id: int) -> Meeting:
        return Meeting.from_api(self.request("GET", f"/meetings/{int(meeting_id)}").json())

    def update_meeting(self, meeting_id: int, **fields: Any) -> None:
        """PATCH the given fields; `start` (a datetime) is sent as Zoom's start_time."""
        if "start" in fields:
            fields["start_time"] = zoom_time(fields.pop("start"))
        if "duration_minutes" in fields:
            fields["duration"] = fields.pop("duration_minutes")
        self.request("PATCH", f"/meetings/{int(meeting_id)}", json=fields)

    def delete_meeting(self, meeting_id: int) -> None:
        """Delete a meeting; one that is already gone counts as deleted."""
        try:
            self.request("DELETE", f"/meetings/{int(meeting_id)}")
        except ZoomNotFound:
            log.info("Zoom meeting %s was already deleted", meeting_id)

    # ---- registration -------------------------------------------------------------------
    def enable_registration(self, meeting_id: int) -> None:
        """Require registration, approved automatically, on an existing meeting."""
        self.request(
            "PATCH", f"/meetings/{int(meeting_id)}", json={"settings": REGISTRATION_SETTINGS}
        )

    def register(self, meeting_id: int, people: list[NewRegistrant]) -> list[Registrant]:
        """Register people for the meeting, 30 a request, without Zoom's confirmation
        emails (copbot hands each their link in Slack). Zoom answers the same registrant
        for an email it knows, so asking again is harmless."""
        found: list[Registrant] = []
        for i in range(0, len(people), REGISTRANT_BATCH):
            batch = people[i : i + REGISTRANT_BATCH]
            body = {
                "auto_approve": True,
                "registrants_confirmation_email": False,
                "registrants": [
                    {
                        "email": p.email,
                        "first_name": p.first_name[:64] or p.email.split("@")[0][:64],
                        "last_name": p.last_name[:64],
                    }
                    for p in batch
                ],
            }
            data = self.request(
                "POST", f"/meetings/{int(meeting_id)}/batch_registrants", json=body
            ).json()
            for item in data.get("registrants") or []:
                if item.get("registrant_id") and item.get("join_url"):
                    found.append(
                        Registrant(
                            str(item.get("email") or ""),
                            str(item["registrant_id"]),
                            str(item["join_url"]),
                        )
                    )
        return found

    def cancel_registrants(self, meeting_id: int, registrant_ids: list[str]) -> None:
        """Cancel registrations (their links stop working), 30 a status update."""
        for i in range(0, len(registrant_ids), REGISTRANT_BATCH):
            batch = registrant_ids[i : i + REGISTRANT_BATCH]
            self.request(
                "PUT",
                f"/meetings/{int(meeting_id)}/registrants/status",
                json={"action": "cancel", "registrants": [{"id": r} for r in batch]},
            )

    def registrants(self, meeting_id: int) -> list[Registrant]:
        """Every approved registrant of the meeting, on every page."""
        found: list[Registrant] = []
        page = 1
        while page <= MAX_LIST_PAGES:
            data = self.request(
                "GET",
                f"/meetings/{int(meeting_id)}/registrants",
                params={"status": "approved", "page_size": LIST_PAGE_SIZE, "page_number": page},
            ).json()
            items = data.get("registrants") or []
            found += [
                Registrant(str(r.get("email") or ""), str(r.get("id") or ""), str(r["join_url"]))
                for r in items
                if r.get("id") and r.get("join_url")
            ]
            if not items or page * LIST_PAGE_SIZE >= int(data.get("total_records") or 0):
                return found
            page += 1
        return found


def _error_of(response: requests.Response) -> tuple[int | None, str]:
    try:
        data = response.json()
    except ValueError:
        return None, response.text[:200]
    if not isinstance(data, dict):
        return None, str(data)[:200]
    code = data.get("code")
    message = data.get("message") or data.get("reason") or data.get("error") or ""
    return (int(code) if isinstance(code, int | str) and str(code).isdigit() else None), message


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            from email.utils import parsedate_to_datetime

            when = parsedate_to_datetime(value)
            return max(0.0, (when - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            return None
