"""What goes out to communities besides calls: staff announcements and their copies,
shared learning opportunities and their monthly digest."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
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
    send_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    timezone: str = Field(default="UTC", sa_column=Column(String(64), nullable=False))
    state: str = Field(
        default=AnnouncementState.DRAFT.value, sa_column=Column(String(16), nullable=False)
    )
    claimed_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    edited_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    created_by: str = Field(sa_column=Column(String(32), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
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
    shared_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class ShareDigest(SQLModel, table=True):
    """A community's monthly digest of shares: on or off, and the last month sent."""

    __tablename__ = "share_digest"

    community_id: int = Field(
        sa_column=Column(ForeignKey("community.id", ondelete="CASCADE"), primary_key=True)
    )
    enabled: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    last_month: str | None = Field(default=None, sa_column=Column(String(7)))  # YYYY-MM
    updated_by: str = Field(sa_column=Column(String(32), nullable=False))
