"""Community calls: the scheduling rules and the calls' lifecycle.

Rules: a call starts in the future, at a time that exists in its zone, lasts 1 minute to
24 hours, and not on a public holiday of the configured country. Community calls count
toward the program year (3 to 6 a year, its boundaries at midnight in the organisation's
zone); a seventh is refused with the offer to make it an additional call. Times are
stored in UTC with the zone they were set in.

The database decides every race: scheduling holds the community's row (`lock_community`)
while it counts and inserts, so two leaders never make a seventh call; cancelling is one
conditional UPDATE, so ten clicks have one winner; the meeting of a call is claimed by one
worker at a time and stored only while the call is still scheduled.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import delete, func, or_, update
from sqlmodel import Session, select

from bot.blocks import plural
from bot.services import CopError, reminders
from storage.models import Call, CallKind, CallStatus, Community, MeetingState, Milestone, utcnow

MIN_CALLS_A_YEAR = 3
MAX_CALLS_A_YEAR = 6
MAX_DURATION_MINUTES = 24 * 60
MAX_TOPIC = 200
MAX_AGENDA = 2000
# a claim on a call's meeting is taken over only after this, or after the longest a
# create can take (retries included) and a minute more, whichever is longer
MIN_CLAIM_TIMEOUT = timedelta(minutes=2)
MAX_ID = 2**63 - 1
USER_ID = re.compile(r"[UW][A-Z0-9]{1,31}")

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


@cache
def zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def is_zone(name: str) -> bool:
    return name in zone_names()


def zone_error(name: str) -> str:
    """Why `name` is not a time zone, with the closest names copbot knows."""
    shown = name[:40] or "That"
    by_lower = {z.lower(): z for z in zone_names()}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=0.5)
    if not close and name:
        close = sorted(z for z in by_lower if z.startswith(name.lower()))[:3]
    if close:
        return (
            f"{shown} is not a time zone. Did you mean "
            + " or ".join(by_lower[c] for c in close)
            + "?"
        )
    return f"{shown} is not a time zone: use a name like America/Chicago."


def parse_id(value: object) -> int:
    """An object id from a button value or private_metadata; CopError when it is none."""
    text = str(value if value is not None else "").strip()
    if not text.isdigit() or not 0 < int(text) <= MAX_ID:
        raise CopError("That call is not one copbot knows (the button or form was changed).")
    return int(text)


def holiday_name(day: date, country: str | None) -> str | None:
    """The public holiday on `day` in `country`, if any."""
    if not country:
        return None
    import holidays

    return holidays.country_holidays(country, years=day.year).get(day)


def is_working_day(day: date, holidays_country: str | None) -> bool:
    return day.weekday() < 5 and holiday_name(day, holidays_country) is None


def next_working_day(day: date, holidays_country: str | None) -> date:
    while not is_working_day(day, holidays_country):
        day += timedelta(days=1)
    return day


def default_day(now: datetime, zone: str, holidays_country: str | None) -> date:
    """The schedule form's first offer: the next working day after today in `zone`."""
    today = now.astimezone(ZoneInfo(zone)).date()
    return next_working_day(today + timedelta(days=1), holidays_country)


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
    if not is_zone(zone):
        errors[ZONE] = zone_error(zone)
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
    elif not USER_ID.fullmatch(form.host):
        errors[HOST] = "Choose the host from the list of people."
    if form.alternate and not USER_ID.fullmatch(form.alternate):
        errors[ALTERNATE] = "Choose the alternate from the list of people."
    elif form.alternate and form.alternate == form.host:
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
    session: Session, call_id: int, meeting_id: int, join_url: str, passcode: str
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
