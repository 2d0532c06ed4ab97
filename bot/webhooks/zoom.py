"""Zoom webhooks at `POST /zoom/events`.

Every request is verified first: `x-zm-signature` must be `v0=` HMAC-SHA256 of
`v0:{x-zm-request-timestamp}:{raw body}` with `ZOOM_WEBHOOK_SECRET`, compared in constant
time, and the timestamp within five minutes of now. A bad or stale signature gets 401,
changes nothing, and one log line. Then:

- `endpoint.url_validation`: answered at once with the plainToken and its HMAC;
- `meeting.ended`: the call's attendance job is due now (the scheduler's next pass reads it);
- `recording.completed`: the recording is archived with the call and posted in its thread
  after the answer.

Zoom retries a delivery it thinks failed; each event is handled once per meeting instance
(a row keyed by event and instance: the unique key decides). An event about a meeting no
call has is ignored with a log line.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot.deps import Deps
from bot.flows import after_call
from bot.services import after_call_jobs as jobs
from integrations.zoom.after_call import recording_of
from storage.db import session_scope
from storage.models import Call, ZoomDelivery

log = logging.getLogger(__name__)

PATH = "/zoom/events"
WINDOW_SECONDS = 300
MAX_BODY = 256 * 1024
# Zoom's events nest five levels (body, payload, object, recording_files, a file); a body
# nested deeper than this is no event of Zoom's and is refused before it is parsed
MAX_DEPTH = 32
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(rb"[\[{]|[\]}]")
KEEP = timedelta(days=7)  # Zoom's last retry comes 85 minutes after the first delivery


def signature(secret: str, timestamp: str, body: bytes) -> str:
    message = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verified(secret: str, headers: dict[str, str], body: bytes, now: float) -> str | None:
    """None when the request is Zoom's; else why not (for the log line)."""
    timestamp = headers.get("x-zm-request-timestamp", "")
    given = headers.get("x-zm-signature", "")
    # ASCII digits only (str.isdigit also takes "²"), and a length a clock can have
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12) or not given:
        return "no signature"
    if abs(now - int(timestamp)) > WINDOW_SECONDS:
        return "stale timestamp"
    expected = signature(secret, timestamp, body).encode()
    if not hmac.compare_digest(expected, given.encode("utf-8", "surrogateescape")):
        return "wrong signature"
    return None


def encrypted_token(secret: str, plain_token: str) -> str:
    return hmac.new(secret.encode(), plain_token.encode(), hashlib.sha256).hexdigest()


def _key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _forget(deps: Deps, key: str) -> None:
    """The event was not handled after all: Zoom's retry may handle it."""
    with session_scope(deps.engine) as session:
        session.exec(delete(ZoomDelivery).where(ZoomDelivery.event_key == _key(key)))


def _first_time(deps: Deps, key: str, event: str) -> bool:
    """Record the event as handled; False when it was already (Zoom retried it)."""
    digest = _key(key)
    try:
        with session_scope(deps.engine) as session:
            session.add(ZoomDelivery(event_key=digest, event=event[:64]))
    except IntegrityError:
        return False
    if int(digest[:4], 16) % 50 == 0:  # now and then, forget what Zoom can no longer retry
        with session_scope(deps.engine) as session:
            session.exec(
                delete(ZoomDelivery).where(ZoomDelivery.received_at < deps.clock.now() - KEEP)
            )
    return True


def _call_of(deps: Deps, meeting_id: Any) -> int | None:
    text = str(meeting_id) if isinstance(meeting_id, int | str) else ""
    if not (text.isascii() and text.isdigit() and len(text) <= 19 and 0 < int(text) < 2**63):
        return None
    number = int(text)
    with session_scope(deps.engine) as session:
        return session.exec(
            select(Call.id).where(Call.meeting_id == number).order_by(Call.start_at.desc())
        ).first()


def handle(deps: Deps, client: WebClient, event: str, payload: dict[str, Any]) -> None:
    """A verified event (not the URL validation)."""
    obj = payload.get("object") if isinstance(payload.get("object"), dict) else {}
    uuid = obj.get("uuid") if isinstance(obj.get("uuid"), str) else ""
    if event not in ("meeting.ended", "recording.completed"):
        log.info("Zoom event %s ignored: copbot does not use it", event[:64])
        return
    if not uuid or len(uuid) > 200:
        log.info("Zoom event %s without a meeting instance (uuid) ignored", event)
        return
    key = f"{event}:{uuid}"
    if not _first_time(deps, key, event):
        log.info("Zoom event %s for %s already handled; ignoring the retry", event, uuid)
        return
    try:
        _handle_first(deps, client, event, obj, uuid)
    except Exception:
        _forget(deps, key)  # not handled: Zoom's retry will be
        raise


def _handle_first(deps: Deps, client: WebClient, event: str, obj: dict, uuid: str) -> None:
    call_id = _call_of(deps, obj.get("id"))
    if call_id is None:
        log.info("Zoom event %s for meeting %s: no call has it; ignored", event, obj.get("id"))
        return
    now = deps.clock.now()
    if event == "meeting.ended":
        if deps.settings.attendance:
            with session_scope(deps.engine) as session:
                jobs.due_now(session, call_id, jobs.ATTENDANCE, now, uuid or None)
        return
    found = recording_of(obj)
    if found is None:
        log.info("recording.completed for call %s carries no link; polling will", call_id)
        with session_scope(deps.engine) as session:
            jobs.due_now(session, call_id, jobs.RECORDING, now, uuid or None)
        return
    deps.later(after_call.recording_from_webhook, deps, client, call_id, found, now)


def too_deep(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """Does `body` (JSON) nest arrays and objects deeper than `limit`? Read without
    parsing, so a hostile body cannot exhaust the parser's recursion."""
    depth = 0
    for bracket in _BRACKETS.finditer(_JSON_STRING.sub(b'""', body)):
        depth += 1 if bracket.group() in (b"[", b"{") else -1
        if depth > limit:
            return True
    return False


def make_handler(deps: Deps, client: WebClient) -> Callable[..., Iterable[bytes]]:
    """The WSGI handler of `POST /zoom/events`."""

    def respond(start_response, status: str, body: dict | None = None) -> list[bytes]:
        payload = json.dumps(body).encode() if body is not None else b""
        headers = [("Content-Length", str(len(payload)))]
        if body is not None:
            headers.append(("Content-Type", "application/json"))
        start_response(status, headers)
        return [payload]

    def handler(environ: dict[str, Any], start_response) -> Iterable[bytes]:
        secret = deps.settings.zoom_webhook_secret
        if not secret:
            return respond(start_response, "404 Not Found", {"error": "not configured"})
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            return respond(start_response, "413 Payload Too Large")
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        why = verified(secret, headers, body, time.time())
        if why is not None:
            log.warning("Zoom webhook refused: %s", why)
            return respond(start_response, "401 Unauthorized")
        try:
            if too_deep(body):
                raise ValueError("nested deeper than Zoom's events")
            data = json.loads(body)
            event = str(data["event"])
            payload = data.get("payload") or {}
            if not isinstance(payload, dict):
                raise ValueError("payload")
        except (ValueError, KeyError, TypeError, RecursionError):
            log.warning("Zoom webhook with a body that is not an event refused")
            return respond(start_response, "400 Bad Request")
        if event == "endpoint.url_validation":
            plain = str(payload.get("plainToken") or "")
            return respond(
                start_response,
                "200 OK",
                {"plainToken": plain, "encryptedToken": encrypted_token(secret, plain)},
            )
        try:
            handle(deps, client, event, payload)
        except Exception:  # noqa: BLE001 - Zoom retries a 500; the event was not recorded
            log.exception("Zoom event %s could not be handled", event[:64])
            return respond(start_response, "500 Internal Server Error")
        return respond(start_response, "200 OK", {})

    return handler
