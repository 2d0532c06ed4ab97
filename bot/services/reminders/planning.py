"""Planning: which reminders became due up to `now`, inserted once each.

Each pass inserts the reminder rows due in (the last planned instant, `now`] that do not
exist yet; the unique key over their typed fields makes racing passes agree. One
function per kind of due reads only what can have a reminder in that span (indexed range
queries): calls (week, day, hour before; follow-up after), milestones, the agenda and
report deadlines, and unfinished plans. Calls made or moved since the last pass
(`needs_planning`) are taken by one pass with a conditional UPDATE, and all their
reminders up to now (within LOOKBACK) are planned.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from bot.services import plans
from bot.services.reminders.kinds import (
    CALL_OFFSETS,
    DEADLINE_NUDGES,
    FOLLOWUP_AFTER,
    MILESTONE_USEFUL,
    NUDGE_USEFUL,
    OFFSET_NAMES,
    OVERDUE_AFTER,
    PLAN_NUDGES,
    Due,
    Kind,
    SeriesKey,
    deadline_instant,
)
from storage.models import (
    Call,
    CallStatus,
    Community,
    Membership,
    Milestone,
    NudgeSeries,
    Reminder,
    Role,
    SchedulerMark,
)

# how far back a pass plans what it may have missed while nothing ran
LOOKBACK = timedelta(days=8)
CHUNK = 500


@dataclass
class Planned:
    considered: int = 0  # reminders due in the span
    inserted: int = 0  # of those, new rows (the others were planned before)
    fresh_calls: int = 0  # calls made or moved since the last pass, taken by this pass


def _insert(session: Session):
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def plan_due(
    session: Session,
    now: datetime,
    zone: ZoneInfo,
    agenda_due: tuple[int, int],
    report_due: tuple[int, int],
) -> Planned:
    """Insert every reminder due up to `now` that is not there yet (see the module)."""
    mark = session.get(SchedulerMark, "planned")
    since = max(mark.at, now - LOOKBACK) if mark is not None else now - LOOKBACK
    since = min(since, now)  # a pass "in the past" (copbot tick --now): plan just its instant
    fresh = take_fresh_calls(session)
    dues = [
        *call_dues(session, since, now, fresh),
        *milestone_dues(session, since, now),
        *deadline_dues(session, since, now, zone, agenda_due, report_due),
        *plan_nudge_dues(session, since, now),
    ]
    inserted = insert_missing(session, dues)
    _advance_mark(session, now)
    return Planned(len(dues), inserted, len(fresh))


def take_fresh_calls(session: Session) -> set[int]:
    """Calls made or moved since a pass last planned them; each is taken by one pass (a
    conditional UPDATE: a racing pass gets none of the same), and given back by a
    rollback if this pass fails."""
    taken = session.execute(
        update(Call)
        .where(Call.needs_planning == true())
        .values(needs_planning=False)
        .returning(Call.id)
        .execution_options(synchronize_session=False)
    )
    return set(taken.scalars().all())


# ---- calls --------------------------------------------------------------------------------
def call_reminders(call: Call, dm_users: Iterable[str], chosen: str = "week,day,hour") -> list[Due]:
    """Every reminder of one call: to the channel at the times its community chose (week,
    day, hour before), to each member who chose direct messages at every one of those
    times whatever the channel gets (their own choice wins), and the follow-up to the host.
    """
    wanted = set(filter(None, chosen.split(",")))
    dm_users = list(dm_users)
    out = []
    local = call.start_at.astimezone(ZoneInfo(call.timezone))
    about = {"call_id": call.id, "call_sequence": call.sequence}
    for kind, before, until in CALL_OFFSETS:
        # days count on the wall clock of the call's zone ("a week before, same time"),
        # also across a daylight-saving change; hours count as elapsed time
        due = (local - before).astimezone(UTC) if before.days else call.start_at - before
        if due < call.created_at - timedelta(minutes=1):
            continue  # scheduled later than this reminder would have gone
        expires = (local - until).astimezone(UTC) if until.days else call.start_at - until
        if OFFSET_NAMES[kind] in wanted:
            out.append(Due(kind, due, expires, call.community_id, **about))
        for user in dm_users:
            out.append(Due(kind, due, expires, call.community_id, recipient=user, **about))
    end = call.start_at + timedelta(minutes=call.duration_minutes)
    out.append(
        Due(
            Kind.CALL_FOLLOWUP,
            end + FOLLOWUP_AFTER,
            end + timedelta(days=7),
            call.community_id,
            recipient=call.host_user_id,
            **about,
        )
    )
    return out


def call_dues(session: Session, since: datetime, now: datetime, fresh: set[int]) -> list[Due]:
    """Call reminders due in (since, now]: only calls whose start is in one of four narrow
    ranges are read (week, day, hour before; follow-up after), plus the fresh calls."""
    slack_dst = timedelta(hours=1)  # wall-clock days may be an hour longer or shorter
    ranges = [
        (since + before - slack_dst, now + before + slack_dst)
        for _kind, before, _until in CALL_OFFSETS
    ]
    ranges.append((since - timedelta(days=1) - FOLLOWUP_AFTER, now - FOLLOWUP_AFTER))
    calls: dict[int, Call] = {}
    for low, high in ranges:  # one indexed range read each
        for call in session.execute(
            select(Call).where(
                Call.status == CallStatus.SCHEDULED.value,
                Call.start_at >= low,
                Call.start_at <= high,
            )
        ).scalars():
            calls[call.id] = call
    if fresh:
        for call in session.execute(select(Call).where(Call.id.in_(fresh))).scalars():
            if call.status == CallStatus.SCHEDULED.value:
                calls[call.id] = call
    community_ids = {c.community_id for c in calls.values()}
    dm = _members(session, community_ids, Membership.reminders == "dm")
    chosen = _chosen(session, community_ids)
    out = []
    for call in calls.values():
        # a fresh call: all its reminders up to now, however far back (within LOOKBACK),
        # so a moved call's late-but-useful reminders still go
        lower = now - LOOKBACK if call.id in fresh else since
        out += [
            d
            for d in call_reminders(
                call, dm.get(call.community_id, ()), chosen.get(call.community_id, "")
            )
            if lower <= d.due_at <= now
        ]
    return out


# ---- milestones, deadlines, plans -----------------------------------------------------------
def milestone_dues(session: Session, since: datetime, now: datetime) -> list[Due]:
    """A milestone due in (since, now]: a nudge to each leader of its community."""
    milestones = (
        session.execute(
            select(Milestone).where(
                Milestone.due_at >= since, Milestone.due_at <= now, Milestone.done_at.is_(None)
            )
        )
        .scalars()
        .all()
    )
    leaders = _members(session, {m.community_id for m in milestones}, _is_leader())
    return [
        Due(
            Kind.MILESTONE,
            m.due_at,
            m.due_at + MILESTONE_USEFUL,
            m.community_id,
            milestone_id=m.id,
            recipient=user,
            series=SeriesKey(Kind.MILESTONE, m.community_id, milestone_id=m.id),
        )
        for m in milestones
        for user in leaders.get(m.community_id, ())
    ]


def deadline_dues(
    session: Session,
    since: datetime,
    now: datetime,
    zone: ZoneInfo,
    agenda_due: tuple[int, int],
    report_due: tuple[int, int],
) -> list[Due]:
    """The onsite agenda and the progress report (the same dates for every community):
    nudges 28, 14 and 3 days before the deadline and one day after, to each leader."""
    instants = []  # (kind, year, at, useful until)
    for kind in (Kind.AGENDA, Kind.REPORT):
        around = now.astimezone(zone).year
        for year in (around - 1, around, around + 1):
            deadline = deadline_instant(kind, year, zone, agenda_due, report_due)
            steps = [deadline - d for d in DEADLINE_NUDGES] + [deadline + OVERDUE_AFTER]
            for i, at in enumerate(steps):
                if since <= at <= now:
                    following = steps[i + 1] if i + 1 < len(steps) else at + NUDGE_USEFUL
                    instants.append((kind, year, at, following))
    if not instants:
        return []
    communities = session.execute(select(Community.id)).scalars().all()
    leaders = _members(session, set(communities), _is_leader())
    return [
        Due(
            kind,
            at,
            until,
            cid,
            recipient=user,
            series=SeriesKey(kind, cid, year=year),
        )
        for kind, year, at, until in instants
        for cid in communities
        for user in leaders.get(cid, ())
    ]


def plan_nudge_dues(session: Session, since: datetime, now: datetime) -> list[Due]:
    """Unfinished plans: weekly for four weeks after the community is made; only the
    communities with such an anniversary in (since, now] are read."""
    recent: dict[int, Community] = {}
    for k in range(1, PLAN_NUDGES + 1):
        for c in session.execute(
            select(Community).where(
                Community.created_at >= since - timedelta(weeks=k),
                Community.created_at <= now - timedelta(weeks=k),
            )
        ).scalars():
            recent[c.id] = c
    if not recent:
        return []
    leaders = _members(session, set(recent), _is_leader())
    out = []
    for c in recent.values():
        if plans.load(session, c).is_complete:
            continue
        for k in range(1, PLAN_NUDGES + 1):
            at = c.created_at + timedelta(weeks=k)
            if since <= at <= now:
                out += [
                    Due(
                        Kind.PLAN,
                        at,
                        at + NUDGE_USEFUL,
                        c.id,
                        recipient=user,
                        series=SeriesKey(Kind.PLAN, c.id),
                    )
                    for user in leaders.get(c.id, ())
                ]
    return out


# ---- reading and writing ------------------------------------------------------------------
def _is_leader():
    return Membership.role == Role.LEADER.value


def _members(session: Session, community_ids: set[int], which) -> dict[int, list[str]]:
    if not community_ids:
        return {}
    rows = session.execute(
        select(Membership.community_id, Membership.slack_user_id)
        .where(Membership.community_id.in_(community_ids), which)
        .order_by(Membership.id)
    ).all()
    out: dict[int, list[str]] = {}
    for cid, user in rows:
        out.setdefault(cid, []).append(user)
    return out


def _chosen(session: Session, community_ids: set[int]) -> dict[int, str]:
    if not community_ids:
        return {}
    return dict(
        session.execute(
            select(Community.id, Community.call_reminders).where(Community.id.in_(community_ids))
        ).all()
    )


def series_ids(session: Session, keys: Iterable[SeriesKey]) -> dict[SeriesKey, int]:
    """The id of each series, made once (a unique key decides between racing passes)."""
    keys = set(keys)
    if not keys:
        return {}
    rows = [
        {
            "kind": k.kind,
            "community_id": k.community_id,
            "milestone_id": k.milestone_id,
            "year": k.year,
        }
        for k in keys
    ]
    insert = _insert(session)
    for start in range(0, len(rows), CHUNK):
        session.execute(
            insert(NudgeSeries).values(rows[start : start + CHUNK]).on_conflict_do_nothing()
        )
    found: dict[SeriesKey, int] = {}
    community_ids = sorted({k.community_id for k in keys})
    for start in range(0, len(community_ids), CHUNK):
        for row in session.execute(
            select(NudgeSeries).where(
                NudgeSeries.community_id.in_(community_ids[start : start + CHUNK]),
                NudgeSeries.kind.in_({k.kind for k in keys}),
            )
        ).scalars():
            key = SeriesKey(row.kind, row.community_id, row.milestone_id, row.year)
            if key in keys:
                found[key] = row.id
    return found


def insert_missing(session: Session, dues: list[Due], series_id: int | None = None) -> int:
    """Insert the reminders that are not there yet (all of series `series_id` if given);
    returns how many were new."""
    if not dues:
        return 0
    ids = series_ids(session, (d.series for d in dues if d.series is not None))
    rows = [d.row(series_id or (ids.get(d.series) if d.series else None)) for d in dues]
    insert = _insert(session)
    inserted = 0
    for start in range(0, len(rows), CHUNK):
        result = session.execute(
            insert(Reminder)
            .values(rows[start : start + CHUNK])
            .on_conflict_do_nothing()
            .returning(Reminder.id)
        )
        inserted += len(result.scalars().all())
    return inserted


def _advance_mark(session: Session, now: datetime) -> None:
    """Move the planned-up-to mark forward to `now` (never back; racing passes agree)."""
    insert = _insert(session)
    session.execute(
        insert(SchedulerMark)
        .values(name="planned", at=now)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    session.execute(
        update(SchedulerMark)
        .where(SchedulerMark.name == "planned", SchedulerMark.at < now)
        .values(at=now)
        .execution_options(synchronize_session=False)
    )
