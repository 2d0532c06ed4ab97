"""What every table module shares: the UTC timestamp column type, new tokens, and the
time rows are stamped with by default.

Times are stored in UTC and come back timezone-aware on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    Column,
    DateTime,
)
from sqlalchemy.types import TypeDecorator

# The process-wide clock offset: zero in production. `copbot sandbox` moves it forward so
# reminders and nudges fire without waiting; everything in copbot reads time through
# utcnow(), so this is the one place time can be moved.
_clock_offset = timedelta(0)


def utcnow() -> datetime:
    return datetime.now(UTC) + _clock_offset


def set_clock_offset(offset: timedelta) -> None:
    """Move the process's clock by `offset` from the real time (the sandbox's clock)."""
    global _clock_offset
    if offset < timedelta(0):
        raise ValueError("the clock only moves forward")
    _clock_offset = offset


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC that always comes back timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: copbot stores timezone-aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def ts_column(nullable: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable)


def new_token() -> str:
    return secrets.token_urlsafe(24)
