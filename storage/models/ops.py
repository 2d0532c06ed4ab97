"""Operations: Slack events, interactive requests and Zoom webhooks already handled, the
scheduler's mark and lease, and permissions the conferencing app lacks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Column,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from storage.models.base import UTCDateTime, ts_column, utcnow


class HandledEvent(SQLModel, table=True):
    """Slack event ids already handled, so a retried delivery is handled once."""

    __tablename__ = "handled_event"

    event_id: str = Field(sa_column=Column(String(64), primary_key=True))
    received_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class SchedulerMark(SQLModel, table=True):
    """How far the scheduler has planned reminders ("planned": up to `at`)."""

    __tablename__ = "scheduler_mark"

    name: str = Field(sa_column=Column(String(32), primary_key=True))
    at: datetime = Field(sa_column=ts_column())


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


class SchedulerLease(SQLModel, table=True):
    """Which scheduler runs passes now: one holder at a time, until `expires_at` (wall
    clock), renewed by the holder each pass and taken by a conditional UPDATE/INSERT."""

    __tablename__ = "scheduler_lease"

    name: str = Field(sa_column=Column(String(32), primary_key=True))
    holder: str = Field(sa_column=Column(String(120), nullable=False))
    expires_at: datetime = Field(sa_column=ts_column())


class ZoomDelivery(SQLModel, table=True):
    """A Zoom webhook event already handled (its event name and meeting instance), so a
    retried delivery is handled once."""

    __tablename__ = "zoom_delivery"

    event_key: str = Field(sa_column=Column(String(64), primary_key=True))
    event: str = Field(sa_column=Column(String(64), nullable=False))
    received_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class ConferencingAlert(SQLModel, table=True):
    """A permission the conferencing app lacks (a Zoom scope), met at run time. Staff are
    told of each once: the pass whose conditional UPDATE sets `told_at` tells them. The
    row goes when the permission is granted, so losing it again is told again."""

    __tablename__ = "conferencing_alert"
    __table_args__ = (UniqueConstraint("permission", name="uq_conferencing_alert"),)

    id: int | None = Field(default=None, primary_key=True)
    permission: str = Field(sa_column=Column(String(120), nullable=False))
    what: str = Field(default="", sa_column=Column(String(200), nullable=False))
    seen_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    told_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
