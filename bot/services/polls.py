"""Polls: checking a question and its options, counting votes exactly, the tallies.
(Keeping the message current and closing: `bot.services.poll_closing`.)

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
trigger_id and action_ts: never who clicked nor what they chose. Option labels are
normalised as names are (`bot.services.names`), so lookalikes are one option.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.ops import metrics
from bot.services import CopError
from bot.services.names import clean_name, name_key
from storage.models import Community, Poll, PollClick, PollOption, PollState, PollVote

MIN_OPTIONS = 2
MAX_OPTIONS = 10
MAX_QUESTION = 300
MAX_OPTION = 75

# the modal's block ids, which its field errors name
QUESTION = "poll_question"
OPTIONS = "poll_options"
CHOICE = "poll_choice"
LIMIT = "poll_limit"
CLOSES = "poll_closes"
SETTINGS = "poll_settings"
TARGETS = "poll_targets"


def clean_label(label: str) -> str:
    """An option as stored and shown: normalised as names are (NFKC, invisible and bidi
    characters removed, spaces collapsed)."""
    return clean_name(label)


def label_key(label: str) -> str:
    """Options that look the same (case, spaces, full-width letters, invisible
    characters aside) are the same option."""
    return name_key(label)


@dataclass
class PollForm:
    question: str
    options: list[str]
    multiple: bool = False
    max_choices: str = ""
    anonymous: bool = True
    live_results: bool = True
    members_add_options: bool = False
    closes_at: datetime | None = None


@dataclass(frozen=True)
class PollDraft:
    question: str
    options: tuple[str, ...]
    multiple: bool
    max_choices: int | None
    anonymous: bool
    live_results: bool
    members_add_options: bool
    closes_at: datetime | None


def validate(form: PollForm, now: datetime) -> tuple[PollDraft | None, dict[str, str]]:
    """The draft, or field errors keyed by the modal's block ids."""
    errors: dict[str, str] = {}
    question = " ".join(form.question.split())
    if not question:
        errors[QUESTION] = "Write the question."
    elif len(question) > MAX_QUESTION:
        errors[QUESTION] = f"Keep the question to {MAX_QUESTION} characters ({len(question)} now)."
    options = [clean_label(o) for o in form.options]
    options = [o for o in options if o]
    seen: dict[str, str] = {}
    for option in options:
        if label_key(option) in seen:
            errors[OPTIONS] = (
                f"“{option}” is there twice (case, spaces and invisible characters aside)."
            )
            break
        seen[label_key(option)] = option
    too_long = [o for o in options if len(o) > MAX_OPTION]
    if len(options) < MIN_OPTIONS:
        errors[OPTIONS] = f"Give at least {MIN_OPTIONS} options, one per line."
    elif len(options) > MAX_OPTIONS:
        errors[OPTIONS] = f"A poll has at most {MAX_OPTIONS} options; this one has {len(options)}."
    elif too_long:
        errors[OPTIONS] = f"Keep each option to {MAX_OPTION} characters: “{too_long[0][:30]}…”."
    limit: int | None = None
    if form.max_choices.strip():
        try:
            limit = int(form.max_choices)
        except ValueError:
            errors[LIMIT] = "Give the limit as a whole number."
        else:
            if not form.multiple:
                errors[LIMIT] = "A limit only applies to multiple choice."
            elif not 1 <= limit <= max(len(options), 1):
                errors[LIMIT] = f"Pick a limit from 1 to the number of options ({len(options)})."
    if form.closes_at is not None and form.closes_at <= now:
        errors[CLOSES] = "The closing time is in the past: pick a later one."
    if errors:
        return None, errors
    draft = PollDraft(
        question=question,
        options=tuple(options),
        multiple=form.multiple,
        max_choices=limit,
        anonymous=form.anonymous,
        live_results=form.live_results,
        members_add_options=form.members_add_options,
        closes_at=form.closes_at,
    )
    return draft, {}


def create(
    session: Session,
    communities: list[Community],
    draft: PollDraft,
    user_id: str,
    source: str | None = None,
    key: bytes | None = None,
) -> list[Poll]:
    """One poll per community, sharing a group so their results add up. `source` names
    the form submitted (e.g. its view id): submitted again, it raises IntegrityError.
    `key` (the voter key) is checked on each vote of an anonymous poll."""
    group = (source or secrets.token_urlsafe(12))[:80]
    polls = []
    for community in communities:
        poll = Poll(
            community_id=community.id,
            group_key=group,
            question=draft.question,
            multiple=draft.multiple,
            max_choices=draft.max_choices,
            anonymous=draft.anonymous,
            live_results=draft.live_results,
            members_add_options=draft.members_add_options,
            closes_at=draft.closes_at,
            created_by=user_id,
            key_check=key_check(key) if draft.anonymous and key is not None else None,
        )
        session.add(poll)
        session.flush()
        for position, label in enumerate(draft.options):
            session.add(
                PollOption(
                    poll_id=poll.id, position=position, label=label, label_key=label_key(label)
                )
            )
        polls.append(poll)
    session.flush()
    return polls


def key_check(key: bytes) -> str:
    """A check value of the voter key (not the key, and nothing about anyone): a poll
    keeps the one its voters were keyed with, so a changed key is noticed."""
    return hmac.new(key, b"copbot voter key check", hashlib.sha256).hexdigest()[:16]


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


# ---- voting --------------------------------------------------------------------------------
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


def load(session: Session, poll_id: int) -> Poll:
    poll = session.get(Poll, poll_id)
    if poll is None:
        raise CopError("That poll no longer exists.")
    return poll


def option_of(session: Session, poll: Poll, option_id: int) -> PollOption:
    option = session.get(PollOption, option_id)
    if option is None or option.poll_id != poll.id:
        raise CopError("That option is not part of this poll.")
    return option


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
    _check_key(session, poll, key)
    voter = voter_of(poll, user_id, key)
    if not _lock_open(session, poll.id, now):
        return _closed(session, poll.id)
    if not _click(session, poll.id, click):
        return VoteResult("replay", poll)
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
    _check_key(session, poll, key)
    voter = voter_of(poll, user_id, key)
    if not _lock_open(session, poll.id, now):
        return _closed(session, poll.id)
    if not _click(session, poll.id, click):
        return VoteResult("replay", poll)
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


# ---- what the message shows ----------------------------------------------------------------
@dataclass
class Tally:
    poll: Poll
    community: Community
    options: list[PollOption]
    counts: dict[int, int]
    voters: int
    by_option: dict[int, list[str]] | None = None  # named polls: user ids per option


def tally(session: Session, poll_id: int, *, with_voters: bool = False) -> Tally:
    """The poll's counts: counted from its votes while it is open, the counts kept at
    its close once it is closed (an anonymous poll has no votes left then)."""
    poll = load(session, poll_id)
    options = list(
        session.exec(
            select(PollOption).where(PollOption.poll_id == poll_id).order_by(PollOption.position)
        ).all()
    )
    kept = poll.state == PollState.CLOSED.value and poll.voter_count is not None
    rows: list = []
    if not kept or (with_voters and not poll.anonymous):
        rows = list(
            session.exec(
                select(PollVote.option_id, PollVote.voter).where(PollVote.poll_id == poll_id)
            ).all()
        )
    if kept:
        counts = {o.id: o.votes or 0 for o in options}
        voters = poll.voter_count or 0
    else:
        counted = Counter(option_id for option_id, _ in rows)
        counts = {o.id: counted.get(o.id, 0) for o in options}
        voters = len({voter for _, voter in rows})
    by_option = None
    if with_voters and not poll.anonymous:
        by_option = {o.id: sorted(v for oid, v in rows if oid == o.id) for o in options}
    return Tally(
        poll=poll,
        community=session.get(Community, poll.community_id),
        options=options,
        counts=counts,
        voters=voters,
        by_option=by_option,
    )


def group_tallies(session: Session, poll: Poll) -> list[Tally]:
    """The tallies of every poll asked together with `poll` (itself included)."""
    ids = session.exec(
        select(Poll.id).where(Poll.group_key == poll.group_key).order_by(Poll.id)
    ).all()
    return [tally(session, i) for i in ids]


def open_polls(session: Session, community_ids: list[int], limit: int = 10) -> list[Poll]:
    if not community_ids:
        return []
    return list(
        session.exec(
            select(Poll)
            .where(Poll.community_id.in_(community_ids), Poll.state == PollState.OPEN.value)
            .order_by(Poll.created_at.desc())
            .limit(limit)
        ).all()
    )
