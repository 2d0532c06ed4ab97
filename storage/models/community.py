"""Communities, the people copbot knows from Slack, and who belongs to which community."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from storage.models.base import UTCDateTime, new_token, ts_column, utcnow


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
    profile_fetched_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


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
    joined_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    # how this person gets call reminders: in the channel, also by direct message, or not
    reminders: str = Field(
        default="channel", sa_column=Column(String(16), nullable=False, server_default="channel")
    )
