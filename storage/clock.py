"""Where copbot reads the time: a `Clock` is passed in (`Deps.clock`), never a global.

`SystemClock` is the real time (production). `AdjustableClock` is the real time moved
forward by an offset that only grows: `copbot sandbox` moves it so reminders and nudges
fire without waiting, and tests use it to stand at a chosen moment. Either answers
timezone-aware UTC times.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class AdjustableClock:
    """The real time plus an offset that only moves forward (the sandbox's clock)."""

    def __init__(self, offset: timedelta = timedelta(0)):
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        self.set_offset(offset)

    @property
    def offset(self) -> timedelta:
        return self._offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def set_offset(self, offset: timedelta) -> None:
        """Stand `offset` ahead of the real time; never behind it, never back."""
        with self._lock:
            if offset < timedelta(0) or offset < self._offset:
                raise ValueError("the clock only moves forward")
            self._offset = offset

    def advance(self, delta: timedelta) -> None:
        """Move forward by `delta`."""
        with self._lock:
            if delta < timedelta(0):
                raise ValueError("the clock only moves forward")
            self._offset += delta
