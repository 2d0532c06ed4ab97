"""A community's year: its plan, its accepted year plan and milestones, and what it
reports at the end (the progress report, the evidence log, the guidelines acknowledged)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from storage.models.base import ts_column, utcnow


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
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


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
    published_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    published_by: str | None = Field(default=None, sa_column=Column(String(32)))
    # set while one publication posts the plan, so a second one waits (plans.claim_publication)
    publishing_since: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


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
    due_at: datetime = Field(sa_column=ts_column())
    done_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    created_by: str = Field(sa_column=Column(String(32), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


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
    accepted_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    # the Slack view that accepted it: a replay of that submission answers as it did
    view_id: str | None = Field(default=None, sa_column=Column(String(64)))


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
    added_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


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
    submitted_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    submitted_by: str | None = Field(default=None, sa_column=Column(String(32)))
    updated_by: str = Field(sa_column=Column(String(32), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


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
    acknowledged_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
