"""The schedule form's rules: what a leader typed becomes a call draft or errors by field.

A call starts in the future, at a time that exists in its zone (a zone copbot knows: a
near miss gets the closest names), lasts 1 minute to 24 hours, and not on a public
holiday of the configured country. Also the calendar helpers the forms share: working
days, the form's first offer, program years, and reading ids from buttons and metadata.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.services import CopError
from bot.services.ids import object_id
from bot.zones import ZoneError, parse_zone
from storage.models import CallKind

MAX_DURATION_MINUTES = 24 * 60
MAX_TOPIC = 200
MAX_AGENDA = 2000
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


def parse_id(value: object) -> int:
    """An object id from a button value or private_metadata; CopError when it is none."""
    number = object_id(value)
    if number is None:
        raise CopError("That call is not one copbot knows (the button or form was changed).")
    return number


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
    day, at, zone = _day_time_zone(form, errors)
    duration = _duration(form, errors)
    topic = _words(form, errors)
    _people(form, errors)
    try:
        kind = CallKind(form.kind or CallKind.COMMUNITY.value)
    except ValueError:
        errors[KIND] = "Choose a community call or an additional call."
        kind = CallKind.COMMUNITY
    start = None
    if day and at and zone:
        start = _start(day, at, zone, now, holidays_country, errors)
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


def _day_time_zone(form: CallForm, errors: dict[str, str]) -> tuple[date | None, time | None, str]:
    """The date, the wall-clock time and the zone as typed ("" for a zone not known)."""
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
    try:
        zone = parse_zone(form.zone)
    except ZoneError as e:
        errors[ZONE] = e.message
        zone = ""
    return day, at, zone


def _duration(form: CallForm, errors: dict[str, str]) -> int:
    """The length in minutes, 1 to MAX_DURATION_MINUTES (0 when it is not)."""
    try:
        duration = int(form.duration.strip())
        if not 1 <= duration <= MAX_DURATION_MINUTES:
            raise ValueError
    except ValueError:
        errors[DURATION] = "Give the length in minutes, from 1 to 1440 (24 hours)."
        return 0
    return duration


def _words(form: CallForm, errors: dict[str, str]) -> str:
    """The topic with its spaces normalised; the topic and the agenda within their limits."""
    topic = " ".join(form.topic.split())
    if not topic:
        errors[TOPIC] = "Give the call a topic."
    elif len(topic) > MAX_TOPIC:
        errors[TOPIC] = f"Keep the topic to {MAX_TOPIC} characters (it has {len(topic)})."
    if len(form.agenda) > MAX_AGENDA:
        errors[AGENDA] = f"Keep the agenda to {MAX_AGENDA} characters (it has {len(form.agenda)})."
    return topic


def _people(form: CallForm, errors: dict[str, str]) -> None:
    """A host chosen from the people list, and an alternate (if any) who is someone else."""
    if not form.host:
        errors[HOST] = "Choose who hosts the call."
    elif not USER_ID.fullmatch(form.host):
        errors[HOST] = "Choose the host from the list of people."
    if form.alternate and not USER_ID.fullmatch(form.alternate):
        errors[ALTERNATE] = "Choose the alternate from the list of people."
    elif form.alternate and form.alternate == form.host:
        errors[ALTERNATE] = "The alternate leads when the host cannot: choose someone else."


def _start(
    day: date,
    at: time,
    zone: str,
    now: datetime,
    holidays_country: str | None,
    errors: dict[str, str],
) -> datetime | None:
    """The call's start in UTC: a time that exists that day, from now on, not a holiday."""
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
    return start
