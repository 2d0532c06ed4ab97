"""A call's meeting: made once whatever happens meanwhile, moved, deleted.

One worker claims the making (for longer than the longest create), stores the meeting id
before anything else, and deletes the meeting again if the call was cancelled while Zoom
was making it, or moves it if the call was rescheduled meanwhile. A meeting is made on the
call's host, or another free at its time with creates left today; when the free ones are
out for the day it waits for 00:00 UTC (`Later`). Conferencing failures arrive as
`ConferencingError`, already in plain words.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.deps import Deps
from bot.flows import registrations
from bot.services import call_meetings, hosts
from bot.services import calls as rules
from integrations.conferencing import (
    ConferencingError,
    HostOutForTheDay,
    MeetingInfo,
    MeetingRequest,
)
from storage.db import session_scope
from storage.models import Call, Community

log = logging.getLogger(__name__)


def meeting_request(call: Call, community: Community) -> MeetingRequest:
    return MeetingRequest(
        host=call.zoom_host,
        topic=f"{community.name}: {call.topic}",
        start=call.start_at,
        duration_minutes=call.duration_minutes,
        timezone=call.timezone,
        agenda=call.agenda,
        marker=rules.marker(call),
    )


def load_call(deps: Deps, call_id: int) -> tuple[Call, Community]:
    """The call and its community, read in a unit of work of their own."""
    with session_scope(deps.engine) as session:
        call = session.get(Call, call_id)
        return call, session.get(Community, call.community_id)


class Later(str):
    """Not a failure: the meeting will be made after 00:00 UTC (the hosts' daily limit);
    the text says when, in words a leader reads."""


def later_text(deps: Deps, until: datetime, zone: str) -> Later:
    local = until.astimezone(ZoneInfo(zone))
    return Later(
        f"Zoom lets a host make or change 100 meetings a day, and copbot's "
        f"{'host has' if len(deps.conferencing.hosts) == 1 else 'free hosts have'} had "
        f"theirs today. The meeting will be made after 00:00 UTC ({local:%a %b %-d, %H:%M} "
        f"{zone}) and its link posted then"
    )


def _host_for(deps: Deps, session: Session, call: Call, now: datetime) -> str | None | Later:
    """The host whose request for `call` is counted now: its own if it has creates left
    today, else another host free at its time that has; None when every host is busy at
    its time (nothing is booked), a `Later` when the free ones are out for the day."""
    pool = deps.conferencing.hosts
    if call.zoom_host not in pool and hosts.book(session, call, pool, now) is None:
        return None
    if hosts.take_request(session, call.zoom_host, now):
        return call.zoom_host
    counts = hosts.requests_today(session, pool, now)
    fresh = [h for h in pool if counts[h] < hosts.DAILY_LIMIT and h != call.zoom_host]
    moved = bool(fresh) and hosts.book(session, call, fresh, now) is not None
    if moved and hosts.take_request(session, call.zoom_host, now):
        return call.zoom_host
    return later_text(deps, hosts.next_utc_midnight(now), call.timezone)


def ensure_meeting(deps: Deps, call_id: int, now: datetime | None = None) -> str | None:
    """Make the call's meeting unless it has one, on the call's Zoom host (or another
    free one with creates left today); the error in plain words, a `Later` when the
    meeting waits for 00:00 UTC, or None. `now` is the scheduler's (default: the clock)."""
    now = now or deps.clock.now()
    claimed = _claim(deps, call_id, now)
    if claimed is None:
        return None  # made already, not wanted, waiting for 00:00 UTC, or being made
    request, sequence = claimed
    made = _create(deps, call_id, request, now)
    if isinstance(made, str):
        return made
    return _keep(deps, call_id, made, request.registration, sequence)


def _claim(deps: Deps, call_id: int, now: datetime) -> tuple[MeetingRequest, int] | None:
    """The making of the call's meeting claimed (for longer than the longest create):
    what to ask for (looking for a meeting made before when an earlier try was cut
    short), and the call's version it is for; None when it is not this worker's to make."""
    timeout = call_meetings.claim_timeout(deps.conferencing.longest_create_seconds)
    with session_scope(deps.engine) as session:
        current = session.get(Call, call_id)
        tried_before = current is not None and current.meeting_claimed_at is not None
        if not call_meetings.claim_meeting(session, call_id, now, timeout=timeout):
            return None
        call = session.get(Call, call_id, populate_existing=True)
        request = meeting_request(call, session.get(Community, call.community_id))
        registration = registrations.enabled(deps)
        request = replace(request, look_first=tried_before, registration=registration)
        return request, call.sequence


def _create(deps: Deps, call_id: int, request: MeetingRequest, now: datetime) -> MeetingInfo | str:
    """The meeting made on the first host that can; else what went wrong in plain words
    (a `Later` when it waits for 00:00 UTC), with the call marked failed or deferred."""
    for _ in range(len(deps.conferencing.hosts) + 1):
        host, answer = _pick_host(deps, call_id, now)
        if host is None:
            return answer
        try:
            return deps.conferencing.create(replace(request, host=host))
        except HostOutForTheDay:
            # Zoom counted more than copbot did (other apps use the host too)
            with session_scope(deps.engine) as session:
                hosts.out_for_the_day(session, host, now)
        except ConferencingError as e:
            log.warning("meeting for call %s: %s", call_id, e)
            with session_scope(deps.engine) as session:
                call_meetings.meeting_failed(session, call_id, str(e))
            return str(e)
        except Exception as e:  # noqa: BLE001 - the call must not stay claimed
            with session_scope(deps.engine) as session:
                call_meetings.meeting_failed(session, call_id, "an unexpected error")
            log.exception("meeting for call %s", call_id)
            return f"an unexpected error ({type(e).__name__})"
    # every host said it is out for the day
    later = later_text(deps, hosts.next_utc_midnight(now), request.timezone)
    with session_scope(deps.engine) as session:
        call_meetings.meeting_deferred(session, call_id, hosts.next_utc_midnight(now), later)
    return later


def _pick_host(deps: Deps, call_id: int, now: datetime) -> tuple[str | None, str]:
    """The host to make the call's meeting on now; else no host and the answer, with the
    call marked failed (every host busy at its time) or deferred (the free ones are out
    for the day)."""
    with session_scope(deps.engine) as session:
        call = session.get(Call, call_id)
        host = _host_for(deps, session, call, now)
        if host is None:
            pool = deps.conferencing.hosts
            free = hosts.free_times(
                session, pool, call.start_at, call.duration_minutes, call.timezone, now,
                excluding=call.id,
            )  # fmt: skip
            busy = hosts.busy_message(pool, free, call.timezone, call.duration_minutes)
            call_meetings.meeting_failed(session, call_id, busy)
            return None, busy + " Reschedule the call to one of them."
        if isinstance(host, Later):
            call_meetings.meeting_deferred(session, call_id, hosts.next_utc_midnight(now), host)
            return None, host
        return host, ""


def _keep(
    deps: Deps, call_id: int, info: MeetingInfo, registration: bool, sequence: int
) -> str | None:
    """The meeting made stored on the call (its id before anything else is attempted);
    deleted again when the call was cancelled meanwhile (no orphan meeting in Zoom),
    moved when it was rescheduled meanwhile (`sequence`: the version it was made for)."""
    with session_scope(deps.engine) as session:
        stored = call_meetings.meeting_made(
            session, call_id, info.meeting_id, info.join_url, info.passcode, registration
        )
        call = session.get(Call, call_id)
        holder = call.meeting_id
    if not stored:
        if holder != info.meeting_id:  # cancelled meanwhile
            delete_meeting(deps, call_id, info.meeting_id)
        return None
    if call.sequence != sequence:  # rescheduled while Zoom was making it
        call, community = load_call(deps, call_id)
        try:
            deps.conferencing.update(info.meeting_id, meeting_request(call, community))
        except ConferencingError as e:
            log.warning("moving the meeting of call %s: %s", call_id, e)
            return str(e)
    return None


def delete_meeting(deps: Deps, call_id: int, meeting_id: int) -> str | None:
    try:
        deps.conferencing.delete(meeting_id)
    except ConferencingError as e:
        log.warning("deleting meeting %s of call %s: %s", meeting_id, call_id, e)
        return str(e)
    return None


def move_meeting(deps: Deps, call: Call, community: Community, host_changed: bool) -> str | None:
    """Move the meeting to the call's new time: an update on its own host (one of the
    host's creates/updates today); when the call changed host, or its host is out for
    the day, the meeting is deleted and made again (`ensure_meeting`)."""
    now = deps.clock.now()
    if not host_changed:
        with session_scope(deps.engine) as session:
            counted = hosts.take_request(session, call.zoom_host, now)
        if counted:
            try:
                deps.conferencing.update(call.meeting_id, meeting_request(call, community))
                return None
            except HostOutForTheDay:
                with session_scope(deps.engine) as session:
                    hosts.out_for_the_day(session, call.zoom_host, now)
            except ConferencingError as e:
                return str(e)
    with session_scope(deps.engine) as session:
        dropped = call_meetings.meeting_dropped(session, call.id, call.meeting_id)
    if not dropped:
        return None  # cancelled or changed meanwhile: that change handles its meeting
    problem = delete_meeting(deps, call.id, call.meeting_id)
    if problem:
        log.warning("the old meeting %s of call %s stays in Zoom", call.meeting_id, call.id)
    return ensure_meeting(deps, call.id)
