"""Community calls: the scheduling rules and the calls' lifecycle.

Rules: a call starts in the future, at a time that exists in its zone, lasts 1 minute to
24 hours, and not on a public holiday of the configured country. Community calls count
toward the program year (3 to 6 a year); a seventh is refused with the offer to make it an
additional call. Times are stored in UTC with the zone they were set in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, or_, update
from sqlmodel import Session, select

from bot.services import reminders
from storage.models import Call, CallKind, CallStatus, Community, MeetingState, utcnow

MIN_CALLS_A_YEAR = 3
MAX_CALLS_A_YEAR = 6
MAX_DURATION_MINUTES = 24 * 60
MAX_TOPIC = 200
MAX_AGENDA = 2000
CLAIM_TIMEOUT = timedelta(minutes=2)

# fields of the scheduling form, as the modal's block ids
DATE, TIME, ZONE, DURATION, TOPIC, AGENDA, HOST, ALTERNATE, KIND = (
    "date",
    "time",
    "zone",
    "duration",
    "topic",
    "agenda",
    "host",
    "alternate",
    "kind",
)


@dataclass(frozen=True)
class CallForm:
    """What a leader typed, as text: nothing is trusted yet."""

    date: str
    time: str
    zone: str
    duration: str
    topic: str
    agenda: str
    host: str
    alternate: str
    kind: str


@dataclass(frozen=True)
class CallDraft:
    start_at: datetime  # UTC
    duration_minutes: int
    timezone: str
    topic: str
    agenda: str
    host_user_id: str
    alternate_user_id: str | None
    kind: CallKind


def holiday_name(day: date, country: str | None) -> str | None:
    """The public holiday on `day` in `country`, if any."""
    if not country:
        return None
    import holidays

    return holidays.country_holidays(country, years=day.year).get(day)


def program_year(day: date, start: tuple[int, int]) -> tuple[date, date]:
    """The program year containing `day`: [first day, first day of the next year)."""
    month, dom = start
    first = date(day.year, month, dom)
    if day < first:
        first = date(day.year - 1, month, dom)
    return first, date(first.year + 1, month, dom)


def year_label(first: date) -> str:
    return f"{first.year}–{str(first.year + 1)[-2:]}" if first.month != 1 else str(first.year)


def local_start(day: date, at: time, zone: str) -> datetime | None:
    """The UTC instant of wall-clock `at` on `day` in `zone`, or None when that time does
    not exist there (the hour skipped when clocks go forward)."""
    tz = ZoneInfo(zone)
    local = datetime.combine(day, at, tzinfo=tz)
    utc = local.astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return utc


def validate(
    form: CallForm,
    *,
    now: datetime,
    holidays_country: str | None,
) -> tuple[CallDraft | None, dict[str, str]]:
    """The call the form describes, or errors keyed by field."""
    errors: dict[str, str] = {}
    day = None
    try:
        day = date.fromisoformat(form.date.strip())
    except ValueError:
        errors[DATE] = "Pick a date."
    at = None
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", form.time.strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        errors[TIME] = f"{form.time.strip() or 'That'} is not a time of day: use 00:00 to 23:59."
    else:
        at = time(int(match.group(1)), int(match.group(2)))
    zone = form.zone.strip()
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        errors[ZONE] = f"{zone or 'That'} is not a time zone: use a name like America/Chicago."
        zone = ""
    duration = 0
    try:
        duration = int(form.duration.strip())
        if not 1 <= duration <= MAX_DURATION_MINUTES:
            raise ValueError
    except ValueError:
        errors[DURATION] = "Give the length in minutes, from 1 to 1440 (24 hours)."
    topic = " ".join(form.topic.split())
    if not topic:
        errors[TOPIC] = "Give the call a topic."
    elif len(topic) > MAX_TOPIC:
        errors[TOPIC] = f"Keep the topic to {MAX_TOPIC} characters (it has {len(topic)})."
    if len(form.agenda) > MAX_AGENDA:
        errors[AGENDA] = f"Keep the agenda to {MAX_AGENDA} characters (it has {len(form.agenda)})."
    if not form.host:
        errors[HOST] = "Choose who hosts the call."
    if form.alternate and form.alternate == form.host:
        errors[ALTERNATE] = "The alternate leads when the host cannot: choose someone else."
    try:
        kind = CallKind(form.kind or CallKind.COMMUNITY.value)
    except ValueError:
        errors[KIND] = "Choose a community call or an additional call."
        kind = CallKind.COMMUNITY

    start = None
    if day and at and zone:
        start = local_start(day, at, zone)
        if start is None:
            errors[TIME] = (
                f"{at:%H:%M} does not exist on {day:%B %-d} in {zone}: the clocks go forward "
                "then. Pick another time."
            )
        elif start <= now:
            errors[DATE if day < now.astimezone(ZoneInfo(zone)).date() else TIME] = (
                "That is in the past: pick a time from now on."
            )
        else:
            name = holiday_name(day, holidays_country)
            if name:
                errors[DATE] = f"{day:%B %-d, %Y} is {name}, a public holiday: pick another day."
    if errors:
        return None, errors
    assert start is not None
    return (
        CallDraft(
            start_at=start,
            duration_minutes=duration,
            timezone=zone,
            topic=topic,
            agenda=form.agenda.strip(),
            host_user_id=form.host,
            alternate_user_id=form.alternate or None,
            kind=kind,
        ),
        {},
    )


def community_calls_in_year(
    session: Session, community_id: int, first: date, end: date, *, excluding: int | None = None
) -> int:
    start = datetime.combine(first, time(), tzinfo=UTC)
    stop = datetime.combine(end, time(), tzinfo=UTC)
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
    session: Session, community_ids: list[int], first: date, end: date
) -> dict[int, int]:
    """Community calls (not cancelled) of each community in the program year."""
    if not community_ids:
        return {}
    start = datetime.combine(first, time(), tzinfo=UTC)
    stop = datetime.combine(end, time(), tzinfo=UTC)
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
) -> str | None:
    """The refusal of a seventh community call in a program year, if this is one."""
    if draft.kind != CallKind.COMMUNITY:
        return None
    local_day = draft.start_at.astimezone(ZoneInfo(draft.timezone)).date()
    first, end = program_year(local_day, year_start)
    count = community_calls_in_year(session, community.id, first, end, excluding=excluding)
    if count >= MAX_CALLS_A_YEAR:
        return (
            f"{year_label(first)} already has {count} community calls, the most a program "
            f"year has. Choose “Additional call” to schedule this one beyond them."
        )
    return None


def calls_planned_note(
    session: Session, community: Community, today: date, year_start: tuple[int, int]
) -> str | None:
    """A warning when fewer than three community calls are planned this program year."""
    first, end = program_year(today, year_start)
    count = community_calls_in_year(session, community.id, first, end)
    if count < MIN_CALLS_A_YEAR:
        return (
            f"{count} of the 3 to 6 community calls of {year_label(first)} are scheduled: "
            "`/cop schedule` adds one."
        )
    return None


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
    """Cancel a scheduled call; False if it was not scheduled any more."""
    if call.status != CallStatus.SCHEDULED.value:
        return False
    call.status = CallStatus.CANCELLED.value
    call.sequence += 1
    call.updated_at = utcnow()
    session.add(call)
    session.flush()
    reminders.void_for_call(session, call.id)
    return True


def claim_meeting(session: Session, call_id: int, now: datetime | None = None) -> bool:
    """Claim the making of a call's meeting: True for exactly one caller at a time.

    A claim older than two minutes (a worker that died) may be taken over.
    """
    now = now or utcnow()
    result = session.execute(
        update(Call)
        .where(
            Call.id == call_id,
            Call.status == CallStatus.SCHEDULED.value,
            or_(
                Call.meeting_state == MeetingState.PENDING.value,
                (Call.meeting_state == MeetingState.CREATING.value)
                & (Call.meeting_claimed_at < now - CLAIM_TIMEOUT),
            ),
        )
        .values(meeting_state=MeetingState.CREATING.value, meeting_claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def meeting_made(
    session: Session, call_id: int, meeting_id: int, join_url: str, passcode: str
) -> None:
    call = session.get(Call, call_id)
    call.zoom_meeting_id = meeting_id
    call.join_url = join_url
    call.passcode = passcode
    call.meeting_state = MeetingState.READY.value
    call.meeting_error = None
    session.add(call)
    session.flush()


def meeting_failed(session: Session, call_id: int, error: str) -> None:
    call = session.get(Call, call_id)
    if call.meeting_state == MeetingState.CREATING.value:
        call.meeting_state = MeetingState.PENDING.value
    call.meeting_error = error[:2000]
    session.add(call)
    session.flush()


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
