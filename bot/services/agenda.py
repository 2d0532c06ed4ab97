"""The onsite agenda: a community's sessions inside its two-hour block at the Annual
Meeting, kept as a draft or submitted.

Sessions must start inside the block, end by its end and not overlap. Leaders may change
the agenda until the due date (`COPBOT_AGENDA_DUE`, to the end of that day in
`COPBOT_TIMEZONE`); staff after it too. Submitting is one conditional UPDATE, so only the
first submission counts (and tells staff); the scheduler's agenda nudges ask
`submitted()` and stop at once.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.services import CopError
from storage.models import OnsiteAgenda, OnsiteBlock, OnsiteMeeting

MAX_SESSIONS = 8
MAX_TITLE = 150
MAX_SPEAKERS = 300
MAX_DESCRIPTION = 1000
DRAFT, SUBMITTED = "draft", "submitted"


class AgendaError(CopError):
    """A refusal that belongs on one field of the agenda modal."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Session_:
    """One session of the agenda; `start` is venue time, HH:MM."""

    start: str
    minutes: int
    title: str
    speakers: str = ""
    description: str = ""

    def window(self) -> tuple[int, int]:
        t = time.fromisoformat(self.start)
        begin = t.hour * 60 + t.minute
        return begin, begin + self.minutes


@dataclass(frozen=True)
class RawSession:
    """What a person typed for session `number` (1-based); any part may be empty."""

    number: int
    start: str | None
    minutes: str | None
    title: str | None
    speakers: str | None = None
    description: str | None = None

    @property
    def empty(self) -> bool:
        return not any((self.start, self.minutes, self.title, self.speakers, self.description))


def field(kind: str, number: int) -> str:
    """The modal's block id of one input of session `number`."""
    return f"s{number}_{kind}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _session(r: RawSession, begin: int, end: int) -> Session_:
    """One filled-in session, checked on its own: a title, a start and a length that
    fit inside the block (`begin`-`end`, minutes of the day), fields within their limits."""
    n = r.number
    if not r.title or not r.title.strip():
        raise AgendaError(field("title", n), f"Give session {n} a title.")
    if len(r.title.strip()) > MAX_TITLE:
        raise AgendaError(field("title", n), f"Keep the title to {MAX_TITLE} characters.")
    t, minutes = _start_and_length(r)
    s_begin = t.hour * 60 + t.minute
    if s_begin < begin or s_begin >= end:
        raise AgendaError(
            field("start", n),
            f"Session {n} starts at {t:%H:%M}, outside the block ({_hhmm(begin)}-{_hhmm(end)}).",
        )
    if s_begin + minutes > end:
        raise AgendaError(
            field("minutes", n),
            f"Session {n} ({t:%H:%M}-{_hhmm(s_begin + minutes)}) ends after the block "
            f"ends at {_hhmm(end)}.",
        )
    for label, value, limit in (
        ("speakers", r.speakers, MAX_SPEAKERS),
        ("description", r.description, MAX_DESCRIPTION),
    ):
        if value and len(value) > limit:
            raise AgendaError(field(label, n), f"Keep this to {limit} characters.")
    return Session_(
        start=f"{t:%H:%M}",
        minutes=minutes,
        title=r.title.strip(),
        speakers=(r.speakers or "").strip(),
        description=(r.description or "").strip(),
    )


def _start_and_length(r: RawSession) -> tuple[time, int]:
    """The session's start time and its length in minutes (at least 5), as typed."""
    n = r.number
    if not r.start:
        raise AgendaError(field("start", n), f"Choose when session {n} starts.")
    try:
        t = time.fromisoformat(r.start)
    except ValueError:
        raise AgendaError(field("start", n), "Choose a time from the picker.") from None
    try:
        minutes = int((r.minutes or "").strip())
    except ValueError:
        raise AgendaError(
            field("minutes", n), f"Session {n}'s length is minutes, a whole number."
        ) from None
    if minutes < 5:
        raise AgendaError(field("minutes", n), "A session lasts at least 5 minutes.")
    return t, minutes


def _no_overlaps(ordered: list[tuple[int, Session_]]) -> None:
    """AgendaError on the first session (in time order) that starts before the one
    before it ends."""
    for (n1, a), (n2, b) in zip(ordered, ordered[1:], strict=False):
        if b.window()[0] < a.window()[1]:
            raise AgendaError(
                field("start", n2),
                f"Session {n2} ({b.start}-{_hhmm(b.window()[1])}) overlaps session {n1} "
                f"({a.start}-{_hhmm(a.window()[1])}).",
            )


def validate(raw: list[RawSession], block_start: time, *, submit: bool) -> list[Session_]:
    """The sessions in time order, or AgendaError on the first field that breaks a rule:
    each needs a start, a length and a title, must fit inside the two-hour block, and
    none may overlap another."""
    begin = block_start.hour * 60 + block_start.minute
    end = begin + 120
    sessions = [(r.number, _session(r, begin, end)) for r in raw if not r.empty]
    ordered = sorted(sessions, key=lambda pair: pair[1].window())
    _no_overlaps(ordered)
    if submit and not ordered:
        raise AgendaError(field("title", 1), "Add at least one session before submitting.")
    return [s for _n, s in ordered]


def due_at(year: int, due: tuple[int, int], zone: ZoneInfo) -> datetime:
    """The end of the due day: leaders may edit until then."""
    month, day = due
    return datetime.combine(date(year, month, day) + timedelta(days=1), time(0), tzinfo=zone)


def may_edit(is_staff: bool, now: datetime, deadline: datetime) -> bool:
    return is_staff or now < deadline


def load(session: Session, community_id: int, year: int) -> OnsiteAgenda | None:
    return session.exec(
        select(OnsiteAgenda).where(
            OnsiteAgenda.community_id == community_id, OnsiteAgenda.year == year
        )
    ).first()


def sessions_of(agenda: OnsiteAgenda | None) -> list[Session_]:
    if agenda is None:
        return []
    return [Session_(**item) for item in json.loads(agenda.items or "[]")]


@dataclass(frozen=True)
class Saved:
    agenda: OnsiteAgenda
    newly_submitted: bool  # this save is the one that submitted it: tell staff
    changed: bool


def save(
    session: Session,
    community_id: int,
    year: int,
    sessions: list[Session_],
    user_id: str,
    *,
    submit: bool,
    now: datetime,
) -> Saved:
    """Store the sessions at `now`; with `submit`, submit the agenda (once: a submitted
    agenda stays submitted, later saves update it)."""
    items = json.dumps([asdict(s) for s in sessions], ensure_ascii=False)
    agenda = load(session, community_id, year)
    if agenda is None:
        agenda = OnsiteAgenda(
            community_id=community_id, year=year, items=items, updated_by=user_id, updated_at=now
        )
        try:
            with session.begin_nested():
                session.add(agenda)
                session.flush()
            changed = True
        except IntegrityError:  # another leader saved first: update theirs
            agenda = load(session, community_id, year)
            changed = agenda.items != items
    else:
        changed = agenda.items != items
    if changed:
        agenda.items, agenda.updated_by, agenda.updated_at = items, user_id, now
        session.add(agenda)
        session.flush()
    newly = False
    if submit:
        won = session.execute(
            update(OnsiteAgenda)
            .where(OnsiteAgenda.id == agenda.id, OnsiteAgenda.state == DRAFT)
            .values(state=SUBMITTED, submitted_at=now, submitted_by=user_id)
            .returning(OnsiteAgenda.id)
            .execution_options(synchronize_session=False)
        ).first()
        newly = won is not None
        session.refresh(agenda)
    return Saved(agenda, newly, changed or newly)


def submitted(session: Session, community_id: int, year: int) -> bool:
    """Has the community submitted its onsite agenda for `year`? (The agenda nudges ask.)"""
    return (
        session.exec(
            select(OnsiteAgenda.id).where(
                OnsiteAgenda.community_id == community_id,
                OnsiteAgenda.year == year,
                OnsiteAgenda.state == SUBMITTED,
            )
        ).first()
        is not None
    )


def block_start(block: OnsiteBlock, meeting: OnsiteMeeting) -> time:
    return block.start_at.astimezone(ZoneInfo(meeting.timezone)).time()


def status(session: Session, year: int) -> dict[int, OnsiteAgenda]:
    """Every community's agenda for `year`, by community id."""
    rows = session.exec(select(OnsiteAgenda).where(OnsiteAgenda.year == year)).all()
    return {a.community_id: a for a in rows}
