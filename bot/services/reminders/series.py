"""Nudge series (the agenda and report deadlines, unfinished plans, milestones): a
leader answers one nudge with Done (the series stops, for every leader) or Snooze (it
stays quiet for a week, then nudges again)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session

from bot.services import agenda, reports
from bot.services.reminders.kinds import NUDGE_USEFUL, Due
from bot.services.reminders.planning import insert_missing
from storage.models import Milestone, NudgeSeries, Reminder, ReminderState


def series_of(session: Session, reminder: Reminder) -> NudgeSeries | None:
    """The nudge series a reminder belongs to (None for call reminders)."""
    if reminder.series_id is None:
        return None
    return session.get(NudgeSeries, reminder.series_id)


def _answer(session: Session, series_id: int, user_id: str, **values) -> None:
    """One conditional UPDATE of the series row, so two leaders answering at once both
    land (the later one wins field by field) and neither fails."""
    session.execute(
        update(NudgeSeries)
        .where(NudgeSeries.id == series_id)
        .values(updated_by=user_id, **values)
        .execution_options(synchronize_session=False)
    )


def snooze(session: Session, reminder: Reminder, until: datetime, user_id: str) -> None:
    """Nudge again at `until` instead of before it: the series stays quiet till then."""
    if reminder.series_id is None:
        return
    _answer(session, reminder.series_id, user_id, snoozed_until=until)
    again = Due(
        reminder.kind,
        until,
        until + NUDGE_USEFUL,
        reminder.community_id,
        call_id=reminder.call_id,
        call_sequence=reminder.call_sequence,
        milestone_id=reminder.milestone_id,
        recipient=reminder.recipient,
    )
    insert_missing(session, [again], series_id=reminder.series_id)
    session.flush()


def quiet(session: Session, reminder: Reminder, now: datetime) -> str | None:
    """Why a nudge is not to be sent now (what it asks for is submitted, or its series is
    done or snoozed), if so."""
    row = series_of(session, reminder)
    if row is None:
        return None
    if row.year is not None and nudge_answered(
        session, reminder.kind, reminder.community_id, row.year
    ):
        return "submitted"
    if row.done_at is not None:
        return "marked done"
    if (
        row.snoozed_until is not None
        and row.snoozed_until > now
        and reminder.due_at < row.snoozed_until
    ):
        return "snoozed"
    return None


def done(session: Session, series_id: int, user_id: str, now: datetime) -> int:
    """Stop a series of nudges; its pending reminders are voided (and its milestone, if it
    is about one, recorded as done). Returns how many were voided."""
    _answer(session, series_id, user_id, done_at=now)
    row = session.get(NudgeSeries, series_id)
    if row is not None and row.milestone_id is not None:
        session.execute(
            update(Milestone)
            .where(Milestone.id == row.milestone_id, Milestone.done_at.is_(None))
            .values(done_at=now)
            .execution_options(synchronize_session=False)
        )
    result = session.execute(
        update(Reminder)
        .where(Reminder.series_id == series_id, Reminder.state == ReminderState.PENDING.value)
        .values(state=ReminderState.VOID.value, last_error="marked done")
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return result.rowcount


# the deliverable each deadline nudge asks for: a submitted agenda or report stops its nudges
_SUBMITTED = {"agenda_due": agenda.submitted, "report_due": reports.submitted}


def nudge_answered(session: Session, kind: str, community_id: int, year: int) -> bool:
    """True when the deliverable a `kind` nudge for `year` is about has been submitted."""
    submitted = _SUBMITTED.get(kind)
    return submitted is not None and submitted(session, community_id, year)
