"""Log lines: plain text (the default) or one JSON object a line (`COPBOT_LOG_FORMAT=json`),
each carrying the request it belongs to.

A request (a Slack request, a Zoom webhook, a scheduler pass) runs inside
`request_scope(kind)`, which gives it an id; `note(community=…, outcome=…)` adds what
becomes known on the way. The context is a `contextvars` value, so it follows a request
into the work done after its ack (`Deps.background` runs each job in a copy of the
submitter's context). Nothing here imports copbot: every floor may call it.

What never reaches a line, whatever a caller passes: bot and app tokens, signing
secrets, and email addresses are masked by the formatters; message text is never logged
by copbot in the first place (requests are named by kind, id and user only).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# the fields of a request's context that a JSON line carries, in this order
CONTEXT_FIELDS = ("request_id", "kind", "community", "outcome", "ms")

_context: ContextVar[dict[str, Any] | None] = ContextVar("copbot_request", default=None)

# Slack tokens (xoxb-, xoxp-, xapp-, …), bearer tokens and email addresses
_SECRETS = re.compile(
    r"\b(?:xox[a-z]|xapp)-[A-Za-z0-9-]+"
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/=-]{8,}"
    r"|[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
)


# PostgreSQL's error details quote the row or key at fault ("DETAIL:  Key (voter)=(…)",
# "Failing row contains (…)"): a voter key, text people typed
_DETAIL = re.compile(r"DETAIL:[^\n]*")


def mask(text: str) -> str:
    """`text` with tokens and email addresses replaced by a mark naming what was there,
    and a database error's quoted row or key left out."""
    text = _DETAIL.sub("DETAIL: [values hidden]", text)

    def _mark(match: re.Match[str]) -> str:
        found = match.group(0)
        if "@" in found:
            return "[email]"
        return "[token]"

    return _SECRETS.sub(_mark, text)


def new_request_id(slack_timestamp: str | None = None) -> str:
    """An id for one request: Slack's request timestamp (when the request has one) and a
    short random part, so two requests of the same second differ."""
    stamp = slack_timestamp if slack_timestamp and slack_timestamp.isdigit() else None
    return f"{stamp or int(time.time())}-{secrets.token_hex(3)}"


@contextmanager
def request_scope(kind: str, request_id: str | None = None, **fields: Any) -> Iterator[dict]:
    """Run the body as one request of `kind` (command, action, view, event, webhook,
    scheduler): log lines inside carry its id and fields."""
    context = {"request_id": request_id or new_request_id(), "kind": kind, **fields}
    token = _context.set(context)
    try:
        yield context
    finally:
        _context.reset(token)


def current() -> dict[str, Any]:
    """The current request's fields (empty outside a request)."""
    return dict(_context.get() or {})


def note(**fields: Any) -> None:
    """Add fields (community, outcome, …) to the current request; nothing outside one."""
    context = _context.get()
    if context is not None:
        context.update({k: v for k, v in fields.items() if v is not None})


class TextFormatter(logging.Formatter):
    """Today's plain lines, with tokens and emails masked."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, then the request's fields
    (from the context or the record's `extra`), then the exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask(record.getMessage()),
        }
        context = _context.get() or {}
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is None:
                value = context.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["error"] = record.exc_info[0].__name__ if record.exc_info[0] else "error"
            line["traceback"] = mask(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


def formatter(kind: str) -> logging.Formatter:
    if kind not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, got {kind!r}")
    return JsonFormatter() if kind == "json" else TextFormatter()


# libraries that log at INFO on every command or pass (alembic: each migration context;
# apscheduler: each job run): heard only at DEBUG
CHATTY_LOGGERS = ("alembic", "apscheduler")


def setup(level: str = "INFO", kind: str = "text") -> None:
    """Configure the root logger once for a copbot process: one handler on stdout (json)
    or stderr (text, as before), at `level`."""
    import sys

    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "copbot", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stdout if kind == "json" else sys.stderr)
    handler.setFormatter(formatter(kind))
    handler.copbot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(getattr(logging, level))
    quiet = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(quiet)
    # slack_sdk logs request headers and bodies at DEBUG: never below INFO, so tokens
    # stay out of the logs
    # and Bolt logs every answer's body at DEBUG (field errors can quote what people typed)
    for name in ("slack_sdk", "slack_bolt", "copbot.bolt"):
        logging.getLogger(name).setLevel(max(logging.INFO, getattr(logging, level)))
