"""Zoom's webhook deliveries, as the stand-in makes them: `webhook(event, obj)` builds an
event body, `url_validation(token)` the endpoint check, `sign_webhook(secret, body, ts)`
the headers Zoom signs it with, and `deliver_webhook(url, body, secret)` delivers it as
Zoom does: signed afresh each time, and sent again (up to 3 more times) when the answer
is not 200/204 within 3 seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import requests

from sandbox.zoom_standin import ACCOUNT_ID


def webhook(event: str, obj: dict[str, Any], *, event_ts: int | None = None) -> bytes:
    """A webhook event body as Zoom sends it (`event`, `payload.object`, `event_ts` in ms)."""
    body = {
        "event": event,
        "payload": {"account_id": ACCOUNT_ID, "object": obj},
        "event_ts": event_ts if event_ts is not None else int(time.time() * 1000),
    }
    return json.dumps(body, separators=(",", ":")).encode()


def url_validation(plain_token: str) -> bytes:
    body = {
        "payload": {"plainToken": plain_token},
        "event_ts": int(time.time() * 1000),
        "event": "endpoint.url_validation",
    }
    return json.dumps(body, separators=(",", ":")).encode()


def sign_webhook(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The headers Zoom sends: `x-zm-request-timestamp` (seconds) and
    `x-zm-signature` = v0= HMAC-SHA256(secret, "v0:{timestamp}:{body}") in hex."""
    ts = int(time.time()) if timestamp is None else timestamp
    message = f"v0:{ts}:".encode() + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json; charset=utf-8",
        "x-zm-request-timestamp": str(ts),
        "x-zm-signature": f"v0={digest}",
        "user-agent": "Zoom Marketplace/1.0a",
    }


def deliver_webhook(
    url: str,
    body: bytes,
    secret: str,
    *,
    retries: int = 3,
    timestamp: int | None = None,
) -> list[requests.Response]:
    """Deliver as Zoom does: signed afresh each time, and sent again (up to `retries` more
    times; Zoom waits 5, 20 and 60 minutes, the stand-in does not) while the answer is not
    200/204 within 3 seconds. Returns every answer."""
    answers = []
    for _ in range(1 + retries):
        started = time.monotonic()
        response = requests.post(
            url, data=body, headers=sign_webhook(secret, body, timestamp), timeout=10
        )
        answers.append(response)
        if response.status_code in (200, 204) and time.monotonic() - started <= 3.0:
            break
    return answers
