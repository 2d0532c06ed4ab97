"""The Annual Meeting onsite: its meeting, rooms, blocks, room slots and agendas."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from storage.models.base import UTCDateTime, new_token, ts_column, utcnow


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
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


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
    start_at: datetime = Field(sa_column=ts_column())
    end_at: datetime = Field(sa_column=ts_column())
    sequence: int = Field(default=0)  # iCalendar SEQUENCE: bumped by every move
    assigned_by: str = Field(sa_column=Column(String(32), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


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
    submitted_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    submitted_by: str | None = Field(default=None, sa_column=Column(String(32)))
    updated_by: str = Field(sa_column=Column(String(32), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
