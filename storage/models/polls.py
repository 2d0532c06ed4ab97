"""Polls, their options, votes and counted clicks."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from storage.models.base import new_token, ts_column, utcnow


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
    closes_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    state: str = Field(default=PollState.OPEN.value, sa_column=Column(String(16), nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    # none -> pending (closed, results to post) -> claimed -> posted
    results_state: str = Field(default="none", sa_column=Column(String(16), nullable=False))
    results_claimed_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    # kept when the poll closed: how many voted (its vote rows may be gone: anonymous)
    voter_count: int | None = Field(default=None)
    # a poll asked in several communities: its thread got the group's total (once)
    total_posted: bool = Field(default=False)
    # an anonymous poll: which secret keys its voters (a check value, not the key), so a
    # changed COPBOT_SECRET_KEY is noticed rather than letting everyone vote again
    key_check: str | None = Field(default=None, sa_column=Column(String(16)))
    version: int = Field(default=0)
    shown_version: int = Field(default=-1)
    refresh_claimed_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    message_channel: str | None = Field(default=None, sa_column=Column(String(32)))
    message_ts: str | None = Field(default=None, sa_column=Column(String(32)))
    created_by: str = Field(sa_column=Column(String(32), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


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
