"""iCalendar (RFC 5545) files for calls, built with the `icalendar` package: one call
(an "Add to calendar" link) or a community's whole feed (a subscribable URL).

Each call has a stable UID; SEQUENCE rises with every change; a cancelled call is
STATUS:CANCELLED, and its own file says METHOD:CANCEL.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from icalendar import Calendar, Event, vText

from storage.models import Call, CallStatus, Community, utcnow

PRODID = "-//copbot//Communities of Practice//EN"


def _calendar(name: str, method: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    cal.add("x-wr-calname", name)
    return cal


def _event(call: Call, community: Community, join_url: str | None = None) -> Event:
    join_url = join_url or call.join_url
    event = Event()
    event.add("uid", f"{call.uid}@copbot")
    event.add("sequence", call.sequence)
    event.add("dtstamp", utcnow())
    event.add("dtstart", call.start_at)
    event.add("dtend", call.start_at + timedelta(minutes=call.duration_minutes))
    event.add("summary", f"{community.name}: {call.topic}")
    lines = [call.agenda] if call.agenda else []
    if join_url:
        lines.append(f"Join: {join_url}")
        if call.passcode:
            lines.append(f"Passcode: {call.passcode}")
    if lines:
        event.add("description", "\n\n".join(lines))
    if join_url:
        event.add("location", vText(join_url))
        event.add("url", join_url)
    cancelled = call.status == CallStatus.CANCELLED.value
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def call_ics(call: Call, community: Community, join_url: str | None = None) -> bytes:
    """One call (with `join_url`, a person's own link, instead of the shared one); a
    cancelled call's file asks calendars to remove it."""
    cancelled = call.status == CallStatus.CANCELLED.value
    cal = _calendar(community.name, "CANCEL" if cancelled else "PUBLISH")
    cal.add_component(_event(call, community, join_url))
    return cal.to_ical()


def feed_ics(community: Community, calls: Iterable[Call]) -> bytes:
    """Every call of a community, for calendars that subscribe to the feed."""
    cal = _calendar(f"{community.name} calls", "PUBLISH")
    for call in calls:
        cal.add_component(_event(call, community))
    return cal.to_ical()
