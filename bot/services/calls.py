"""Community calls: the program year's count and the calls' lifecycle (the form's rules
are in `bot.services.call_form`, and re-exported here for the callers).

Community calls count
toward the program year (3 to 6 a year, its boundaries at midnight in the organisation's
zone); a seventh is refused with the offer to make it an additional call. Times are
stored in UTC with the zone they were set in.

The database decides every race: scheduling holds the community's row (`lock_community`)
while it counts and inserts, so two leaders never make a seventh call; cancelling is one
conditional UPDATE, so ten clicks have one winner; the meeting of a call is claimed by one
worker at a time and stored only while the call is still scheduled.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, or_, update
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
    CallRegistration,
    CallStatus,
    Community,
    MeetingState,
    Milestone,
    utcnow,
)

MIN_CALLS_A_YEAR = 3
MAX_CALLS_A_YEAR = 6
# a claim on a call's meeting is taken over only after this, or after the longest a
# create can take (retries included) and a minute more, whichever is longer
MIN_CLAIM_TIMEOUT = timedelta(minutes=2)


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


def claim_timeout(longest_create_seconds: float) -> timedelta:
    """How long a claim holds: longer than the longest create, retries included."""
    return max(MIN_CLAIM_TIMEOUT, timedelta(seconds=longest_create_seconds + 60))


def claim_meeting(
    session: Session,
    call_id: int,
    now: datetime | None = None,
    *,
    timeout: timedelta = MIN_CLAIM_TIMEOUT,
) -> bool:
    """Claim the making of a call's meeting: True for exactly one caller at a time.

    A claim older than `timeout` (a worker that died) may be taken over; pass
    `claim_timeout(...)` of the conferencing in use, so that a live create is never
    taken over.
    """
    now = now or utcnow()
    result = session.execute(
        update(Call)
        .where(
            Call.id == call_id,
            Call.status == CallStatus.SCHEDULED.value,
            or_(Call.meeting_not_before.is_(None), Call.meeting_not_before <= now),
            or_(
                Call.meeting_state == MeetingState.PENDING.value,
                (Call.meeting_state == MeetingState.CREATING.value)
                & (Call.meeting_claimed_at < now - timeout),
            ),
        )
        .values(meeting_state=MeetingState.CREATING.value, meeting_claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def meeting_made(
    session: Session,
    call_id: int,
    meeting_id: int,
    join_url: str,
    passcode: str,
    registration: bool = False,
) -> bool:
    """Store the meeting made for a claimed call; False (nothing stored) when the call was
    cancelled meanwhile or the claim was lost, and the meeting must then be deleted.
    The cancel's conditional UPDATE and this one exclude each other: a meeting is either
    stored before the cancel (which then deletes it) or refused here."""
    stored = session.execute(
        update(Call)
        .where(
            Call.id == call_id,
            Call.status == CallStatus.SCHEDULED.value,
            Call.meeting_state == MeetingState.CREATING.value,
        )
        .values(
            meeting_id=meeting_id,
            join_url=join_url,
            passcode=passcode,
            meeting_state=MeetingState.READY.value,
            meeting_error=None,
            meeting_not_before=None,
            registration="on" if registration else "off",
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    return stored == 1


def meeting_failed(session: Session, call_id: int, error: str) -> None:
    """Give the claim back with the reason, so that Retry can try again."""
    session.execute(
        update(Call)
        .where(Call.id == call_id, Call.meeting_state == MeetingState.CREATING.value)
        .values(meeting_state=MeetingState.PENDING.value, meeting_error=error[:2000])
        .execution_options(synchronize_session=False)
    )


def meeting_deferred(session: Session, call_id: int, until: datetime, error: str) -> None:
    """Give the claim back until `until` (the host's daily limit resets at 00:00 UTC):
    no worker makes the meeting before then, the scheduler does after."""
    session.execute(
        update(Call)
        .where(Call.id == call_id, Call.meeting_state == MeetingState.CREATING.value)
        .values(
            meeting_state=MeetingState.PENDING.value,
            meeting_not_before=until,
            meeting_error=error[:2000],
        )
        .execution_options(synchronize_session=False)
    )


def meeting_dropped(session: Session, call_id: int, meeting_id: int) -> bool:
    """The call's meeting is to be made again (its host changed, or could not move it
    today): forget it and the registrations for it, so that the next `claim_meeting`
    makes a new one and everyone is registered for that. False when the call no longer
    holds that meeting."""
    dropped = (
        session.execute(
            update(Call)
            .where(
                Call.id == call_id,
                Call.meeting_id == meeting_id,
                Call.meeting_state == MeetingState.READY.value,
            )
            .values(
                meeting_state=MeetingState.PENDING.value,
                meeting_id=None,
                join_url=None,
                passcode=None,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )
    if dropped:
        session.execute(
            delete(CallRegistration)
            .where(CallRegistration.call_id == call_id)
            .execution_options(synchronize_session=False)
        )
    return dropped


def deferred_meetings(session: Session, now: datetime, limit: int = 200) -> list[int]:
    """Calls whose meeting waited for a host's daily limit to reset and may be made now."""
    return list(
        session.exec(
            select(Call.id)
            .where(
                Call.status == CallStatus.SCHEDULED.value,
                Call.meeting_state == MeetingState.PENDING.value,
                Call.meeting_not_before.is_not(None),
                Call.meeting_not_before <= now,
                Call.start_at > now,
            )
            .order_by(Call.start_at)
            .limit(limit)
        ).all()
    )


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
