"""After the call: the jobs that read attendance and find recordings, who came, what a
call leaves behind, and the value-creation questions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from storage.models.base import ts_column, utcnow


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
    due_at: datetime = Field(sa_column=ts_column())
    attempts: int = Field(default=0)
    claim_token: str | None = Field(default=None, sa_column=Column(String(36)))
    claimed_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(String(300)))
    # the meeting instance a webhook named (Zoom's UUID), if one did
    meeting_uuid: str | None = Field(default=None, sa_column=Column(String(200)))
    done_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


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
    counted_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


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
    attended_at: datetime = Field(sa_column=ts_column())  # the call's start


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
    added_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    # set by the one who posts it in the call's thread (a conditional UPDATE)
    posted_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    # a recording: the day the conferencing service deletes it (Zoom's auto_delete_date),
    # and when its leaders were told, a week before (a conditional UPDATE: once)
    deletes_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    deletion_told_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


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
    due_at: datetime = Field(sa_column=ts_column())
    # pending, claimed, sent, skipped (turned off), failed
    state: str = Field(default="pending", sa_column=Column(String(16), nullable=False))
    claim_token: str | None = Field(default=None, sa_column=Column(String(36)))
    claimed_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    answer: str | None = Field(default=None, sa_column=Column(Text))
    answered_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    evidence_ok: bool = Field(default=False)  # may go into the community's evidence log
    may_name: bool = Field(default=False)  # may be shown with the person's name


class ValueOptOut(SQLModel, table=True):
    """A person who turned the value questions off: never asked again."""

    __tablename__ = "value_opt_out"

    slack_user_id: str = Field(sa_column=Column(String(32), primary_key=True))
    at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class CommunityAfterCall(SQLModel, table=True):
    """A community's after-call switches (leaders choose): the value questions."""

    __tablename__ = "community_after_call"

    community_id: int = Field(
        sa_column=Column(ForeignKey("community.id", ondelete="CASCADE"), primary_key=True)
    )
    value_questions: bool = Field(default=True)
    updated_by: str = Field(sa_column=Column(String(32), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
