"""Community health for staff (and a leader's own line): per community, calls held
against planned this program year, the attendance of each of the year's calls, members
active in the last 90 days (attended a call, answered a value question or shared a
learning opportunity; other kinds of activity join through `ACTIVITY`), and two flags:
one leader or none, no call in 90 days (counted from the community's creation: a
community younger than that is not behind, whether or not its first call is ahead).

Built for every community at once in a handful of grouped queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from bot.services.calls import _midnight
from storage.models import (
    Attendance,
    Call,
    CallAttendance,
    CallStatus,
    Community,
    Membership,
    Poll,
    PollVote,
    Role,
    Share,
    ValueQuestion,
)

ACTIVE_DAYS = 90

# (session, since) -> {(community_id, slack_user_id)}: who did something since then
Activity = Callable[[Session, datetime], set[tuple[int, str]]]


def _attended(session: Session, since: datetime) -> set[tuple[int, str]]:
    rows = session.exec(
        select(Attendance.community_id, Attendance.slack_user_id)
        .where(Attendance.attended_at >= since)
        .distinct()
    ).all()
    return {(c, u) for c, u in rows}


def _answered(session: Session, since: datetime) -> set[tuple[int, str]]:
    rows = session.exec(
        select(ValueQuestion.community_id, ValueQuestion.slack_user_id)
        .where(ValueQuestion.answered_at >= since)
        .distinct()
    ).all()
    return {(c, u) for c, u in rows}


def _shared(session: Session, since: datetime) -> set[tuple[int, str]]:
    rows = session.exec(
        select(Share.community_id, Share.shared_by).where(Share.shared_at >= since).distinct()
    ).all()
    return {(c, u) for c, u in rows}


def _voted(session: Session, since: datetime) -> set[tuple[int, str]]:
    """Voters in named polls asked since then. A vote keeps no time, and an anonymous
    poll's voters are keyed hashes no one can turn back into people: those count not."""
    rows = session.exec(
        select(Poll.community_id, PollVote.voter)
        .join(PollVote, PollVote.poll_id == Poll.id)
        .where(Poll.created_at >= since, Poll.anonymous.is_(False))
        .distinct()
    ).all()
    return {(c, u) for c, u in rows}


ACTIVITY: list[Activity] = [_attended, _answered, _shared, _voted]


@dataclass
class HealthRow:
    community_id: int
    name: str
    leaders: int
    members: int
    calls_planned: int
    calls_held: int
    attendance: list[int] = field(default_factory=list)  # came, per held call, in order
    active_90_days: int = 0
    last_call: str | None = None  # date of the last call held (YYYY-MM-DD)
    one_leader_or_none: bool = False
    no_call_in_90_days: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


def build(
    session: Session,
    now: datetime,
    first: date,
    end: date,
    zone: str,
    community_ids: list[int] | None = None,
) -> list[HealthRow]:
    """One row per community (or those of `community_ids`), by name."""
    query = select(Community.id, Community.name, Community.created_at).order_by(Community.name_key)
    if community_ids is not None:
        query = query.where(Community.id.in_(community_ids))
    communities = session.exec(query).all()
    if not communities:
        return []
    ids = [c for c, _, _ in communities]
    created = {c: at if at.tzinfo else at.replace(tzinfo=now.tzinfo) for c, _, at in communities}
    rows = _people(session, communities)
    _count_year_calls(session, rows, now, _midnight(first, zone), _midnight(end, zone))
    horizon = now - timedelta(days=ACTIVE_DAYS)
    _count_active(session, rows, horizon)
    last = _last_calls(session, ids, now)
    for cid, row in rows.items():
        at = last.get(cid)
        row.last_call = at.date().isoformat() if at else None
        row.no_call_in_90_days = created[cid] < horizon and (at is None or at < horizon)
    return [rows[cid] for cid in ids]


def _people(session: Session, communities: list) -> dict[int, HealthRow]:
    """A row per community with its leaders and members counted."""
    ids = [c for c, _, _ in communities]
    roles: dict[tuple[int, str], int] = {}
    for cid, role, count in session.exec(
        select(Membership.community_id, Membership.role, func.count())
        .where(Membership.community_id.in_(ids))
        .group_by(Membership.community_id, Membership.role)
    ).all():
        roles[(cid, role)] = count
    rows: dict[int, HealthRow] = {}
    for cid, name, _ in communities:
        leaders = roles.get((cid, Role.LEADER.value), 0)
        rows[cid] = HealthRow(
            community_id=cid,
            name=name,
            leaders=leaders,
            members=leaders + roles.get((cid, Role.MEMBER.value), 0),
            calls_planned=0,
            calls_held=0,
            one_leader_or_none=leaders <= 1,
        )
    return rows


def _count_year_calls(
    session: Session, rows: dict[int, HealthRow], now: datetime, start: datetime, stop: datetime
) -> None:
    """The year's calls (planned, held by `now`) and the attendance of those held."""
    year_calls = session.exec(
        select(Call.community_id, Call.start_at, Call.duration_minutes, CallAttendance.came)
        .join(CallAttendance, CallAttendance.call_id == Call.id, isouter=True)
        .where(
            Call.community_id.in_(list(rows)),
            Call.status != CallStatus.CANCELLED.value,
            Call.start_at >= start,
            Call.start_at < stop,
        )
        .order_by(Call.start_at)
    ).all()
    for cid, start_at, minutes, came in year_calls:
        row = rows[cid]
        row.calls_planned += 1
        if start_at + timedelta(minutes=minutes) <= now:
            row.calls_held += 1
            if came is not None:
                row.attendance.append(came)


def _last_calls(session: Session, ids: list[int], now: datetime) -> dict[int, datetime]:
    """When each community's last call (not cancelled) started, up to `now`."""
    last: dict[int, datetime] = {}
    for cid, at in session.exec(
        select(Call.community_id, func.max(Call.start_at))
        .where(
            Call.community_id.in_(ids),
            Call.status != CallStatus.CANCELLED.value,
            Call.start_at <= now,
        )
        .group_by(Call.community_id)
    ).all():
        if at is not None:
            last[cid] = at if at.tzinfo else at.replace(tzinfo=now.tzinfo)
    return last


def _count_active(session: Session, rows: dict[int, HealthRow], horizon: datetime) -> None:
    """Members who did anything copbot sees (ACTIVITY) since `horizon`."""
    members = set(
        session.exec(
            select(Membership.community_id, Membership.slack_user_id).where(
                Membership.community_id.in_(list(rows))
            )
        ).all()
    )
    active: set[tuple[int, str]] = set()
    for source in ACTIVITY:
        active |= source(session, horizon)
    active &= {(c, u) for c, u in members}
    for cid, _ in active:
        rows[cid].active_90_days += 1


def flags(row: HealthRow) -> list[str]:
    """The row's warnings in words."""
    found = []
    if row.leaders == 0:
        found.append("no leader")
    elif row.leaders == 1:
        found.append("one leader")
    if row.no_call_in_90_days:
        found.append("no call in 90 days")
    return found
