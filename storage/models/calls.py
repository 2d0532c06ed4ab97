"""Community calls, the Zoom hosts' booked time and daily quota, and registrations."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlmodel import Field, SQLModel

from storage.models.base import new_token, ts_column, utcnow


class CallKind(enum.StrEnum):
    COMMUNITY = "community"  # one of the 3 to 6 calls of the program year
    ADDITIONAL = "additional"  # beyond those, scheduled by the leaders


class CallStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    HELD = "held"


class MeetingState(enum.StrEnum):
    NONE = "none"  # no conferencing configured: the call has no meeting
    PENDING = "pending"  # a meeting is to be made (or making it failed: retry offered)
    CREATING = "creating"  # claimed by one worker that is asking Zoom now
    READY = "ready"


class Call(SQLModel, table=True):
    """A community call. Times are UTC; `timezone` is the zone it was set in."""

    __tablename__ = "call"
    __table_args__ = (
        Index("ix_call_community_start", "community_id", "start_at"),
        Index("ix_call_status_start", "status", "start_at"),
        CheckConstraint("kind IN ('community', 'additional')", name="ck_call_kind"),
        CheckConstraint("status IN ('scheduled', 'cancelled', 'held')", name="ck_call_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(
        default_factory=new_token, sa_column=Column(String(64), nullable=False, unique=True)
    )
    community_id: int = Field(
        sa_column=Column(ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    start_at: datetime = Field(sa_column=ts_column())
    duration_minutes: int = Field(default=60)
    timezone: str = Field(sa_column=Column(String(64), nullable=False))
    topic: str = Field(sa_column=Column(String(200), nullable=False))
    agenda: str = Field(default="", sa_column=Column(Text, nullable=False))
    host_user_id: str = Field(sa_column=Column(String(32), nullable=False))
    alternate_user_id: str | None = Field(default=None, sa_column=Column(String(32)))
    kind: str = Field(
        default=CallKind.COMMUNITY.value, sa_column=Column(String(16), nullable=False)
    )
    status: str = Field(
        default=CallStatus.SCHEDULED.value, sa_column=Column(String(16), nullable=False)
    )
    meeting_state: str = Field(
        default=MeetingState.NONE.value, sa_column=Column(String(16), nullable=False)
    )
    meeting_claimed_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    meeting_error: str | None = Field(default=None, sa_column=Column(Text))
    # the conferencing meeting of the call (a Zoom meeting id), once made
    meeting_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    join_url: str | None = Field(default=None, sa_column=Column(Text))
    passcode: str | None = Field(default=None, sa_column=Column(String(32)))
    sequence: int = Field(default=0)  # iCalendar SEQUENCE: bumped on every change
    recording_url: str | None = Field(default=None, sa_column=Column(Text))
    slides_url: str | None = Field(default=None, sa_column=Column(Text))
    # made or moved since the scheduler last planned its reminders
    needs_planning: bool = Field(
        default=True, sa_column=Column(Boolean, nullable=False, server_default=true(), index=True)
    )
    message_channel: str | None = Field(default=None, sa_column=Column(String(32)))
    message_ts: str | None = Field(default=None, sa_column=Column(String(32)))
    created_by: str = Field(sa_column=Column(String(32), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    # the Zoom user (of ZOOM_HOSTS) whose meeting this call is; its `host_booking` rows
    # hold that user's time
    zoom_host: str | None = Field(default=None, sa_column=Column(String(254)))
    # the host was out of Zoom's daily creates/updates: the meeting is made from then on
    meeting_not_before: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    # whether the meeting requires registration (each person their own link): off, on;
    # a meeting made while COPBOT_ZOOM_REGISTRATION was off is turned on by the scheduler
    registration: str = Field(
        default="off", sa_column=Column(String(8), nullable=False, server_default="off")
    )


class HostBooking(SQLModel, table=True):
    """A Zoom host's time taken by a call: one row per 5-minute slot from the call's start
    to 15 minutes after its end. The unique (host, slot) decides: two calls whose times
    come within 15 minutes of each other never get the same host."""

    __tablename__ = "host_booking"
    __table_args__ = (
        UniqueConstraint("host", "slot_at", name="uq_host_booking_slot"),
        Index("ix_host_booking_call", "call_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    host: str = Field(sa_column=Column(String(254), nullable=False))
    slot_at: datetime = Field(sa_column=ts_column())
    call_id: int = Field(
        sa_column=Column(ForeignKey("call.id", ondelete="CASCADE"), nullable=False)
    )


class ZoomHostDay(SQLModel, table=True):
    """Meeting creates and updates asked of a Zoom host on one UTC day (Zoom allows 100)."""

    __tablename__ = "zoom_host_day"

    host: str = Field(sa_column=Column(String(254), primary_key=True))
    day: date = Field(sa_column=Column(Date, primary_key=True))
    requests: int = Field(default=0, sa_column=Column(Integer, nullable=False))


class RegistrationState(enum.StrEnum):
    REGISTERED = "registered"  # has a join link of their own
    CANCELLED = "cancelled"  # left the community: the link no longer works
    NO_EMAIL = "no_email"  # Slack would not give their email: nothing to register with


class CallRegistration(SQLModel, table=True):
    """One person registered for a call's meeting: Zoom's registrant id, which the
    participants of the meeting carry afterwards, and the join link that is theirs alone.
    One row per call and person (the unique key decides between racing registrations)."""

    __tablename__ = "call_registration"
    __table_args__ = (
        UniqueConstraint("call_id", "slack_user_id", name="uq_call_registration"),
        UniqueConstraint("calendar_token", name="uq_call_registration_calendar"),
        Index("ix_call_registration_registrant", "registrant_id"),
        CheckConstraint(
            "state IN ('registered', 'cancelled', 'no_email')", name="ck_call_registration_state"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(
        sa_column=Column(ForeignKey("call.id", ondelete="CASCADE"), nullable=False)
    )
    slack_user_id: str = Field(sa_column=Column(String(32), nullable=False))
    state: str = Field(sa_column=Column(String(16), nullable=False))
    registrant_id: str | None = Field(default=None, sa_column=Column(String(64)))
    join_url: str | None = Field(default=None, sa_column=Column(Text))
    # the unguessable part of the URL of this person's own .ics for the call
    calendar_token: str | None = Field(default=None, sa_column=Column(String(64)))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
