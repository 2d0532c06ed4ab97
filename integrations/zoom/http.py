"""Zoom's API over HTTP: Server-to-Server OAuth tokens and one request with its retries.

- The access token (`grant_type=account_credentials`, Basic auth of client id and secret)
  is cached until shortly before it expires and shared by threads.
- A 401 (or Zoom error code 124, invalid token) refreshes the token once.
- Code 4711 (the token lacks a scope) also gets one fresh token (an admin may have added
  the scope since), then raises `ZoomScopeMissing` naming the scope to add; the token
  answer's `scope` field is kept as `granted_scopes` (see `integrations.zoom_scopes`).
- 429 and 5xx are retried with exponential back-off and jitter, honouring `Retry-After`,
  within a bounded total time; every request has a timeout. A 429 for Zoom's daily limit
  (100 meeting creates/updates a user a UTC day) is not retried: `ZoomDailyLimit`.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from integrations import zoom_scopes
from integrations.zoom.errors import (
    MISSING_SCOPE_CODE,
    ZoomAuthError,
    ZoomUnavailable,
    error_of,
    is_daily_limit,
    refusal,
    refuses_token,
)

log = logging.getLogger(__name__)

TOKEN_MARGIN_SECONDS = 60


class ZoomHttp:
    """The token and `request`: what every Zoom call of copbot goes through."""

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
            code, message = error_of(response)
            raise ZoomUnavailable(status, code, message or "the token endpoint failed")
        if status != 200:
            code, message = error_of(response)
            raise ZoomAuthError(status, code, message or "token refused")
        token, expires_in, data = _token_answer(response)
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
        deadline = self._deadline(deadline)
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            token = self._token_or_wait(attempt, deadline)
            if token is None:
                continue
            response = self._send(
                method, path, token, json, params, attempt, deadline, retry_timeouts
            )
            if response is None:
                continue
            status = response.status_code
            if status < 400:
                return response
            code, message = error_of(response)
            if refuses_token(status, code) and not refreshed:
                refreshed = True
                self.token(refresh=True, stale=token)
                continue
            wait = self._retry_wait(response, code, message, attempt, deadline, retry_server_errors)
            log.info("Zoom %s %s: %s, retrying in %.1fs", method, path, status, wait)
            self._sleep(wait)

    def _deadline(self, deadline: float | None) -> float:
        """The `clock()` value after which no request starts: `max_total_seconds` from
        now unless given; a given one already passed is ZoomUnavailable."""
        if deadline is None:
            return self._clock() + self.max_total_seconds
        if self._clock() >= deadline:
            raise ZoomUnavailable(0, None, "no time left to ask Zoom")
        return deadline

    def _token_or_wait(self, attempt: int, deadline: float) -> str | None:
        """The token; None after waiting out a token endpoint that did not answer (its
        ZoomUnavailable when no retry is left)."""
        try:
            return self.token()
        except ZoomUnavailable:
            wait = self._backoff(attempt)
            if not self._may_retry(attempt, deadline, wait):
                raise
            self._sleep(wait)
            return None

    def _send(
        self,
        method: str,
        path: str,
        token: str,
        json: dict[str, Any] | None,
        params: dict[str, Any] | None,
        attempt: int,
        deadline: float,
        retry: bool,
    ) -> requests.Response | None:
        """Zoom's answer; None after waiting out no answer (a timeout, no connection)
        when `retry` allows another try, else ZoomUnavailable."""
        try:
            return self._http.request(
                method,
                f"{self.api_url}{path}",
                json=json,
                params=params,
                headers={"Authorization": f"Bearer {token}"},
                timeout=self.timeout,
            )
        except requests.RequestException as e:
            wait = self._backoff(attempt)
            if not retry or not self._may_retry(attempt, deadline, wait):
                raise ZoomUnavailable(
                    0, None, f"no answer from Zoom ({type(e).__name__})"
                ) from None
            self._sleep(wait)
            return None

    def _retry_wait(
        self,
        response: requests.Response,
        code: int | None,
        message: str,
        attempt: int,
        deadline: float,
        retry_server_errors: bool,
    ) -> float:
        """How long to wait before sending a refused request again (429, or a 5xx when
        `retry_server_errors`; never a missing scope or the daily limit); the answer's
        error (`refusal`) when it is not sent again."""
        status = response.status_code
        again = status == 429 or (status >= 500 and retry_server_errors)
        if again and code != MISSING_SCOPE_CODE and not is_daily_limit(status, message):
            wait = retry_after(response)
            if wait is None:
                wait = self._backoff(attempt)
            if self._may_retry(attempt, deadline, wait):
                return wait
        raise refusal(status, code, message, response.reason)

    def _backoff(self, attempt: int) -> float:
        base = self.backoff_base * (2 ** (attempt - 1))
        return base * (0.5 + self._rng())  # jitter: 50% to 150%

    def _may_retry(self, attempt: int, deadline: float, wait: float) -> bool:
        return attempt < self.max_attempts and self._clock() + wait <= deadline


def _token_answer(response: requests.Response) -> tuple[str, float, dict[str, Any]]:
    """The token, its lifetime in seconds and the whole answer of a 200 from the token
    endpoint; ZoomUnavailable when the answer is not a token."""
    try:
        data = response.json()
        token = data["access_token"]
        expires_in = float(data.get("expires_in", 3600))
        if not isinstance(token, str) or not token:
            raise ValueError("empty token")
    except (ValueError, TypeError, KeyError, AttributeError):
        raise ZoomUnavailable(
            response.status_code, None, "the token endpoint answered something that is not a token"
        ) from None
    return token, expires_in, data


def retry_after(response: requests.Response) -> float | None:
    """Zoom's Retry-After in seconds (a number or an HTTP date), None without one."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
            return max(0.0, (when - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            return None
