"""The Annual Meeting and each community's onsite block: two hours on a Friday or
Saturday of the meeting, in one of its rooms.

The meeting, its rooms, the blocks as they stand and the slot rules; giving, moving and
freeing a block: `bot.services.onsite_assignment`. A refusal is a `SlotError` naming the
field and the rule.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.services import CopError
from bot.zones import ZoneError, parse_zone
from storage.models import (
    Community,
    OnsiteBlock,
    OnsiteMeeting,
    OnsiteRoom,
    utcnow,
)

BLOCK_LENGTH = timedelta(hours=2)
BLOCK_DAYS = (4, 5)  # Friday, Saturday
MAX_MEETING_DAYS = 14
MAX_ROOMS = 40
_ROOM_LINE = re.compile(r"^\s*(?P<name>[^:]{1,80}?)\s*:\s*(?P<cap>\d{1,5})\s*$")


class SlotError(CopError):
    """A refusal that belongs on one field of a modal."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


# ---- the meeting --------------------------------------------------------------------------
def parse_rooms(text: str) -> list[tuple[str, int]]:
    """Rooms written one a line as `name: capacity`."""
    rooms: list[tuple[str, int]] = []
    seen: set[str] = set()
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        match = _ROOM_LINE.match(line)
        if not match:
            raise SlotError(
                "rooms",
                f"Line {number} should be a room and its capacity, like `Room A: 40`.",
            )
        name, capacity = re.sub(r"\s+", " ", match["name"]).strip(), int(match["cap"])
        if capacity < 1:
            raise SlotError("rooms", f"{name} needs a capacity of at least 1.")
        if name.casefold() in seen:
            raise SlotError("rooms", f"{name} is listed twice.")
        seen.add(name.casefold())
        rooms.append((name, capacity))
    if not rooms:
        raise SlotError("rooms", "List at least one room, like `Room A: 40`.")
    if len(rooms) > MAX_ROOMS:
        raise SlotError("rooms", f"List at most {MAX_ROOMS} rooms.")
    return rooms


def check_zone(name: str) -> str:
    """The venue's zone (`parse_zone`), or the field's error with the closest names."""
    try:
        return parse_zone(name)
    except ZoneError as e:
        raise SlotError("timezone", e.message) from None


def save_meeting(
    session: Session,
    *,
    name: str,
    timezone: str,
    start: date,
    end: date,
    rooms: Sequence[tuple[str, int]],
    user_id: str,
) -> OnsiteMeeting:
    """Define (or change) the Annual Meeting of `start.year`. A room that is no longer
    listed is removed, unless a block is in it."""
    name = re.sub(r"\s+", " ", name or "").strip()
    if not name:
        raise SlotError("name", "Give the meeting a name, like `Annual Meeting 2027`.")
    if len(name) > 120:
        raise SlotError("name", "Keep the name to 120 characters.")
    zone = check_zone(timezone)
    if end < start:
        raise SlotError("end", "The meeting ends before it starts.")
    if (end - start).days >= MAX_MEETING_DAYS:
        raise SlotError("end", f"A meeting lasts at most {MAX_MEETING_DAYS} days.")
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    if not any(d.weekday() in BLOCK_DAYS for d in days):
        raise SlotError(
            "end", "Onsite blocks are on a Friday or Saturday; the meeting has neither."
        )
    meeting = session.exec(
        select(OnsiteMeeting).where(OnsiteMeeting.year == start.year).with_for_update()
    ).first()
    if meeting is None:
        meeting = OnsiteMeeting(
            year=start.year, name=name, timezone=zone, start_date=start, end_date=end,
            updated_by=user_id,
        )  # fmt: skip
    else:
        booked = blocks_of(session, meeting.id)
        outside = [b for b in booked if not (start <= local_day(b, zone) <= end)]
        if outside or (booked and zone != meeting.timezone):
            raise SlotError(
                "end",
                f"{len(booked)} block(s) are assigned; move or free them before changing "
                "the meeting's days or time zone.",
            )
        meeting.name, meeting.timezone = name, zone
        meeting.start_date, meeting.end_date = start, end
        meeting.updated_by, meeting.updated_at = user_id, utcnow()
    try:
        with session.begin_nested():
            session.add(meeting)
            session.flush()
    except IntegrityError:
        raise SlotError(
            "name", "Someone else defined this meeting just now; run `/cop onsite` again."
        ) from None
    _save_rooms(session, meeting, rooms)
    return meeting


def _save_rooms(session: Session, meeting: OnsiteMeeting, rooms: Sequence[tuple[str, int]]):
    current = {r.name.casefold(): r for r in rooms_of(session, meeting.id)}
    wanted = {n.casefold() for n, _ in rooms}
    used = {b.room_id for b in blocks_of(session, meeting.id)}
    for key, room in current.items():
        if key not in wanted:
            if room.id in used:
                raise SlotError("rooms", f"{room.name} has a block; move or free it first.")
            session.delete(room)
    for name, capacity in rooms:
        room = current.get(name.casefold()) or OnsiteRoom(
            meeting_id=meeting.id, name=name, capacity=capacity
        )
        room.name, room.capacity = name, capacity
        session.add(room)
    session.flush()


def current_meeting(session: Session, today: date) -> OnsiteMeeting | None:
    """The next (or running) Annual Meeting, else the latest one."""
    upcoming = session.exec(
        select(OnsiteMeeting)
        .where(OnsiteMeeting.end_date >= today)
        .order_by(OnsiteMeeting.start_date)
    ).first()
    if upcoming is not None:
        return upcoming
    return session.exec(select(OnsiteMeeting).order_by(OnsiteMeeting.start_date.desc())).first()


def rooms_of(session: Session, meeting_id: int) -> list[OnsiteRoom]:
    return list(
        session.exec(
            select(OnsiteRoom).where(OnsiteRoom.meeting_id == meeting_id).order_by(OnsiteRoom.id)
        ).all()
    )


def blocks_of(session: Session, meeting_id: int) -> list[OnsiteBlock]:
    return list(
        session.exec(
            select(OnsiteBlock)
            .where(OnsiteBlock.meeting_id == meeting_id)
            .order_by(OnsiteBlock.start_at, OnsiteBlock.room_id)
        ).all()
    )


def block_of(session: Session, meeting_id: int, community_id: int) -> OnsiteBlock | None:
    return session.exec(
        select(OnsiteBlock).where(
            OnsiteBlock.meeting_id == meeting_id, OnsiteBlock.community_id == community_id
        )
    ).first()


def local_day(block: OnsiteBlock, zone: str) -> date:
    return block.start_at.astimezone(ZoneInfo(zone)).date()


# ---- the slot rules -------------------------------------------------------------------------
def describe(day: date, start: time, end: time) -> str:
    return f"{day:%A} {start:%H:%M}-{end:%H:%M}"


def check_slot(
    meeting: OnsiteMeeting, day: date, start: time, end: time
) -> tuple[datetime, datetime]:
    """The block's UTC start and end if `day` `start`-`end` is a valid onsite block of
    `meeting`; SlotError naming the rule otherwise."""
    what = describe(day, start, end)
    if any(t.second or t.microsecond for t in (start, end)):
        raise SlotError("start", "Give the block's times in whole minutes, like 10:00.")
    if not (meeting.start_date <= day <= meeting.end_date):
        raise SlotError(
            "day",
            f"{meeting.name} runs {meeting.start_date:%a %b %-d} to "
            f"{meeting.end_date:%a %b %-d, %Y}; {day:%a %b %-d, %Y} is outside it.",
        )
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    if minutes <= 0:
        raise SlotError("end", f"{what} ends before it starts.")
    two_hours = minutes == BLOCK_LENGTH.total_seconds() // 60
    friday_or_saturday = day.weekday() in BLOCK_DAYS
    if not (two_hours and friday_or_saturday):
        if not two_hours and not friday_or_saturday:
            why = f"is neither: {_length(minutes)}, on a {day:%A}"
        elif not two_hours:
            why = f"is {_length(minutes)}, not two hours"
        else:
            why = "is neither a Friday nor a Saturday"
        raise SlotError(
            "start" if friday_or_saturday else "day",
            f"Onsite blocks are two hours on a Friday or Saturday; {what} {why}.",
        )
    if start.minute not in (0, 30):
        raise SlotError(
            "start", f"Blocks start on the hour or half past; {start:%H:%M} is neither."
        )
    zone = ZoneInfo(meeting.timezone)
    local = datetime.combine(day, start, tzinfo=zone)
    begin = local.astimezone(UTC)
    if begin.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise SlotError("start", f"{start:%H:%M} does not exist on {day} in {meeting.timezone}.")
    return begin, begin + BLOCK_LENGTH


def _length(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if rest == 0:
        return f"{hours} hour" + ("s" if hours != 1 else "")
    return f"{minutes} minutes"


@dataclass(frozen=True)
class GridEntry:
    block: OnsiteBlock
    room: OnsiteRoom
    community: Community


def grid(session: Session, meeting: OnsiteMeeting) -> list[GridEntry]:
    """Every block of the meeting with its room and community, by time then room."""
    rows = session.exec(
        select(OnsiteBlock, OnsiteRoom, Community)
        .join(OnsiteRoom, OnsiteRoom.id == OnsiteBlock.room_id)
        .join(Community, Community.id == OnsiteBlock.community_id)
        .where(OnsiteBlock.meeting_id == meeting.id)
        .order_by(OnsiteBlock.start_at, OnsiteRoom.name)
    ).all()
    return [GridEntry(b, r, c) for b, r, c in rows]
