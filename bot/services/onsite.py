"""The Annual Meeting and each community's onsite block: two hours on a Friday or
Saturday of the meeting, in one of its rooms.

The database decides who gets a room: a block holds its room's half-hours as rows whose
primary key is (room, start), so two blocks can never hold the same half-hour, and a
community has at most one block a meeting (a unique constraint). A refusal is a
`SlotError` naming the field and the rule.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.services import CopError
from bot.zones import ZoneError, parse_zone
from storage.models import (
    Community,
    OnsiteAgenda,
    OnsiteBlock,
    OnsiteMeeting,
    OnsiteRoom,
    OnsiteRoomSlot,
    utcnow,
)

BLOCK_LENGTH = timedelta(hours=2)
# A room's time is held in quarter-hour cells of UTC (every zone's offset is a whole number
# of quarter hours, so a block starting on a venue's hour or half hour covers exactly its
# eight cells): a block holds every cell its time touches, whatever the times given, so two
# blocks that overlap in a room by any instant share a cell and the key refuses the second.
CELL = timedelta(minutes=15)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
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
class Assignment:
    block: OnsiteBlock
    room: OnsiteRoom
    changed: bool  # False when the same block was already there (a replay)
    moved_from: tuple[datetime, str] | None = None  # (old start, old room) on a move
    agenda_reopened: bool = False  # a submitted agenda went back to draft (its time moved)


@dataclass(frozen=True)
class Freed:
    block: OnsiteBlock
    agenda_reopened: bool  # a submitted agenda went back to draft (it has no block now)


def reopen_agenda(session: Session, community_id: int, year: int) -> bool:
    """A submitted agenda whose block moved or was freed goes back to draft, so leaders
    fit its sessions to the new time and submit it again (one conditional update: the
    database decides, and a replay finds nothing to reopen)."""
    won = session.execute(
        update(OnsiteAgenda)
        .where(
            OnsiteAgenda.community_id == community_id,
            OnsiteAgenda.year == year,
            OnsiteAgenda.state == "submitted",
        )
        .values(state="draft", submitted_at=None, submitted_by=None, updated_at=utcnow())
        .returning(OnsiteAgenda.id)
        .execution_options(synchronize_session=False)
    ).first()
    return won is not None


def cell_starts(start: datetime, end: datetime) -> list[datetime]:
    """The quarter-hour cells of UTC that `start`-`end` touches."""
    cell = _EPOCH + ((start - _EPOCH) // CELL) * CELL
    found = []
    while cell < end:
        found.append(cell)
        cell += CELL
    return found


def _cells(room_id: int, block_id: int, start: datetime, end: datetime) -> list[OnsiteRoomSlot]:
    return [
        OnsiteRoomSlot(room_id=room_id, starts_at=at, block_id=block_id)
        for at in cell_starts(start, end)
    ]


def _room_taken(session: Session, room: OnsiteRoom, start: datetime, end: datetime, zone: str):
    holder = session.exec(
        select(OnsiteBlock, Community.name)
        .join(Community, Community.id == OnsiteBlock.community_id)
        .where(
            OnsiteBlock.room_id == room.id,
            OnsiteBlock.start_at < end,
            OnsiteBlock.end_at > start,
        )
    ).first()
    who = ""
    if holder is not None:
        block, name = holder
        local = block.start_at.astimezone(ZoneInfo(zone))
        end_local = block.end_at.astimezone(ZoneInfo(zone))
        who = f" ({name}, {local:%A %H:%M}-{end_local:%H:%M})"
    return SlotError("room", f"{room.name} is already taken at an overlapping time{who}.")


def assign(
    session: Session,
    meeting: OnsiteMeeting,
    community: Community,
    room_id: int,
    day: date,
    start: time,
    end: time,
    user_id: str,
    *,
    move: bool = False,
) -> Assignment:
    """Give `community` a block (or, with `move`, move its block). SlotError on a rule."""
    room = session.get(OnsiteRoom, room_id)
    if room is None or room.meeting_id != meeting.id:
        raise SlotError("room", "Choose one of the meeting's rooms.")
    begin, finish = check_slot(meeting, day, start, end)
    existing = session.exec(
        select(OnsiteBlock)
        .where(OnsiteBlock.meeting_id == meeting.id, OnsiteBlock.community_id == community.id)
        .with_for_update()
    ).first()
    if existing is not None and (existing.room_id, existing.start_at) == (room.id, begin):
        return Assignment(existing, room, changed=False)
    if existing is not None and not move:
        raise SlotError("community", _already(session, community, existing, meeting))
    if existing is None and move:
        raise SlotError("community", f"{community.name} has no block to move; assign one.")
    reopened = False
    try:
        with session.begin_nested():
            if existing is None:
                block = OnsiteBlock(
                    meeting_id=meeting.id, community_id=community.id, room_id=room.id,
                    start_at=begin, end_at=finish, assigned_by=user_id,
                )  # fmt: skip
                moved_from = None
                try:
                    with session.begin_nested():
                        session.add(block)
                        session.flush()
                except IntegrityError:
                    # another staff member gave this community a block just now
                    session.expire_all()
                    other = block_of(session, meeting.id, community.id)
                    raise SlotError(
                        "community", _already(session, community, other, meeting)
                    ) from None
            else:
                block = existing
                old_room = session.get(OnsiteRoom, block.room_id)
                moved_from = (block.start_at, old_room.name if old_room else "?")
                if block.start_at != begin:  # the sessions' times were planned for the old one
                    reopened = reopen_agenda(session, community.id, meeting.year)
                session.execute(delete(OnsiteRoomSlot).where(OnsiteRoomSlot.block_id == block.id))
                block.room_id, block.start_at, block.end_at = room.id, begin, finish
                block.sequence += 1
                block.assigned_by, block.updated_at = user_id, utcnow()
                session.add(block)
                session.flush()
            session.add_all(_cells(room.id, block.id, begin, finish))
            session.flush()
    except IntegrityError:
        raise _room_taken(session, room, begin, finish, meeting.timezone) from None
    return Assignment(block, room, True, moved_from, agenda_reopened=reopened)


def _already(session: Session, community: Community, block: OnsiteBlock | None, meeting) -> str:
    if block is None:
        return f"{community.name} already has a block."
    room = session.get(OnsiteRoom, block.room_id)
    zone = ZoneInfo(meeting.timezone)
    local, end = block.start_at.astimezone(zone), block.end_at.astimezone(zone)
    return (
        f"{community.name} already has a block ({local:%A %H:%M}-{end:%H:%M} in "
        f"{room.name if room else '?'}); one block a community. Use "
        "`/cop onsite move #channel` to move it."
    )


def free(session: Session, meeting: OnsiteMeeting, community: Community) -> Freed | None:
    """Remove the community's block (a submitted agenda goes back to draft); None when it
    had none (already freed)."""
    block = session.exec(
        select(OnsiteBlock)
        .where(OnsiteBlock.meeting_id == meeting.id, OnsiteBlock.community_id == community.id)
        .with_for_update()
    ).first()
    if block is None:
        return None
    session.execute(delete(OnsiteRoomSlot).where(OnsiteRoomSlot.block_id == block.id))
    session.execute(delete(OnsiteBlock).where(OnsiteBlock.id == block.id))
    session.flush()
    return Freed(block, reopen_agenda(session, community.id, meeting.year))


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
