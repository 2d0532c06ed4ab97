"""Voting on a poll: choosing, taking back and adding an option, counted exactly.
(The question, its options and the tallies: `bot.services.polls`.)

Every vote starts with a conditional UPDATE of the poll's row (still open, not past its
closing time; bumps `version`). That UPDATE locks the row until the vote commits, so the
votes on one poll are counted one after another by the database: a member's tenth
concurrent click sees their first, a multiple-choice limit holds, and closing (another
UPDATE of the same row) takes no vote after it. The unique (poll, voter, option) key is
the last guard.

In an anonymous poll the voter is stored as HMAC-SHA256(app secret, poll id and user
id) while the poll is open: one key per voter, enough to keep one vote per person and let
them change it. Someone holding both the database and the secret could recompute it, so
at the close only the counts are kept (`bot.services.poll_closing`). A click is
remembered (for Slack's retries) by a key made of the poll and the click's own
trigger_id and action_ts: never who clicked nor what they chose.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.ops import metrics
from bot.services import CopError
from bot.services.polls import MAX_OPTION, MAX_OPTIONS, clean_label, key_check, label_key, load
from storage.models import Poll, PollClick, PollOption, PollState, PollVote

KEY_CHANGED = (
    "This anonymous poll cannot take votes now: copbot's secret key (COPBOT_SECRET_KEY) "
    "changed after it opened, and with another key no one's earlier vote would be known. "
    "Staff can put the earlier key back until it closes; its counts so far are safe."
)


def click_key(poll_id: int, trigger_id: str, action_ts: str, key: bytes) -> str:
    """What a Vote or Take back click is remembered by, so Slack's retry of it (same
    trigger_id and action_ts) changes nothing: neither who clicked nor what they chose."""
    text = f"click|{poll_id}|{trigger_id}|{action_ts}"
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def voter_of(poll: Poll, user_id: str, key: bytes) -> str:
    """What the vote table stores for `user_id`: the id itself in a named poll, a keyed
    hash in an anonymous one."""
    if not poll.anonymous:
        return user_id
    return hmac.new(key, f"{poll.id}:{user_id}".encode(), hashlib.sha256).hexdigest()


@dataclass
class VoteResult:
    outcome: str  # added, already, limit, closed, withdrawn, not_chosen, replay
    poll: Poll
    chosen: list[int] = field(default_factory=list)  # the voter's option ids, after


def _lock_open(session: Session, poll_id: int, now: datetime) -> bool:
    """Lock the poll's row if it still takes votes (and mark it changed)."""
    result = session.execute(
        update(Poll)
        .where(
            Poll.id == poll_id,
            Poll.state == PollState.OPEN.value,
            or_(Poll.closes_at.is_(None), Poll.closes_at > now),
        )
        .values(version=Poll.version + 1)
    )
    return result.rowcount == 1


def choices_of(session: Session, poll_id: int, voter: str) -> list[int]:
    return list(
        session.exec(
            select(PollVote.option_id).where(PollVote.poll_id == poll_id, PollVote.voter == voter)
        ).all()
    )


def _locked(session: Session, poll_id: int, now: datetime) -> Poll | None:
    """The poll, its row locked, if it takes votes; None if it is closed. The lock comes
    before any read, so SQLite never has to upgrade a stale read to a write."""
    if _lock_open(session, poll_id, now):
        return load(session, poll_id)
    session.rollback()
    load(session, poll_id)  # CopError if there is no such poll
    return None


@dataclass(frozen=True)
class Ballot:
    """What a vote needs to know of its poll, read for each vote before the poll's row is
    locked (settings never change and options are only ever added), so the lock is held
    for as few statements as possible."""

    poll: Poll
    labels: dict[int, str]


def ballot(session: Session, poll_id: int) -> Ballot:
    poll = load(session, poll_id)
    rows = session.exec(
        select(PollOption.id, PollOption.label).where(PollOption.poll_id == poll_id)
    ).all()
    return Ballot(poll, dict(rows))


def _closed(session: Session, poll_id: int) -> VoteResult:
    session.rollback()
    return VoteResult("closed", load(session, poll_id))


def _click(session: Session, poll_id: int, click: str | None) -> bool:
    """Remember this click in the vote's own transaction (the poll's row is locked);
    False when it was counted already: Slack delivered it again."""
    if click is None:
        return True
    try:
        session.execute(insert(PollClick).values(click_key=click, poll_id=poll_id))
    except IntegrityError:
        session.rollback()
        return False
    return True


def _unchanged(session: Session, poll_id: int) -> None:
    """Nothing changed but the click is remembered: give back the version the lock took."""
    session.execute(update(Poll).where(Poll.id == poll_id).values(version=Poll.version - 1))


def _check_key(session: Session, poll: Poll, key: bytes) -> None:
    """Refuse a vote keyed with another secret than the poll's voters were. A poll opened
    before polls kept their key's check (migration 0014) is pinned to the key of its first
    vote after the upgrade, by a conditional update: from then on a changed key is refused
    there too, instead of letting everyone vote a second time."""
    if not poll.anonymous:
        return
    if poll.key_check is None:
        session.execute(
            update(Poll)
            .where(Poll.id == poll.id, Poll.key_check.is_(None))
            .values(key_check=key_check(key))
        )
        poll.key_check = session.exec(select(Poll.key_check).where(Poll.id == poll.id)).one()
    if poll.key_check != key_check(key):
        raise CopError(KEY_CHANGED)


def _open_ballot(
    session: Session, poll: Poll, user_id: str, key: bytes, now: datetime, click: str | None
) -> str | VoteResult:
    """The voter's key when the poll is open and the click is new; else the answer to give
    (closed, or a replayed click that changes nothing)."""
    _check_key(session, poll, key)
    voter = voter_of(poll, user_id, key)
    if not _lock_open(session, poll.id, now):
        return _closed(session, poll.id)
    if not _click(session, poll.id, click):
        return VoteResult("replay", poll)
    return voter


def vote(
    session: Session,
    b: Ballot,
    option_id: int,
    user_id: str,
    key: bytes,
    now: datetime,
    click: str | None = None,
) -> VoteResult:
    """Choose `option_id`. Single choice replaces the voter's earlier choice; multiple
    choice adds to it up to the limit. Choosing the same option again changes nothing.
    `click` (see `click_key`) makes a replayed click change nothing."""
    poll = b.poll
    if option_id not in b.labels:
        raise CopError("That option is not part of this poll.")
    voter = _open_ballot(session, poll, user_id, key, now, click)
    if isinstance(voter, VoteResult):
        return voter
    chosen = choices_of(session, poll.id, voter)
    if option_id in chosen:
        _unchanged(session, poll.id)
        return VoteResult("already", poll, chosen)
    if not poll.multiple:
        if chosen:
            session.execute(
                delete(PollVote).where(PollVote.poll_id == poll.id, PollVote.voter == voter)
            )
        chosen = []
    elif poll.max_choices is not None and len(chosen) >= poll.max_choices:
        _unchanged(session, poll.id)
        return VoteResult("limit", poll, chosen)
    session.execute(insert(PollVote).values(poll_id=poll.id, option_id=option_id, voter=voter))
    metrics.vote()
    return VoteResult("added", poll, [*chosen, option_id])


def withdraw(
    session: Session,
    b: Ballot,
    option_id: int,
    user_id: str,
    key: bytes,
    now: datetime,
    click: str | None = None,
) -> VoteResult:
    """Take back one choice (all of them when `option_id` is 0)."""
    poll = b.poll
    voter = _open_ballot(session, poll, user_id, key, now, click)
    if isinstance(voter, VoteResult):
        return voter
    where = [PollVote.poll_id == poll.id, PollVote.voter == voter]
    if option_id:
        where.append(PollVote.option_id == option_id)
    removed = session.execute(delete(PollVote).where(*where)).rowcount
    chosen = choices_of(session, poll.id, voter)
    if not removed:
        _unchanged(session, poll.id)
        return VoteResult("not_chosen", poll, chosen)
    return VoteResult("withdrawn", poll, chosen)


def add_option(session: Session, poll_id: int, label: str, now: datetime) -> PollOption:
    """A member's extra option, if the poll allows it, it is new and there is room."""
    label = clean_label(label)
    if not label:
        raise CopError("Write the option.")
    if len(label) > MAX_OPTION:
        raise CopError(f"Keep the option to {MAX_OPTION} characters.")
    poll = _locked(session, poll_id, now)
    if poll is None:
        raise CopError("This poll is closed.")
    if not poll.members_add_options:
        raise CopError("This poll does not take new options.")
    options = list(session.exec(select(PollOption).where(PollOption.poll_id == poll_id)).all())
    if len(options) >= MAX_OPTIONS:
        raise CopError(f"This poll has {MAX_OPTIONS} options already, the most it can have.")
    if any(o.label_key == label_key(label) for o in options):
        raise CopError(f"“{label}” is an option already.")
    option = PollOption(
        poll_id=poll_id,
        position=max(o.position for o in options) + 1,
        label=label,
        label_key=label_key(label),
    )
    session.add(option)
    session.flush()
    return option
