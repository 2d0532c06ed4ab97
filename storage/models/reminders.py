"""Reminders (one message due at one instant) and the nudge series leaders answer."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
)
from sqlmodel import Field, SQLModel

from storage.models.base import ts_column


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
    done_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    snoozed_until: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
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
    due_at: datetime = Field(sa_column=ts_column())
    expires_at: datetime = Field(sa_column=ts_column())
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
    next_attempt_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    claimed_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    claimed_by: str | None = Field(default=None, sa_column=Column(String(64)))
    sent_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(String(200)))
    # the call's version (Call.sequence) the reminder was planned for
    call_sequence: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    series_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("nudge_series.id", ondelete="CASCADE"), nullable=True),
    )
    # the claim a pass holds: only the holder of this token may send it
    claim_token: str | None = Field(default=None, sa_column=Column(String(36)))
