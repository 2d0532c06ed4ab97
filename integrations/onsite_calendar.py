"""iCalendar (RFC 5545) file for a community's onsite block at the Annual Meeting, in the
style of `integrations.calendar`: a stable UID, SEQUENCE raised by every move."""

from __future__ import annotations

import re

from icalendar import Event
from sqlalchemy.engine import Engine
from sqlmodel import select

from integrations.calendar import _calendar
from storage.db import session_scope
from storage.models import Community, OnsiteBlock, OnsiteMeeting, OnsiteRoom, utcnow

PATH = re.compile(r"^/calendar/onsite/([A-Za-z0-9_-]{16,64})\.ics$")


def block_ics(
    block: OnsiteBlock, meeting: OnsiteMeeting, room: OnsiteRoom, community: Community
) -> bytes:
    cal = _calendar(f"{community.name} at {meeting.name}", "PUBLISH")
    event = Event()
    event.add("uid", f"onsite-{block.uid}@copbot")
    event.add("sequence", block.sequence)
    event.add("dtstamp", utcnow())
    event.add("dtstart", block.start_at)
    event.add("dtend", block.end_at)
    event.add("summary", f"{community.name}: onsite meeting")
    event.add("location", f"{room.name}, {meeting.name}")
    event.add("status", "CONFIRMED")
    cal.add_component(event)
    return cal.to_ical()


def onsite_file(engine: Engine, path: str) -> bytes | None:
    """The .ics at `/calendar/onsite/<uid>.ics`; None when there is no such block."""
    match = PATH.match(path)
    if not match:
        return None
    with session_scope(engine) as session:
        block = session.exec(select(OnsiteBlock).where(OnsiteBlock.uid == match.group(1))).first()
        if block is None:
            return None
        return block_ics(
            block,
            session.get(OnsiteMeeting, block.meeting_id),
            session.get(OnsiteRoom, block.room_id),
            session.get(Community, block.community_id),
        )
