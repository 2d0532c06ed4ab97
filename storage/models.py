"""SQLModel tables: communities, people, memberships and handled Slack events.

Times are stored in UTC and come back timezone-aware on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import enum
import secrets
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    true,
)
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

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


def _ts(nullable: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable)


class Role(enum.StrEnum):
    LEADER = "leader"
    MEMBER = "member"


class PurposeArea(enum.StrEnum):
    """The four overarching activity areas a community's purpose falls into."""

    RELATIONSHIPS = "relationships"
    PRACTICE = "practice"
    PROJECTS = "projects"
    KNOWLEDGE = "knowledge"

    @property
    def label(self) -> str:
        return PURPOSE_AREA_LABELS[self]


PURPOSE_AREA_LABELS = {
    PurposeArea.RELATIONSHIPS: "Developing relationships",
    PurposeArea.PRACTICE: "Learning and developing practice",
    PurposeArea.PROJECTS: "Carrying out tasks and projects",
    PurposeArea.KNOWLEDGE: "Creating new knowledge",
}

MAX_NAME_LENGTH = 80
# case folding and NFKC may lengthen a name (ß -> ss, ﬃ -> ffi): room for that
MAX_NAME_KEY_LENGTH = 320
MAX_TEXT_LENGTH = 3000


class Community(SQLModel, table=True):
    __tablename__ = "community"
    __table_args__ = (
        UniqueConstraint("team_id", "slack_channel_id", name="uq_community_channel"),
        UniqueConstraint("team_id", "name_key", name="uq_community_name"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(sa_column=Column(String(32), nullable=False))
    name: str = Field(sa_column=Column(String(MAX_NAME_LENGTH), nullable=False))
    # the name normalised (NFKC, invisible characters removed, spaces collapsed) and
    # case-folded: two communities may not look the same (communities.name_key)
    name_key: str = Field(sa_column=Column(String(MAX_NAME_KEY_LENGTH), nullable=False))
    slack_channel_id: str = Field(sa_column=Column(String(32), nullable=False))
    mission: str = Field(default="", sa_column=Column(String(MAX_TEXT_LENGTH), nullable=False))
    description: str = Field(default="", sa_column=Column(String(MAX_TEXT_LENGTH), nullable=False))
    # comma-separated PurposeArea values, in the order of PurposeArea
    purpose_areas: str = Field(default="", sa_column=Column(String(200), nullable=False))
    created_by: str = Field(sa_column=Column(String(32), nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )
    # the unguessable part of the community's calendar feed URL
    calendar_token: str = Field(
        default_factory=lambda: new_token(),
        sa_column=Column(String(64), nullable=False, unique=True),
    )
    # which call reminders the channel gets (leaders choose): any of week, day, hour
    call_reminders: str = Field(
        default="week,day,hour",
        sa_column=Column(String(32), nullable=False, server_default="week,day,hour"),
    )
    # bumped by every change of leaders or members, so rosters can be cached safely
    roster_version: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )

    @property
    def areas(self) -> list[PurposeArea]:
        return [PurposeArea(v) for v in self.purpose_areas.split(",") if v]


class Person(SQLModel, table=True):
    """A Slack user as copbot knows them; profile fields are a cache of users.info."""

    __tablename__ = "person"

    slack_user_id: str = Field(sa_column=Column(String(32), primary_key=True))
    display_name: str = Field(default="", sa_column=Column(String(200), nullable=False))
    real_name: str = Field(default="", sa_column=Column(String(200), nullable=False))
    tz: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    email: str | None = Field(default=None, sa_column=Column(String(320), nullable=True))
    is_bot: bool = Field(default=False)
    profile_fetched_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class Membership(SQLModel, table=True):
    __tablename__ = "membership"
    __table_args__ = (
        UniqueConstraint("community_id", "slack_user_id", name="uq_membership"),
        CheckConstraint("role IN ('leader', 'member')", name="ck_membership_role"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(
        sa_column=Column(ForeignKey("community.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    slack_user_id: str = Field(
        sa_column=Column(String(32), ForeignKey("person.slack_user_id"), nullable=False, index=True)
    )
    role: str = Field(sa_column=Column(String(16), nullable=False))
    joined_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    # how this person gets call reminders: in the channel, also by direct message, or not
    reminders: str = Field(
        default="channel", sa_column=Column(String(16), nullable=False, server_default="channel")
    )


class HandledEvent(SQLModel, table=True):
    """Slack event ids already handled, so a retried delivery is handled once."""

    __tablename__ = "handled_event"

    event_id: str = Field(sa_column=Column(String(64), primary_key=True))
    received_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class PlanAnswer(SQLModel, table=True):
    """One answer of a community's plan; keeps who changed it last and when."""

    __tablename__ = "plan_answer"
    __table_args__ = (UniqueConstraint("community_id", "question_key", name="uq_plan_answer"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(
        sa_column=Column(ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    question_key: str = Field(sa_column=Column(String(64), nullable=False))
    answer: str = Field(default="", sa_column=Column(Text, nullable=False))
    updated_by: str = Field(sa_column=Column(String(32), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Plan(SQLModel, table=True):
    """Where a community's plan stands: the section last worked on, and where it is posted."""

    __tablename__ = "plan"

    community_id: int = Field(
        sa_column=Column(ForeignKey("community.id", ondelete="CASCADE"), primary_key=True)
    )
    last_section: int = Field(default=1)
    # the channel and message timestamps of the published plan (JSON list), if published
    published_channel: str | None = Field(default=None, sa_column=Column(String(32)))
    published_ts: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    published_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    published_by: str | None = Field(default=None, sa_column=Column(String(32)))
    # set while one publication posts the plan, so a second one waits (plans.claim_publication)
    publishing_since: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


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


def new_token() -> str:
    return secrets.token_urlsafe(24)


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
    start_at: datetime = Field(sa_column=_ts())
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
    meeting_claimed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
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
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    # the Zoom user (of ZOOM_HOSTS) whose meeting this call is; its `host_booking` rows
    # hold that user's time
    zoom_host: str | None = Field(default=None, sa_column=Column(String(254)))
    # the host was out of Zoom's daily creates/updates: the meeting is made from then on
    meeting_not_before: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
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
    slot_at: datetime = Field(sa_column=_ts())
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
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Milestone(SQLModel, table=True):
    """A dated step of the community's year that is not a call (a guide to distribute,
    readings to post, a report to send), for reminders."""

    __tablename__ = "milestone"
    __table_args__ = (Index("ix_milestone_due", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(
        sa_column=Column(ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    call_id: int | None = Field(
        default=None, sa_column=Column(ForeignKey("call.id", ondelete="SET NULL"), nullable=True)
    )
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    title: str = Field(sa_column=Column(String(300), nullable=False))
    due_at: datetime = Field(sa_column=_ts())
    done_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_by: str = Field(sa_column=Column(String(32), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ReminderState(enum.StrEnum):
    PENDING = "pending"  # due at due_at (or next_attempt_at after a transient failure)
    CLAIMED = "claimed"  # a pass holds it (its claim_token) and will send it soon
    SENDING = "sending"  # the holder checked its claim and is posting it now
    SENT = "sent"
    MISSED = "missed"  # became due while nothing ran, and is no longer useful
    VOID = "void"  # its call moved or was cancelled, or its series was marked done
    FAILED = "failed"  # Slack refused it for good (e.g. channel_not_found)


class NudgeSeries(SQLModel, table=True):
    """A series of nudges about one thing (a deadline of one year, a community's plan, a
    milestone) and a leader's answer to it: done, or snoozed until a time.

    Its identity is typed: (kind, community, milestone or none, deadline year or none)."""

    __tablename__ = "nudge_series"
    __table_args__ = (
        Index(
            "uq_nudge_series_key",
            "kind",
            "community_id",
            func.coalesce(Column("milestone_id", Integer), 0),
            func.coalesce(Column("year", Integer), 0),
            unique=True,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    community_id: int = Field(
        sa_column=Column(ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    milestone_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("milestone.id", ondelete="CASCADE"), nullable=True),
    )
    year: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    done_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    snoozed_until: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    updated_by: str | None = Field(default=None, sa_column=Column(String(32)))


class Reminder(SQLModel, table=True):
    """One message due at one instant, about one thing, to one place.

    What it is about is typed: its kind, community, call and the call's version
    (`call_sequence`), milestone, nudge series, and `recipient` (a user: a DM; none: the
    community's channel). Those with `due_at` are its natural key (a unique index), so
    racing passes plan each once. A pass claims a pending row with a `claim_token`, and
    posts only after a conditional UPDATE showing it still holds that claim.
    """

    __tablename__ = "reminder"
    __table_args__ = (
        Index(
            "uq_reminder_key",
            "kind",
            "community_id",
            func.coalesce(Column("call_id", Integer), 0),
            func.coalesce(Column("call_sequence", Integer), 0),
            func.coalesce(Column("milestone_id", Integer), 0),
            func.coalesce(Column("recipient", String(32)), ""),
            "due_at",
            unique=True,
        ),
        Index("ix_reminder_state_due", "state", "due_at"),
        Index("ix_reminder_call", "call_id"),
        Index("ix_reminder_series", "series_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    due_at: datetime = Field(sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts())
    community_id: int = Field(
        sa_column=Column(ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    call_id: int | None = Field(
        default=None, sa_column=Column(ForeignKey("call.id", ondelete="CASCADE"), nullable=True)
    )
    milestone_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("milestone.id", ondelete="CASCADE"), nullable=True),
    )
    recipient: str | None = Field(default=None, sa_column=Column(String(32)))  # a user: a DM
    state: str = Field(
        default=ReminderState.PENDING.value, sa_column=Column(String(16), nullable=False)
    )
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    claimed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    claimed_by: str | None = Field(default=None, sa_column=Column(String(64)))
    sent_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(String(200)))
    # the call's version (Call.sequence) the reminder was planned for
    call_sequence: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    series_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("nudge_series.id", ondelete="CASCADE"), nullable=True),
    )
    # the claim a pass holds: only the holder of this token may send it
    claim_token: str | None = Field(default=None, sa_column=Column(String(36)))


class SchedulerMark(SQLModel, table=True):
    """How far the scheduler has planned reminders ("planned": up to `at`)."""

    __tablename__ = "scheduler_mark"

    name: str = Field(sa_column=Column(String(32), primary_key=True))
    at: datetime = Field(sa_column=_ts())


class HandledRequest(SQLModel, table=True):
    """An interactive request (view submission, button click, command) already claimed,
    and the answer it got: a replay answers the same and does nothing more."""

    __tablename__ = "handled_request"

    request_key: str = Field(sa_column=Column(String(64), primary_key=True))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    received_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )
    status: int | None = Field(default=None)  # None: the first delivery is still running
    content_type: str | None = Field(default=None, sa_column=Column(String(100)))
    body: str | None = Field(default=None, sa_column=Column(Text))


class YearPlan(SQLModel, table=True):
    """A community's accepted year plan: one per program year, so that accepting the same
    year twice (two forms, a double click, a replay) schedules it once."""

    __tablename__ = "year_plan"
    __table_args__ = (UniqueConstraint("community_id", "first_day", name="uq_year_plan"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(
        sa_column=Column(ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    first_day: date = Field(sa_column=Column(Date, nullable=False))
    accepted_by: str = Field(sa_column=Column(String(32), nullable=False))
    accepted_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    # the Slack view that accepted it: a replay of that submission answers as it did
    view_id: str | None = Field(default=None, sa_column=Column(String(64)))


class SchedulerLease(SQLModel, table=True):
    """Which scheduler runs passes now: one holder at a time, until `expires_at` (wall
    clock), renewed by the holder each pass and taken by a conditional UPDATE/INSERT."""

    __tablename__ = "scheduler_lease"

    name: str = Field(sa_column=Column(String(32), primary_key=True))
    holder: str = Field(sa_column=Column(String(120), nullable=False))
    expires_at: datetime = Field(sa_column=_ts())


class PollState(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Poll(SQLModel, table=True):
    """A question asked in one community's channel.

    Votes lock the poll's row (a conditional UPDATE that also bumps `version`), so votes on
    one poll are counted one after another by the database and none is taken once the
    poll is closed. `shown_version` is the version the channel's message shows: the one
    update in flight (`refresh_claimed_at`) keeps sending until it catches up, so a busy
    poll sends far fewer `chat.update` calls than it gets votes.
    """

    __tablename__ = "poll"
    __table_args__ = (
        Index("ix_poll_state_closes", "state", "closes_at"),
        Index("ix_poll_results", "results_state"),
        CheckConstraint("state IN ('open', 'closed')", name="ck_poll_state"),
        # one poll per community per submitted form: a replayed submission adds nothing
        UniqueConstraint("community_id", "group_key", name="uq_poll_group"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(
        sa_column=Column(ForeignKey("community.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    # polls asked in several communities at once (one form) share a group
    group_key: str = Field(default_factory=new_token, sa_column=Column(String(80), nullable=False))
    question: str = Field(sa_column=Column(String(300), nullable=False))
    multiple: bool = Field(default=False)
    max_choices: int | None = Field(default=None)
    anonymous: bool = Field(default=True)
    live_results: bool = Field(default=True)
    members_add_options: bool = Field(default=False)
    closes_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    state: str = Field(default=PollState.OPEN.value, sa_column=Column(String(16), nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # none -> pending (closed, results to post) -> claimed -> posted
    results_state: str = Field(default="none", sa_column=Column(String(16), nullable=False))
    results_claimed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # kept when the poll closed: how many voted (its vote rows may be gone: anonymous)
    voter_count: int | None = Field(default=None)
    # a poll asked in several communities: its thread got the group's total (once)
    total_posted: bool = Field(default=False)
    # an anonymous poll: which secret keys its voters (a check value, not the key), so a
    # changed COPBOT_SECRET_KEY is noticed rather than letting everyone vote again
    key_check: str | None = Field(default=None, sa_column=Column(String(16)))
    version: int = Field(default=0)
    shown_version: int = Field(default=-1)
    refresh_claimed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    message_channel: str | None = Field(default=None, sa_column=Column(String(32)))
    message_ts: str | None = Field(default=None, sa_column=Column(String(32)))
    created_by: str = Field(sa_column=Column(String(32), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class PollOption(SQLModel, table=True):
    """One answer a poll offers; `label_key` (case and spaces ignored) is unique per poll."""

    __tablename__ = "poll_option"
    __table_args__ = (
        UniqueConstraint("poll_id", "label_key", name="uq_poll_option_label"),
        UniqueConstraint("poll_id", "position", name="uq_poll_option_position"),
    )

    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(
        sa_column=Column(ForeignKey("poll.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    position: int = Field(sa_column=Column(Integer, nullable=False))
    label: str = Field(sa_column=Column(String(75), nullable=False))
    label_key: str = Field(sa_column=Column(String(75), nullable=False))
    # the count kept when the poll closed (None while it is open: counted from its votes)
    votes: int | None = Field(default=None)


class PollVote(SQLModel, table=True):
    """One choice of one voter, while the poll is open. `voter` is the Slack user id in a
    named poll; in an anonymous poll it is HMAC-SHA256(secret, poll id and user id), the
    one key per voter that keeps one vote per person and lets them change it.

    A vote row has no id, no time and no order of its own: its key is (poll, voter,
    option), and SQLite stores it in that key's order (WITHOUT ROWID), so neither an id
    nor the order of the rows tells who voted when. When an anonymous poll closes its
    counts are kept on the poll and its options and its vote rows are deleted, in the
    closing transaction: from then on no key, secret or not, ties anyone to a choice."""

    __tablename__ = "poll_vote"
    __table_args__ = (
        Index("ix_poll_vote_option", "option_id"),
        {"sqlite_with_rowid": False},
    )

    poll_id: int = Field(
        sa_column=Column(
            ForeignKey("poll.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
        )
    )
    voter: str = Field(sa_column=Column(String(64), primary_key=True))
    option_id: int = Field(
        sa_column=Column(
            ForeignKey("poll_option.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
        )
    )


class PollClick(SQLModel, table=True):
    """A Vote or Take back click already counted, so Slack's retry of it changes nothing.

    Its key is HMAC-SHA256(secret, poll id, the click's trigger_id and action_ts): nothing
    of who clicked or what they chose, and no time. It is written in the vote's own
    transaction (one winner by this key) and deleted when the poll closes."""

    __tablename__ = "poll_click"
    __table_args__ = ({"sqlite_with_rowid": False},)

    click_key: str = Field(sa_column=Column(String(64), primary_key=True))
    poll_id: int = Field(
        sa_column=Column(ForeignKey("poll.id", ondelete="CASCADE"), nullable=False, index=True)
    )


class AnnouncementState(enum.StrEnum):
    DRAFT = "draft"  # written, shown as a preview, not sent
    SCHEDULED = "scheduled"  # to be sent at send_at by the scheduler
    SENDING = "sending"  # claimed by one worker that is posting the copies
    SENT = "sent"
    CANCELLED = "cancelled"
    DELETED = "deleted"


class Announcement(SQLModel, table=True):
    """Staff's message to one, several or every community; each posted copy is an
    AnnouncementCopy, so an edit or a delete reaches every channel."""

    __tablename__ = "announcement"
    __table_args__ = (Index("ix_announcement_state_send", "state", "send_at"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(sa_column=Column(String(32), nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))
    mention: str = Field(default="", sa_column=Column(String(16), nullable=False))
    pin: bool = Field(default=False)
    send_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    timezone: str = Field(default="UTC", sa_column=Column(String(64), nullable=False))
    state: str = Field(
        default=AnnouncementState.DRAFT.value, sa_column=Column(String(16), nullable=False)
    )
    claimed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    edited_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_by: str = Field(sa_column=Column(String(32), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    # the form it came from (its view id): the same form submitted again adds nothing
    source: str | None = Field(default=None, sa_column=Column(String(80), unique=True))


class AnnouncementCopy(SQLModel, table=True):
    """One channel's copy of an announcement: pending, posted (with its ts), failed (with
    Slack's error) or deleted."""

    __tablename__ = "announcement_copy"
    __table_args__ = (
        UniqueConstraint("announcement_id", "community_id", name="uq_announcement_copy"),
    )

    id: int | None = Field(default=None, primary_key=True)
    announcement_id: int = Field(
        sa_column=Column(
            ForeignKey("announcement.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    community_id: int = Field(
        sa_column=Column(ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    channel: str = Field(sa_column=Column(String(32), nullable=False))
    state: str = Field(default="pending", sa_column=Column(String(16), nullable=False))
    ts: str = Field(default="", sa_column=Column(Text, nullable=False))  # JSON list of ts
    error: str | None = Field(default=None, sa_column=Column(String(200)))


# ---- the year's deliverables: the Annual Meeting's onsite blocks and agendas ----------
class OnsiteMeeting(SQLModel, table=True):
    """The Annual Meeting of a year: where (its venue's zone) and when (its days)."""

    __tablename__ = "onsite_meeting"

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(sa_column=Column(Integer, nullable=False, unique=True))
    name: str = Field(sa_column=Column(String(120), nullable=False))
    timezone: str = Field(sa_column=Column(String(64), nullable=False))
    start_date: date = Field(sa_column=Column(Date, nullable=False))
    end_date: date = Field(sa_column=Column(Date, nullable=False))
    updated_by: str = Field(sa_column=Column(String(32), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class OnsiteRoom(SQLModel, table=True):
    __tablename__ = "onsite_room"
    __table_args__ = (UniqueConstraint("meeting_id", "name", name="uq_onsite_room"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(
        sa_column=Column(ForeignKey("onsite_meeting.id", ondelete="CASCADE"), nullable=False)
    )
    name: str = Field(sa_column=Column(String(80), nullable=False))
    capacity: int = Field(sa_column=Column(Integer, nullable=False))


class OnsiteBlock(SQLModel, table=True):
    """A community's two hours at the Annual Meeting, in one room: one per community."""

    __tablename__ = "onsite_block"
    __table_args__ = (
        UniqueConstraint("meeting_id", "community_id", name="uq_onsite_block_community"),
    )

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(
        default_factory=new_token, sa_column=Column(String(64), nullable=False, unique=True)
    )
    meeting_id: int = Field(
        sa_column=Column(ForeignKey("onsite_meeting.id", ondelete="CASCADE"), nullable=False)
    )
    community_id: int = Field(
        sa_column=Column(ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    room_id: int = Field(
        sa_column=Column(ForeignKey("onsite_room.id", ondelete="CASCADE"), nullable=False)
    )
    start_at: datetime = Field(sa_column=_ts())
    end_at: datetime = Field(sa_column=_ts())
    sequence: int = Field(default=0)  # iCalendar SEQUENCE: bumped by every move
    assigned_by: str = Field(sa_column=Column(String(32), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class OnsiteRoomSlot(SQLModel, table=True):
    """A room's half-hour taken by a block: the primary key lets one block hold it."""

    __tablename__ = "onsite_room_slot"

    room_id: int = Field(
        sa_column=Column(ForeignKey("onsite_room.id", ondelete="CASCADE"), primary_key=True)
    )
    starts_at: datetime = Field(sa_column=Column(UTCDateTime(), primary_key=True))
    block_id: int = Field(
        sa_column=Column(
            ForeignKey("onsite_block.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )


class OnsiteAgenda(SQLModel, table=True):
    """A community's agenda for its onsite block: sessions as JSON, a draft or submitted."""

    __tablename__ = "onsite_agenda"
    __table_args__ = (
        UniqueConstraint("community_id", "year", name="uq_onsite_agenda"),
        CheckConstraint("state IN ('draft', 'submitted')", name="ck_onsite_agenda_state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(
        sa_column=Column(ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    year: int = Field(sa_column=Column(Integer, nullable=False))
    items: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    state: str = Field(default="draft", sa_column=Column(String(16), nullable=False))
    submitted_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    submitted_by: str | None = Field(default=None, sa_column=Column(String(32)))
    updated_by: str = Field(sa_column=Column(String(32), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Evidence(SQLModel, table=True):
    """An item of a community's evidence log: a saved Slack message or a note."""

    __tablename__ = "evidence"
    __table_args__ = (
        # a message is saved once per community, however often the shortcut is used
        UniqueConstraint("community_id", "message_channel", "message_ts", name="uq_evidence_msg"),
        Index("ix_evidence_community", "community_id", "added_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(
        sa_column=Column(ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    text: str = Field(sa_column=Column(Text, nullable=False))
    author: str | None = Field(default=None, sa_column=Column(String(32)))  # who wrote it
    message_channel: str | None = Field(default=None, sa_column=Column(String(32)))
    message_ts: str | None = Field(default=None, sa_column=Column(String(32)))
    permalink: str | None = Field(default=None, sa_column=Column(Text))
    added_by: str = Field(sa_column=Column(String(32), nullable=False))
    added_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ProgressReport(SQLModel, table=True):
    """A community's annual progress report for a program year (`year`: the year it
    ends in): the leaders' words, and what copbot knew (`facts`, JSON) when last saved."""

    __tablename__ = "progress_report"
    __table_args__ = (
        UniqueConstraint("community_id", "year", name="uq_progress_report"),
        CheckConstraint("state IN ('draft', 'submitted')", name="ck_progress_report_state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(
        sa_column=Column(ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    year: int = Field(sa_column=Column(Integer, nullable=False))
    results: str = Field(default="", sa_column=Column(Text, nullable=False))
    celebrations: str = Field(default="", sa_column=Column(Text, nullable=False))
    practice: str = Field(default="", sa_column=Column(Text, nullable=False))
    facts: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    state: str = Field(default="draft", sa_column=Column(String(16), nullable=False))
    submitted_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    submitted_by: str | None = Field(default=None, sa_column=Column(String(32)))
    updated_by: str = Field(sa_column=Column(String(32), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ResourceAck(SQLModel, table=True):
    """A community's leaders acknowledged the guidelines for a program year (once)."""

    __tablename__ = "resource_ack"
    __table_args__ = (UniqueConstraint("community_id", "year", name="uq_resource_ack"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(
        sa_column=Column(ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    year: int = Field(sa_column=Column(Integer, nullable=False))
    acknowledged_by: str = Field(sa_column=Column(String(32), nullable=False))
    acknowledged_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Share(SQLModel, table=True):
    """A learning opportunity a member shared with the community (`/cop share`)."""

    __tablename__ = "share"
    __table_args__ = (Index("ix_share_community", "community_id", "shared_at"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(
        sa_column=Column(ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    url: str = Field(sa_column=Column(Text, nullable=False))
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    event_date: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    region: str | None = Field(default=None, sa_column=Column(String(80)))
    shared_by: str = Field(sa_column=Column(String(32), nullable=False))
    shared_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ShareDigest(SQLModel, table=True):
    """A community's monthly digest of shares: on or off, and the last month sent."""

    __tablename__ = "share_digest"

    community_id: int = Field(
        sa_column=Column(ForeignKey("community.id", ondelete="CASCADE"), primary_key=True)
    )
    enabled: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    last_month: str | None = Field(default=None, sa_column=Column(String(7)))  # YYYY-MM
    updated_by: str = Field(sa_column=Column(String(32), nullable=False))


# ---- after the call: webhooks, attendance, recordings and slides, value created ----------
class ZoomDelivery(SQLModel, table=True):
    """A Zoom webhook event already handled (its event name and meeting instance), so a
    retried delivery is handled once."""

    __tablename__ = "zoom_delivery"

    event_key: str = Field(sa_column=Column(String(64), primary_key=True))
    event: str = Field(sa_column=Column(String(64), nullable=False))
    received_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class AfterCallJob(SQLModel, table=True):
    """Work to do once a call has ended: read its attendance, or find its recording.
    One row per call and kind (the unique key); a pass claims a due row by a
    conditional UPDATE with a token, so two passes never do it twice."""

    __tablename__ = "after_call_job"
    __table_args__ = (
        UniqueConstraint("call_id", "kind", name="uq_after_call_job"),
        Index("ix_after_call_job_due", "state", "due_at"),
        CheckConstraint("kind IN ('attendance', 'recording')", name="ck_after_call_job_kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(
        sa_column=Column(ForeignKey("call.id", ondelete="CASCADE"), nullable=False)
    )
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    # pending, claimed, done, unavailable (gave up: last_error says why), off
    state: str = Field(default="pending", sa_column=Column(String(16), nullable=False))
    due_at: datetime = Field(sa_column=_ts())
    attempts: int = Field(default=0)
    claim_token: str | None = Field(default=None, sa_column=Column(String(36)))
    claimed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(String(300)))
    # the meeting instance a webhook named (Zoom's UUID), if one did
    meeting_uuid: str | None = Field(default=None, sa_column=Column(String(200)))
    done_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class CallAttendance(SQLModel, table=True):
    """How many came to a call: everyone, the community's members among them, first
    timers, people not matched to anyone in Slack (a count only) and minutes attended."""

    __tablename__ = "call_attendance"

    call_id: int = Field(
        sa_column=Column(ForeignKey("call.id", ondelete="CASCADE"), primary_key=True)
    )
    came: int = Field(default=0)
    members: int = Field(default=0)
    first_timers: int = Field(default=0)
    guests: int = Field(default=0)
    minutes: int = Field(default=0)
    counted_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Attendance(SQLModel, table=True):
    """One Slack person at one call (rejoins merged), with the minutes they attended."""

    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("call_id", "slack_user_id", name="uq_attendance"),
        Index("ix_attendance_person", "community_id", "slack_user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(
        sa_column=Column(ForeignKey("call.id", ondelete="CASCADE"), nullable=False)
    )
    community_id: int = Field(
        sa_column=Column(ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    slack_user_id: str = Field(sa_column=Column(String(32), nullable=False))
    minutes: int = Field(default=0)
    member: bool = Field(default=False)  # a member or leader of the community then
    first_time: bool = Field(default=False)  # their first call of this community
    attended_at: datetime = Field(sa_column=_ts())  # the call's start


class CallResource(SQLModel, table=True):
    """What a call leaves behind: its recording, slides and readings (a link)."""

    __tablename__ = "call_resource"
    __table_args__ = (
        UniqueConstraint("call_id", "kind", "url", name="uq_call_resource"),
        Index("ix_call_resource_community", "community_id", "added_at"),
        CheckConstraint("kind IN ('recording', 'slides', 'reading')", name="ck_call_resource_kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(
        sa_column=Column(ForeignKey("call.id", ondelete="CASCADE"), nullable=False)
    )
    community_id: int = Field(
        sa_column=Column(ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    title: str = Field(default="", sa_column=Column(String(200), nullable=False))
    url: str = Field(sa_column=Column(String(2000), nullable=False))
    passcode: str | None = Field(default=None, sa_column=Column(String(64)))
    added_by: str = Field(sa_column=Column(String(32), nullable=False))
    added_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    # set by the one who posts it in the call's thread (a conditional UPDATE)
    posted_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # a recording: the day the conferencing service deletes it (Zoom's auto_delete_date),
    # and when its leaders were told, a week before (a conditional UPDATE: once)
    deletes_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    deletion_told_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class ConferencingAlert(SQLModel, table=True):
    """A permission the conferencing app lacks (a Zoom scope), met at run time. Staff are
    told of each once: the pass whose conditional UPDATE sets `told_at` tells them. The
    row goes when the permission is granted, so losing it again is told again."""

    __tablename__ = "conferencing_alert"
    __table_args__ = (UniqueConstraint("permission", name="uq_conferencing_alert"),)

    id: int | None = Field(default=None, primary_key=True)
    permission: str = Field(sa_column=Column(String(120), nullable=False))
    what: str = Field(default="", sa_column=Column(String(200), nullable=False))
    seen_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    told_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class ValueQuestion(SQLModel, table=True):
    """A value-creation question to one person about one call: "what will you try"
    (stage `try`, the day after) and "did you try it" (stage `follow_up`, ~60 days after
    an answer), with the answer and the person's consent."""

    __tablename__ = "value_question"
    __table_args__ = (
        UniqueConstraint("call_id", "slack_user_id", "stage", name="uq_value_question"),
        Index("ix_value_question_due", "state", "due_at"),
        CheckConstraint("stage IN ('try', 'follow_up')", name="ck_value_question_stage"),
    )

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(
        sa_column=Column(ForeignKey("call.id", ondelete="CASCADE"), nullable=False)
    )
    community_id: int = Field(
        sa_column=Column(ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    slack_user_id: str = Field(sa_column=Column(String(32), nullable=False))
    stage: str = Field(sa_column=Column(String(16), nullable=False))
    due_at: datetime = Field(sa_column=_ts())
    # pending, claimed, sent, skipped (turned off), failed
    state: str = Field(default="pending", sa_column=Column(String(16), nullable=False))
    claim_token: str | None = Field(default=None, sa_column=Column(String(36)))
    claimed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    answer: str | None = Field(default=None, sa_column=Column(Text))
    answered_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    evidence_ok: bool = Field(default=False)  # may go into the community's evidence log
    may_name: bool = Field(default=False)  # may be shown with the person's name


class ValueOptOut(SQLModel, table=True):
    """A person who turned the value questions off: never asked again."""

    __tablename__ = "value_opt_out"

    slack_user_id: str = Field(sa_column=Column(String(32), primary_key=True))
    at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class CommunityAfterCall(SQLModel, table=True):
    """A community's after-call switches (leaders choose): the value questions."""

    __tablename__ = "community_after_call"

    community_id: int = Field(
        sa_column=Column(ForeignKey("community.id", ondelete="CASCADE"), primary_key=True)
    )
    value_questions: bool = Field(default=True)
    updated_by: str = Field(sa_column=Column(String(32), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
