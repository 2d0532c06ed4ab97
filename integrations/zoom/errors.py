"""Zoom's errors as copbot raises them: each carries the HTTP status, Zoom's code and its
message, and is counted (`ERROR_OBSERVERS`) as it is made. `refusal` maps an answer
that will not be retried to its error; `error_of` reads Zoom's code and message."""

from __future__ import annotations

from collections.abc import Callable

import requests

from integrations import zoom_scopes

INVALID_TOKEN_CODE = 124
MISSING_SCOPE_CODE = 4711  # "Invalid access token, does not contain scopes:[…]"
REGISTRATION_OFF = 3000  # Zoom's code: registration has not been enabled for the meeting

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


def refuses_token(status: int, code: int | None) -> bool:
    """A refused token, or one without a scope (an admin may have added it since the
    token was made: a new token carries it): worth one fresh token."""
    return status == 401 or code in (INVALID_TOKEN_CODE, MISSING_SCOPE_CODE)


def refusal(status: int, code: int | None, message: str, reason: str) -> ZoomError:
    """The error of an answer of 400 or more that is not retried (`reason`: HTTP's)."""
    if code == MISSING_SCOPE_CODE:
        return ZoomScopeMissing(status, code, message)
    if is_daily_limit(status, message):
        return ZoomDailyLimit(status, code, message)
    if status == 429 or status >= 500:
        return ZoomUnavailable(status, code, message or reason)
    if status == 401:
        return ZoomAuthError(status, code, message)
    if status == 404:
        return ZoomNotFound(status, code, message)
    return ZoomBadRequest(status, code, message)


def error_of(response: requests.Response) -> tuple[int | None, str]:
    """Zoom's code (None when it gave none) and message in an error answer."""
    try:
        data = response.json()
    except ValueError:
        return None, response.text[:200]
    if not isinstance(data, dict):
        return None, str(data)[:200]
    code = data.get("code")
    message = data.get("message") or data.get("reason") or data.get("error") or ""
    return (int(code) if isinstance(code, int | str) and str(code).isdigit() else None), message
