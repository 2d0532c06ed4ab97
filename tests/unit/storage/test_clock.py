"""The clock copbot reads (`storage.clock`): the real time, or the sandbox's, which only
moves forward."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage.clock import AdjustableClock, SystemClock


def test_the_system_clock_is_the_real_time_in_utc():
    now = SystemClock().now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert abs(now - datetime.now(UTC)) < timedelta(minutes=1)


def test_an_adjustable_clock_moves_forward_only():
    clock = AdjustableClock(timedelta(hours=2))
    assert (
        timedelta(hours=1, minutes=59)
        < clock.now() - datetime.now(UTC)
        < timedelta(hours=2, minutes=1)
    )
    clock.advance(timedelta(days=1))
    assert clock.offset == timedelta(days=1, hours=2)
    with pytest.raises(ValueError):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError):
        clock.set_offset(timedelta(hours=1))
    with pytest.raises(ValueError):
        AdjustableClock(timedelta(days=-1))
    assert clock.offset == timedelta(days=1, hours=2)
