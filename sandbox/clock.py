"""The sandbox's clock: it only moves forward, by a day, a week or to the next call
reminder, and a scheduler pass runs at the moved time at once so what became due is sent.
copbot reads the time from the clock in its `Deps` (`deps.clock`); the sandbox gives it
an `AdjustableClock` (`adjustable`) and moves that.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import select

from bot.deps import Deps
from bot.flows.reminders import PassResult
from bot.scheduler import tick
from bot.services.reminders.planning import call_reminders
from storage.clock import AdjustableClock
from storage.db import session_scope
from storage.models import Call, CallStatus, Community, set_clock_offset

STEPS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}


def adjustable(offset: timedelta = timedelta(0)) -> AdjustableClock:
    """The clock the sandbox hands to the copbot it runs, `offset` ahead of the real time
    (where a saved sandbox left it)."""
    clock = AdjustableClock(offset)
    set_clock_offset(clock.offset)
    return clock


class Clock:
    """Moves `deps.clock` (an `AdjustableClock`) and runs a scheduler pass after each move."""

    def __init__(self, deps: Deps, client: Any, worker: str | None = None):
        if not isinstance(deps.clock, AdjustableClock):
            raise TypeError("the sandbox's copbot needs an AdjustableClock in its Deps")
        self.deps = deps
        self.time: AdjustableClock = deps.clock
        self.worker = worker
        self.client = client
        self.summary = ""  # the last move's outcome in words, for the page

    @property
    def offset(self) -> timedelta:
        return self.time.offset

    def now(self) -> datetime:
        return self.time.now()

    def next_reminder(self) -> datetime | None:
        """When the next call reminder (week, day or hour before, or the follow-up) is due."""
        now = self.now()
        with session_scope(self.deps.engine) as session:
            calls = session.exec(
                select(Call).where(
                    Call.status == CallStatus.SCHEDULED.value,
                    Call.start_at > now - timedelta(days=2),
                )
            ).all()
            chosen = {c.id: c.call_reminders for c in session.exec(select(Community)).all()}
            dues = [
                d.due_at
                for call in calls
                for d in call_reminders(call, [], chosen.get(call.community_id) or "")
            ]
        later = [d for d in dues if d > now]
        return min(later) if later else None

    def advance(self, step: str) -> list[str]:
        """Move forward by `step` ("hour", "day", "week" or "reminder") and run a pass;
        returns the pass's lines (what was sent, missed, ...)."""
        if step == "reminder":
            due = self.next_reminder()
            if due is None:
                self.summary = "No call reminder is coming: schedule a call first."
                return ["no call reminder is coming: schedule a call first"]
            delta = due - self.now() + timedelta(seconds=30)
        elif step in STEPS:
            delta = STEPS[step]
        else:
            raise ValueError(f"unknown step {step!r}: hour, day, week or reminder")
        self.time.advance(delta)
        set_clock_offset(self.time.offset)
        return self.run_pass()

    def run_pass(self) -> list[str]:
        result = tick(self.deps, self.client, self.now(), self.worker, hold=True)
        self.summary = in_words(result)
        return result.lines()


def in_words(result: PassResult) -> str:
    """What a scheduler pass did, said to a person (the log's lines name reminder kinds
    and ids; the messages themselves show what was sent)."""

    def count(items: list[str], what: str, kind: str = "reminder") -> str:
        n = len(items)
        return f"{n} {kind}{'s' if n != 1 else ''} {what}" if n else ""

    said = [
        # reminders, scheduled announcements, poll results and share digests alike
        count(result.sent, "sent", "message"),
        count(result.missed, "not sent (the moment had passed)"),
        count(result.voided, "not needed any more"),
        count(result.deferred + result.retrying, "to be sent again shortly"),
        count(result.failed, "refused by Slack"),
    ]
    said = [s for s in said if s]
    if not said:
        return "The scheduler ran: nothing was due."
    return "The scheduler ran: " + ", ".join(said) + "."
