"""Replays of interactive requests: a view submission, button click or slash command that
Slack delivers twice (a retry, a double click) is handled once.

`replay_guard`, a global middleware, names each request by what makes it unique:

- a view submission by its view's id AND hash, the submitting user and a digest of the
  submitted values (a view updated with `response_action: update` keeps its id but gets a
  new hash, so the next real step is a new request; a form sent back with field errors
  keeps its hash but comes back with other values);
- a button click by the user, action_id, block_id, value, container and `action_ts`
  (or the trigger_id when there is no `action_ts`);
- a slash command by its trigger_id.

An event that Slack delivers again (`once_per_event`) is recognised by its event_id,
recorded in `handled_event`, and answered with an empty 200.

Vote and Take back clicks are not kept here: the vote remembers its own click, in its own
transaction, by a key that names neither who clicked nor what they chose
(`bot.services.poll_voting.click_key`), and deletes it when the poll closes.

The first delivery claims a row in `handled_request` (its primary key decides between
concurrent deliveries, whichever worker they reach) and, once answered, `remember` stores
the answer. A replay, marked by Slack's `X-Slack-Retry-Num` or not, answers what the first
answered (waiting briefly while the first is still running) and does nothing more. The
key is an HMAC with the app's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import zlib
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.request import BoltRequest
from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.blocks.polls import VOTE_ACTION, WITHDRAW_ACTION
from bot.deps import Deps
from storage.clock import Clock
from storage.db import session_scope
from storage.models import HandledEvent, HandledRequest

log = logging.getLogger(__name__)

KEEP_HANDLED_REQUESTS = timedelta(days=1)
KEEP_HANDLED_EVENTS = timedelta(days=1)
CLAIM = "copbot_claim"  # the context key of the claimed request's key
WAIT_FOR_FIRST_SECONDS = 2.5  # a replay waits this long for the first answer (Slack: 3 s)
STALE_SECONDS = 30.0  # a claim with no answer after this long will get none


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def identity(body: dict[str, Any]) -> tuple[str, str] | None:
    """(kind, what makes this request unique) for requests that change things, else None."""
    kind = body.get("type")
    user = _dict(body.get("user")).get("id") or body.get("user_id") or ""
    trigger = body.get("trigger_id")
    if kind == "view_submission":
        view = _dict(body.get("view"))
        if view.get("id") and view.get("hash"):
            values = _dict(view.get("state")).get("values")
            return kind, f"{view['id']}|{view['hash']}|{user}|{_digest(values)}"
    elif kind == "block_actions":
        actions = body.get("actions")
        action = _dict(actions[0]) if isinstance(actions, list) and actions else {}
        if str(action.get("action_id") or "").startswith((VOTE_ACTION, WITHDRAW_ACTION)):
            return None  # a vote remembers its own click (never who clicked what)
        if action.get("action_ts"):
            chosen = {k: v for k, v in action.items() if k.startswith("selected")}
            container = _dict(body.get("container"))
            return kind, "|".join(
                str(part)
                for part in (
                    user,
                    action.get("action_id"),
                    action.get("block_id"),
                    action.get("value"),
                    _digest(chosen),
                    container.get("view_id") or container.get("message_ts"),
                    action["action_ts"],
                )
            )
    elif kind is None and body.get("command"):
        kind = "command"
    else:
        return None
    return (kind, f"trigger|{trigger}") if trigger else None


_TABLE = HandledRequest.__table__
_COLUMNS = _TABLE.c


def claim(engine: Engine, key: str, kind: str, now: datetime) -> bool:
    """Claim `key` for this delivery, received at `now`; False when another delivery has it
    already. One INSERT in a transaction of its own, in SQL (no ORM unit of work on the
    ack's path)."""
    try:
        with engine.begin() as conn:
            conn.execute(_TABLE.insert().values(request_key=key, kind=kind, received_at=now))
    except IntegrityError:
        return False
    if zlib.crc32(key.encode()) % 100 == 0:  # prune now and then, cheaply
        with engine.begin() as conn:
            conn.execute(delete(_TABLE).where(_COLUMNS.received_at < now - KEEP_HANDLED_REQUESTS))
    return True


def first_answer(
    engine: Engine, key: str, clock: Clock, wait: float = WAIT_FOR_FIRST_SECONDS
) -> BoltResponse:
    """The answer the first delivery of `key` gave, waiting up to `wait` seconds for it;
    an empty 200 when it has none (still running, or it never finished: `clock` says how
    long ago it was received)."""
    deadline = time.monotonic() + wait
    query = select(
        _COLUMNS.status, _COLUMNS.content_type, _COLUMNS.body, _COLUMNS.received_at
    ).where(_COLUMNS.request_key == key)
    while True:
        with engine.connect() as conn:
            row = conn.execute(query).first()
        if row is not None and row.status is not None:
            headers = {"content-type": row.content_type} if row.content_type else {}
            return BoltResponse(status=row.status, body=row.body or "", headers=headers)
        stale = row is None or (clock.now() - row.received_at).total_seconds() > STALE_SECONDS
        if stale or time.monotonic() >= deadline:
            return BoltResponse(status=200, body="")
        time.sleep(0.05)


def replay_guard(
    body: dict[str, Any], context: dict[str, Any], deps: Deps, request: BoltRequest, next: Any
) -> Any:
    """Global middleware: the first delivery of a request runs; a replay answers as the
    first did and runs nothing."""
    found = identity(body)
    if found is None:
        return next()
    kind, unique = found
    key = hmac.new(deps.settings.voter_key, f"{kind}|{unique}".encode(), "sha256").hexdigest()
    engine = deps.engine
    if claim(engine, key, kind, deps.clock.now()):
        context[CLAIM] = key
        return next()
    context["copbot_replay"] = True
    retry = (request.headers.get("x-slack-retry-num") or [""])[0]
    log.info(
        "%s delivered again%s; answering as the first time", kind, retry and f" (retry {retry})"
    )
    return first_answer(engine, key, deps.clock)


def remember(request: BoltRequest, response: BoltResponse) -> None:
    """Store the answer of a claimed request, for its replays."""
    key = request.context.get(CLAIM)
    deps = request.context.get("deps")
    if not key or deps is None:
        return
    content_type = (list(response.headers.get("content-type") or []) or [None])[0]
    body = response.body if isinstance(response.body, str) else json.dumps(response.body)
    try:
        with deps.engine.begin() as conn:
            conn.execute(
                update(_TABLE)
                .where(_COLUMNS.request_key == key, _COLUMNS.status.is_(None))
                .values(status=response.status, content_type=content_type, body=body)
            )
    except Exception:  # noqa: BLE001 - the answer already went out; replays get an empty one
        log.exception("could not store the answer to a request for its replays")


# ---- events ----------------------------------------------------------------------------------


def claim_event(deps: Deps, event_id: str) -> bool:
    """Record `event_id` as handled; False when it was already (a retry or a duplicate)."""
    try:
        with session_scope(deps.engine) as session:
            session.add(HandledEvent(event_id=event_id))
    except IntegrityError:
        return False
    if zlib.crc32(event_id.encode()) % 100 == 0:  # prune now and then, cheaply
        with session_scope(deps.engine) as session:
            session.exec(
                delete(HandledEvent).where(
                    HandledEvent.received_at < deps.clock.now() - KEEP_HANDLED_EVENTS
                )
            )
    return True


def once_per_event(body: dict[str, Any], deps: Deps, next: Any) -> Any:
    """Global middleware: an event delivered twice (Slack retries) is handled once."""
    event_id = body.get("event_id") if body.get("type") == "event_callback" else None
    if event_id and not claim_event(deps, event_id):
        log.info("event %s already handled; ignoring the retry", event_id)
        return BoltResponse(status=200, body="")
    return next()
