"""The pool of Zoom hosts: which host a call's meeting is on, and how many meeting creates
and updates each host has asked of Zoom today.

A Zoom user hosts one meeting at a time, so a call gets a host with no other copbot
meeting within its time plus 15 minutes on either side. The database decides: a call's
booking is one `host_booking` row per 5-minute slot from its start to 15 minutes after
its end, unique per (host, slot). Two calls that come within 15 minutes of each other
share a slot on any host they both want, so of two communities submitting the same hour
at once, the second's insert fails (on PostgreSQL it waits for the first to commit) and
it tries the next host. A slot grid can only err on the side of caution: two calls 15 to
20 minutes apart at odd minutes may count as too close.

Zoom allows a user 100 meeting creates/updates a UTC day (then 429 with a daily-limit
message and no Retry-After). Each host's count is kept per UTC day (`zoom_host_day`),
taken with one conditional UPDATE before each request; new calls go to the free host
that has asked least today, and a host that is out for the day gets its meetings made
after 00:00 UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.services import CopError
from bot.text import plural
from storage.models import Call, CallStatus, Community, HostBooking, ZoomHostDay

BUFFER = timedelta(minutes=15)  # between two meetings of one host
SLOT = timedelta(minutes=5)
DAILY_LIMIT = 100  # Zoom's meeting creates/updates per user per UTC day
FREE_TIME_STEP = timedelta(minutes=15)  # the free times offered when every host is busy
FREE_TIMES_SHOWN = 4


class HostsBusy(CopError):
    """Every host has another meeting within 15 minutes of the call; the message says so
    and offers the nearest free times that day."""


class _NoHost(Exception):
    """Every host's insert failed: the savepoint rolls back the old booking's removal."""


def _floor(when: datetime) -> datetime:
    when = when.astimezone(UTC)
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    return epoch + ((when - epoch) // SLOT) * SLOT


def slots(start: datetime, duration_minutes: int) -> list[datetime]:
    """The 5-minute slots a call holds: from its start to 15 minutes after its end. Two
    calls less than 15 minutes apart on either side share one (the earlier one's slots
    reach past the later one's start)."""
    first = _floor(start)
    stop = start.astimezone(UTC) + timedelta(minutes=duration_minutes) + BUFFER
    out = []
    at = first
    while at < stop:
        out.append(at)
        at += SLOT
    return out


def next_utc_midnight(now: datetime) -> datetime:
    day = now.astimezone(UTC).date() + timedelta(days=1)
    return datetime.combine(day, time(), tzinfo=UTC)


# ---- the day's creates and updates ---------------------------------------------------------
def requests_today(session: Session, hosts: Sequence[str], now: datetime) -> dict[str, int]:
    day = now.astimezone(UTC).date()
    counts = dict.fromkeys(hosts, 0)
    if hosts:
        rows = session.exec(
            select(ZoomHostDay.host, ZoomHostDay.requests).where(
                ZoomHostDay.day == day, ZoomHostDay.host.in_(list(hosts))
            )
        ).all()
        counts.update({host: int(n) for host, n in rows})
    return counts


def take_request(session: Session, host: str, now: datetime, limit: int = DAILY_LIMIT) -> bool:
    """Count one meeting create/update of `host` today; False (nothing counted) when the
    host has had `limit` today. One conditional UPDATE decides, so concurrent workers
    never count past the limit."""
    day = now.astimezone(UTC).date()

    def bump() -> bool:
        return (
            session.execute(
                update(ZoomHostDay)
                .where(
                    ZoomHostDay.host == host,
                    ZoomHostDay.day == day,
                    ZoomHostDay.requests < limit,
                )
                .values(requests=ZoomHostDay.requests + 1)
                .execution_options(synchronize_session=False)
            ).rowcount
            == 1
        )

    if bump():
        return True
    if limit <= 0:
        return False
    try:
        with session.begin_nested():
            session.add(ZoomHostDay(host=host, day=day, requests=1))
            session.flush()
        return True
    except IntegrityError:  # the day's row exists (full, or written just now): count on it
        return bump()


def out_for_the_day(session: Session, host: str, now: datetime, limit: int = DAILY_LIMIT) -> None:
    """Zoom said the host reached its daily limit: no more requests of it today."""
    day = now.astimezone(UTC).date()
    done = session.execute(
        update(ZoomHostDay)
        .where(ZoomHostDay.host == host, ZoomHostDay.day == day)
        .values(requests=limit)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        try:
            with session.begin_nested():
                session.add(ZoomHostDay(host=host, day=day, requests=limit))
                session.flush()
        except IntegrityError:
            out_for_the_day(session, host, now, limit)


# ---- booking a host ------------------------------------------------------------------------
def preference(
    session: Session,
    hosts: Sequence[str],
    now: datetime,
    *,
    current: str | None = None,
    limit: int = DAILY_LIMIT,
) -> list[str]:
    """The order hosts are tried in: the call's current host first (its meeting is then
    moved, not made again), then those with creates left today, least used first."""
    counts = requests_today(session, hosts, now)
    order = sorted(hosts, key=lambda h: (counts[h] >= limit, counts[h], hosts.index(h)))
    if current in order:
        order.remove(current)
        order.insert(0, current)
    return order


def book(
    session: Session,
    call: Call,
    hosts: Sequence[str],
    now: datetime,
    *,
    limit: int = DAILY_LIMIT,
) -> str | None:
    """Give `call` a host free at its time (its current host if that one still is),
    releasing the time it held before; None when every host is busy then, and the call
    keeps what it had. Call it inside the unit of work that saves the call."""
    wanted = slots(call.start_at, call.duration_minutes)
    order = preference(session, hosts, now, current=call.zoom_host, limit=limit)
    chosen: str | None = None
    try:
        with session.begin_nested():
            release(session, call.id)
            for host in order:
                try:
                    with session.begin_nested():
                        session.add_all(
                            HostBooking(host=host, slot_at=at, call_id=call.id) for at in wanted
                        )
                        session.flush()
                except IntegrityError:
                    continue
                chosen = host
                break
            if chosen is None:
                raise _NoHost
    except _NoHost:
        return None
    call.zoom_host = chosen
    session.add(call)
    session.flush()
    return chosen


def release(session: Session, call_id: int) -> None:
    """Free the host's time a call held (it was cancelled, or is being moved)."""
    session.execute(
        delete(HostBooking)
        .where(HostBooking.call_id == call_id)
        .execution_options(synchronize_session=False)
    )


def free_times(
    session: Session,
    hosts: Sequence[str],
    start: datetime,
    duration_minutes: int,
    zone: str,
    now: datetime,
    *,
    excluding: int | None = None,
    shown: int = FREE_TIMES_SHOWN,
) -> list[datetime]:
    """Starts on `start`'s day (in `zone`), every 15 minutes and in the future, when some
    host is free for the whole call; the `shown` nearest to `start`, in time order."""
    tz = ZoneInfo(zone)
    day = start.astimezone(tz).date()
    first = datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)
    last = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC)
    query = select(HostBooking.host, HostBooking.slot_at).where(
        HostBooking.host.in_(list(hosts)),
        HostBooking.slot_at >= first - timedelta(days=1),
        HostBooking.slot_at < last + timedelta(minutes=duration_minutes) + BUFFER,
    )
    if excluding is not None:
        query = query.where(HostBooking.call_id != excluding)
    taken: dict[str, set[datetime]] = {h: set() for h in hosts}
    for host, at in session.exec(query).all():
        taken[host].add(at.astimezone(UTC))
    candidates = []
    at = first
    while at < last:
        if at > now and at != start:
            wanted = slots(at, duration_minutes)
            if any(not taken[h].intersection(wanted) for h in hosts):
                candidates.append(at)
        at += FREE_TIME_STEP
    nearest = sorted(candidates, key=lambda t: (abs(t - start), t))[:shown]
    return sorted(nearest)


def busy_message(
    hosts: Sequence[str], free: list[datetime], zone: str, duration_minutes: int
) -> str:
    """The schedule form's answer on its time field when every host is busy then."""
    n = len(hosts)
    who = "copbot's Zoom host is" if n == 1 else f"All {plural(n, 'Zoom host')} are"
    text = (
        f"{who} busy then: a Zoom user hosts one meeting at a time, and copbot keeps "
        "15 minutes between two."
    )
    if free:
        tz = ZoneInfo(zone)
        times = [f"{t.astimezone(tz):%H:%M}" for t in free]
        listed = ", ".join(times[:-1]) + f" or {times[-1]}" if len(times) > 1 else times[0]
        return text + f" Free that day for {duration_minutes} minutes: {listed}."
    return text + " No host is free for that long that day: choose another day."


def book_or_refuse(session: Session, call: Call, hosts: Sequence[str], now: datetime) -> str:
    """`book`, or HostsBusy naming the nearest free times that day (the unit of work then
    rolls back: the call is neither saved nor moved)."""
    host = book(session, call, hosts, now)
    if host is not None:
        return host
    free = free_times(
        session,
        hosts,
        call.start_at,
        call.duration_minutes,
        call.timezone,
        now,
        excluding=call.id,
    )
    raise HostsBusy(busy_message(hosts, free, call.timezone, call.duration_minutes))


def next_meetings(
    session: Session, hosts: Sequence[str], now: datetime, per_host: int = 5
) -> list[tuple[str, list[tuple[Community, Call]]]]:
    """Each host's next scheduled calls (not ended yet), soonest first, for staff."""
    out = []
    for host in hosts:
        rows = session.exec(
            select(Community, Call)
            .join(Call, Call.community_id == Community.id)
            .where(
                Call.zoom_host == host,
                Call.status == CallStatus.SCHEDULED.value,
                Call.start_at >= now - timedelta(hours=24),
            )
            .order_by(Call.start_at)
            .limit(per_host + 10)
        ).all()
        live = [
            (c, call)
            for c, call in rows
            if call.start_at + timedelta(minutes=call.duration_minutes) > now
        ]
        out.append((host, live[:per_host]))
    return out
