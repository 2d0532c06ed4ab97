"""Community calls: the program year's count and the calls' lifecycle (the form's rules
are in `bot.services.call_form`, and re-exported here for the callers).

Community calls count
toward the program year (3 to 6 a year, its boundaries at midnight in the organisation's
zone); a seventh is refused with the offer to make it an additional call. Times are
stored in UTC with the zone they were set in.

The database decides every race: scheduling holds the community's row (`lock_community`)
while it counts and inserts, so two leaders never make a seventh call; cancelling is one
conditional UPDATE, so ten clicks have one winner. The making of a call's Zoom meeting:
`bot.services.call_meetings`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, update
from sqlmodel import Session, select

from bot.services import hosts, reminders
from bot.services.call_form import (  # noqa: F401 - the form's rules, re-exported
    AGENDA,
    ALTERNATE,
    DATE,
    DURATION,
    HOST,
    KIND,
    MAX_AGENDA,
    MAX_DURATION_MINUTES,
    MAX_TOPIC,
    TIME,
    TOPIC,
    ZONE,
    CallDraft,
    CallForm,
    default_day,
    holiday_name,
    is_working_day,
    local_start,
    next_working_day,
    parse_id,
    validate,
)
from bot.services.years import program_year, year_label  # noqa: F401 - re-exported
from bot.text import plural
from bot.zones import is_zone, zone_error, zone_names  # noqa: F401 - re-exported
from storage.models import (
    Call,
    CallKind,
    CallStatus,
    Community,
    MeetingState,
    Milestone,
    utcnow,
)

MIN_CALLS_A_YEAR = 3
MAX_CALLS_A_YEAR = 6


def _midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def community_calls_in_year(
    session: Session,
    community_id: int,
    first: date,
    end: date,
    *,
    excluding: int | None = None,
    zone: str = "UTC",
) -> int:
    """Community calls (not cancelled) from midnight of `first` to midnight of `end` in
    `zone` (the organisation's zone)."""
    start, stop = _midnight(first, zone), _midnight(end, zone)
    query = select(func.count()).where(
        Call.community_id == community_id,
        Call.kind == CallKind.COMMUNITY.value,
        Call.status != CallStatus.CANCELLED.value,
        Call.start_at >= start,
        Call.start_at < stop,
    )
    if excluding is not None:
        query = query.where(Call.id != excluding)
    return int(session.exec(query).one())


def community_call_counts(
    session: Session, community_ids: list[int], first: date, end: date, *, zone: str = "UTC"
) -> dict[int, int]:
    """Community calls (not cancelled) of each community in the program year, its
    boundaries at midnight in `zone`."""
    if not community_ids:
        return {}
    start, stop = _midnight(first, zone), _midnight(end, zone)
    rows = session.exec(
        select(Call.community_id, func.count())
        .where(
            Call.community_id.in_(community_ids),
            Call.kind == CallKind.COMMUNITY.value,
            Call.status != CallStatus.CANCELLED.value,
            Call.start_at >= start,
            Call.start_at < stop,
        )
        .group_by(Call.community_id)
    ).all()
    counts = dict.fromkeys(community_ids, 0)
    counts.update({cid: int(n) for cid, n in rows})
    return counts


def year_limit_error(
    session: Session,
    community: Community,
    draft: CallDraft,
    year_start: tuple[int, int],
    *,
    excluding: int | None = None,
    zone: str = "UTC",
) -> str | None:
    """The refusal of a seventh community call in a program year, if this is one. The
    program year runs from midnight to midnight in `zone`, the organisation's zone.
    Call it after `lock_community`, so that the count stays true until the insert."""
    if draft.kind != CallKind.COMMUNITY:
        return None
    local_day = draft.start_at.astimezone(ZoneInfo(zone)).date()
    first, end = program_year(local_day, year_start)
    count = community_calls_in_year(
        session, community.id, first, end, excluding=excluding, zone=zone
    )
    if count >= MAX_CALLS_A_YEAR:
        return (
            f"{year_label(first)} already has {count} community calls, the most a program "
            f"year has. Choose “Additional call” to schedule this one beyond them."
        )
    return None


def calls_planned_note(
    session: Session,
    community: Community,
    today: date,
    year_start: tuple[int, int],
    *,
    zone: str = "UTC",
) -> str | None:
    """A warning when fewer than three community calls are planned this program year."""
    first, end = program_year(today, year_start)
    count = community_calls_in_year(session, community.id, first, end, zone=zone)
    if count < MIN_CALLS_A_YEAR:
        label = year_label(first)
        if count == 0:
            return (
                f"No community call of {label} is scheduled yet; a program year has 3 to 6. "
                "`/cop schedule` adds one."
            )
        verb = "is" if count == 1 else "are"
        return (
            f"Only {plural(count, 'community call')} of {label} {verb} scheduled; a program "
            f"year has 3 to 6. `/cop schedule` adds one."
        )
    return None


def lock_community(session: Session, community_id: int) -> None:
    """Hold the community's row until this unit of work ends, so that whatever is counted
    and inserted for it (calls of the year, a year plan) is decided by one writer at a
    time: SELECT … FOR UPDATE on PostgreSQL; on SQLite, whose writers queue for one lock,
    a write that takes that lock at once. Call it first in the unit of work."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Community.id).where(Community.id == community_id).with_for_update())
    else:
        session.execute(
            update(Community)
            .where(Community.id == community_id)
            .values(id=Community.id)
            .execution_options(synchronize_session=False)
        )


def create(
    session: Session,
    community: Community,
    draft: CallDraft,
    created_by: str,
    *,
    with_meeting: bool,
) -> Call:
    call = Call(
        community_id=community.id,
        start_at=draft.start_at,
        duration_minutes=draft.duration_minutes,
        timezone=draft.timezone,
        topic=draft.topic,
        agenda=draft.agenda,
        host_user_id=draft.host_user_id,
        alternate_user_id=draft.alternate_user_id,
        kind=draft.kind.value,
        meeting_state=(MeetingState.PENDING if with_meeting else MeetingState.NONE).value,
        created_by=created_by,
    )
    session.add(call)
    session.flush()
    return call


def reschedule(session: Session, call: Call, draft: CallDraft) -> None:
    """Move and edit a call; the steps of the year tied to it move with it."""
    shift = draft.start_at - call.start_at
    if shift:
        for milestone in session.exec(
            select(Milestone).where(Milestone.call_id == call.id, Milestone.done_at.is_(None))
        ).all():
            milestone.due_at = milestone.due_at + shift
            session.add(milestone)
    call.start_at = draft.start_at
    call.duration_minutes = draft.duration_minutes
    call.timezone = draft.timezone
    call.topic = draft.topic
    call.agenda = draft.agenda
    call.host_user_id = draft.host_user_id
    call.alternate_user_id = draft.alternate_user_id
    call.kind = draft.kind.value
    call.sequence += 1
    call.needs_planning = True
    call.updated_at = utcnow()
    session.add(call)
    session.flush()
    reminders.void_for_call(session, call.id)


def cancel(session: Session, call: Call) -> bool:
    """Cancel a scheduled call; False if it was not scheduled any more. One conditional
    UPDATE decides: of any number of concurrent cancels exactly one returns True, and
    `call` is then fresh (its `meeting_id` is the meeting to delete, if any). The steps
    of the year tied to the call go with it."""
    won = session.execute(
        update(Call)
        .where(Call.id == call.id, Call.status == CallStatus.SCHEDULED.value)
        .values(status=CallStatus.CANCELLED.value, sequence=Call.sequence + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(call)
    if won != 1:
        return False
    session.execute(
        delete(Milestone)
        .where(Milestone.call_id == call.id, Milestone.done_at.is_(None))
        .execution_options(synchronize_session=False)
    )
    reminders.void_for_call(session, call.id)
    hosts.release(session, call.id)  # its Zoom host is free at that time again
    return True


def upcoming(session: Session, community_id: int, now: datetime, limit: int = 20) -> list[Call]:
    """Scheduled calls that have not ended yet, soonest first."""
    calls = session.exec(
        select(Call)
        .where(
            Call.community_id == community_id,
            Call.status == CallStatus.SCHEDULED.value,
            Call.start_at >= now - timedelta(hours=24),
        )
        .order_by(Call.start_at)
    ).all()
    live = [c for c in calls if c.start_at + timedelta(minutes=c.duration_minutes) > now]
    return live[:limit]


def marker(call: Call) -> str:
    return f"copbot:{call.uid}"
