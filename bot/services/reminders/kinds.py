"""The kinds of reminders and nudges, when each is due and until when it is useful, and
`Due`: one reminder to plan, in typed fields (what it is about, to whom, when)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from storage.models import ReminderState


class Kind:
    CALL_WEEK = "call_week"
    CALL_DAY = "call_day"
    CALL_HOUR = "call_hour"
    CALL_FOLLOWUP = "call_followup"
    MILESTONE = "milestone"
    AGENDA = "agenda_due"
    REPORT = "report_due"
    PLAN = "plan_nudge"


CALL_KINDS = (Kind.CALL_WEEK, Kind.CALL_DAY, Kind.CALL_HOUR, Kind.CALL_FOLLOWUP)
NUDGE_KINDS = (Kind.MILESTONE, Kind.AGENDA, Kind.REPORT, Kind.PLAN)

CALL_OFFSETS = (  # kind, before the start, useful until (before the start)
    (Kind.CALL_WEEK, timedelta(days=7), timedelta(days=1)),
    (Kind.CALL_DAY, timedelta(days=1), timedelta(hours=1)),
    (Kind.CALL_HOUR, timedelta(hours=1), timedelta(0)),
)
OFFSET_NAMES = {Kind.CALL_WEEK: "week", Kind.CALL_DAY: "day", Kind.CALL_HOUR: "hour"}
ALL_OFFSETS = tuple(OFFSET_NAMES.values())
FOLLOWUP_AFTER = timedelta(minutes=15)
DEADLINE_NUDGES = (timedelta(days=28), timedelta(days=14), timedelta(days=3))
OVERDUE_AFTER = timedelta(days=1)
NUDGE_HOUR = time(9, 0)
PLAN_NUDGES = 4
MILESTONE_USEFUL = timedelta(days=3)
LATE_AFTER = timedelta(minutes=2)  # sent later than this after it was due: a late reminder
NUDGE_USEFUL = timedelta(days=7)


@dataclass(frozen=True)
class SeriesKey:
    """What a series of nudges is about: (kind, community, milestone, deadline year)."""

    kind: str
    community_id: int
    milestone_id: int | None = None
    year: int | None = None


@dataclass(frozen=True)
class Due:
    """One reminder to plan. `recipient` None: the community's channel."""

    kind: str
    due_at: datetime
    expires_at: datetime
    community_id: int
    call_id: int | None = None
    call_sequence: int | None = None
    milestone_id: int | None = None
    recipient: str | None = None
    series: SeriesKey | None = None

    def row(self, series_id: int | None = None) -> dict:
        return {
            "kind": self.kind,
            "due_at": self.due_at,
            "expires_at": self.expires_at,
            "community_id": self.community_id,
            "call_id": self.call_id,
            "call_sequence": self.call_sequence,
            "milestone_id": self.milestone_id,
            "recipient": self.recipient,
            "series_id": series_id,
            "state": ReminderState.PENDING.value,
            "attempts": 0,
        }


def deadline_instant(kind: str, year: int, zone: ZoneInfo, agenda_due, report_due) -> datetime:
    """The deadline a deadline nudge of `year` is about: 09:00 local on its due day."""
    month, day = agenda_due if kind == Kind.AGENDA else report_due
    return datetime.combine(date(year, month, day), NUDGE_HOUR, tzinfo=zone).astimezone(UTC)
