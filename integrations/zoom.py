"""The Zoom Meetings client: Server-to-Server OAuth on `requests`.

- The access token (`grant_type=account_credentials`, Basic auth of client id and secret)
  is cached until shortly before it expires and shared by threads.
- A 401 (or Zoom error code 124, invalid token) refreshes the token once.
- 429 and 5xx are retried with exponential back-off and jitter, honouring `Retry-After`,
  within a bounded total time; every request has a timeout.
- Creating a meeting is idempotent per `marker`: the marker is written into the meeting's
  agenda, and after an ambiguous failure (a timeout, a 5xx) the upcoming meetings are
  searched for it before another create is tried, so a retry never makes two meetings.

Errors surface as `ZoomError` subclasses carrying Zoom's code and message.
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

log = logging.getLogger(__name__)

TOKEN_MARGIN_SECONDS = 60
INVALID_TOKEN_CODE = 124


class ZoomError(Exception):
    """A Zoom API error: HTTP status, Zoom's error code and message."""

    def __init__(self, status: int, code: int | None, message: str):
        self.status = status
        self.code = code
        self.message = message
        super().__init__(f"Zoom {status}" + (f" (code {code})" if code else "") + f": {message}")


class ZoomAuthError(ZoomError):
    """The credentials were refused (wrong account id, client id or secret)."""


class ZoomBadRequest(ZoomError):
    """Zoom refused the request as invalid (4xx other than auth, not found, rate limit)."""


class ZoomNotFound(ZoomError):
    pass


class ZoomUnavailable(ZoomError):
    """Zoom did not answer usefully in time (timeouts, 5xx, 429) even after retries."""


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
            response = self._http.post(
                self.oauth_url,
                params={"grant_type": "account_credentials", "account_id": self.account_id},
                auth=(self._client_id, self._client_secret),
                timeout=self.timeout,
            )
            if response.status_code != 200:
                code, message = _error_of(response)
                raise ZoomAuthError(response.status_code, code, message or "token refused")
            data = response.json()
            expires_in = float(data.get("expires_in", 3600))
            self._token = data["access_token"]
            self._token_expires = self._clock() + max(0.0, expires_in - TOKEN_MARGIN_SECONDS)
            return self._token

    # ---- one request, with retries ------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        retry_timeouts: bool = True,
        retry_server_errors: bool = True,
    ) -> requests.Response:
        """One API call. Timeouts and 5xx are retried unless told not to (a create whose
        outcome is unknown must not simply be sent again); 429 always is."""
        started = self._clock()
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            token = self.token()
            try:
                response = self._http.request(
                    method,
                    f"{self.api_url}{path}",
                    json=json,
                    params=params,
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=self.timeout,
                )
            except (requests.Timeout, requests.ConnectionError) as e:
                wait = self._backoff(attempt)
                if not retry_timeouts or not self._may_retry(attempt, started, wait):
                    raise ZoomUnavailable(
                        0, None, f"no answer from Zoom ({type(e).__name__})"
                    ) from None
                self._sleep(wait)
                continue
            status = response.status_code
            if status < 400:
                return response
            code, message = _error_of(response)
            if (status == 401 or code == INVALID_TOKEN_CODE) and not refreshed:
                refreshed = True
                self.token(refresh=True, stale=token)
                continue
            if status == 429 or (status >= 500 and retry_server_errors):
                wait = _retry_after(response)
                if wait is None:
                    wait = self._backoff(attempt)
                if self._may_retry(attempt, started, wait):
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

    def _may_retry(self, attempt: int, started: float, wait: float) -> bool:
        spent = self._clock() - started
        return attempt < self.max_attempts and spent + wait <= self.max_total_seconds

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
    ) -> Meeting:
        """Create a scheduled meeting (type 2). With a `marker`, a retried create adopts the
        meeting an earlier, unanswered attempt made instead of making a second one."""
        if marker:
            agenda = f"{agenda}\n\n[{marker}]".strip()
        body = {
            "topic": topic[:200],
            "type": 2,
            "start_time": zoom_time(start),
            "timezone": timezone,
            "duration": duration_minutes,
            "agenda": agenda[:2000],
            "settings": settings
            or {"join_before_host": True, "waiting_room": False, "mute_upon_entry": True},
        }
        started = self._clock()
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
                )
                return Meeting.from_api(response.json())
            except ZoomUnavailable:
                # the create may or may not have happened (a slow Zoom may still be making
                # it): wait, then look for it before trying again
                wait = self._backoff(attempt)
                if not self._may_retry(attempt, started, wait):
                    raise
                self._sleep(wait)
                if marker:
                    found = self.find_by_marker(user_id, marker)
                    if found is not None:
                        return found

    def find_by_marker(self, user_id: str, marker: str) -> Meeting | None:
        response = self.request(
            "GET", f"/users/{user_id}/meetings", params={"type": "upcoming", "page_size": 300}
        )
        for item in response.json().get("meetings", []):
            if f"[{marker}]" in (item.get("agenda") or ""):
                return Meeting.from_api(item)
        return None

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
