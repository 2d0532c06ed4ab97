"""Reminders and nudges: which are due, claiming them exactly once, and what became of them.

- `kinds`: the kinds, when each is due and until when it is useful; `Due`.
- `planning`: each pass inserts the rows due up to now, one function per kind of due.
- `outbox`: the scheduler's lease, claims with a token checked at send time, outcomes.
- `series`: Done and Snooze on nudge series.
- `preferences`: members' and communities' choices; failures and misses for staff.

A reminder that became due while nothing ran is still sent while it is useful (before its
`expires_at`), worded by the real time left, else recorded as missed. Rescheduling or
cancelling a call voids its pending reminders; the new version of the call (its
`sequence`) gets new ones.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session

from bot.services.reminders.kinds import Kind
from bot.services.reminders.outbox import claim
from bot.services.reminders.planning import LOOKBACK, plan_due
from bot.services.reminders.preferences import (
    failures,
    missed,
    set_call_reminders,
    set_preference,
)
from bot.services.reminders.series import done, quiet, series_of, snooze
from storage.models import Reminder, ReminderState

__all__ = [
    "LOOKBACK",
    "Kind",
    "claim",
    "done",
    "failures",
    "missed",
    "plan_due",
    "quiet",
    "series_of",
    "set_call_reminders",
    "set_preference",
    "snooze",
    "void_for_call",
]


def void_for_call(session: Session, call_id: int) -> int:
    """A call moved or was cancelled: its pending reminders will not be sent."""
    result = session.execute(
        update(Reminder)
        .where(Reminder.call_id == call_id, Reminder.state == ReminderState.PENDING.value)
        .values(state=ReminderState.VOID.value, last_error="the call changed")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
