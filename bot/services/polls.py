"""Polls: checking a question and its options, creating the polls, the tallies.
(Voting: `bot.services.poll_voting`; keeping the message current and closing:
`bot.services.poll_closing`.)

Option labels are normalised as names are (`bot.services.names`), so lookalikes are one
option. An anonymous poll keeps a check value of the voter key it opened with
(`key_check`), so votes keyed with another secret are noticed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from bot.services import CopError
from bot.services.names import clean_name, name_key
from storage.models import Community, Poll, PollOption, PollState, PollVote

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
