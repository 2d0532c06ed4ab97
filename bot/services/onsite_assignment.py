"""Giving a community its onsite block, moving it and freeing it (the meeting, its rooms
and the slot rules: `bot.services.onsite`).

The database decides who gets a room: a block holds its room's quarter-hours as rows whose
primary key is (room, start), so two blocks can never hold the same time, and a community
has at most one block a meeting (a unique constraint). A refusal is a `SlotError` naming
the field and the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.services.onsite import SlotError, block_of, check_slot
from storage.models import (
    Community,
    OnsiteAgenda,
    OnsiteBlock,
    OnsiteMeeting,
    OnsiteRoom,
    OnsiteRoomSlot,
    utcnow,
)

# A room's time is held in quarter-hour cells of UTC (every zone's offset is a whole number
# of quarter hours, so a block starting on a venue's hour or half hour covers exactly its
# eight cells): a block holds every cell its time touches, whatever the times given, so two
# blocks that overlap in a room by any instant share a cell and the key refuses the second.
CELL = timedelta(minutes=15)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


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
                block = _new_block(session, meeting, community, room, begin, finish, user_id)
                moved_from = None
            else:
                block = existing
                moved_from, reopened = _move_block(
                    session, meeting, block, room, begin, finish, user_id
                )
            session.add_all(_cells(room.id, block.id, begin, finish))
            session.flush()
    except IntegrityError:
        raise _room_taken(session, room, begin, finish, meeting.timezone) from None
    return Assignment(block, room, True, moved_from, agenda_reopened=reopened)


def _new_block(
    session: Session,
    meeting: OnsiteMeeting,
    community: Community,
    room: OnsiteRoom,
    begin: datetime,
    finish: datetime,
    user_id: str,
) -> OnsiteBlock:
    """The community's first block; SlotError when another staff member gave it one just now."""
    block = OnsiteBlock(
        meeting_id=meeting.id, community_id=community.id, room_id=room.id,
        start_at=begin, end_at=finish, assigned_by=user_id,
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(block)
            session.flush()
    except IntegrityError:
        # another staff member gave this community a block just now
        session.expire_all()
        other = block_of(session, meeting.id, community.id)
        raise SlotError("community", _already(session, community, other, meeting)) from None
    return block


def _move_block(
    session: Session,
    meeting: OnsiteMeeting,
    block: OnsiteBlock,
    room: OnsiteRoom,
    begin: datetime,
    finish: datetime,
    user_id: str,
) -> tuple[tuple[datetime, str], bool]:
    """Move `block` to `room` at `begin`-`finish`: where it was, and whether a submitted
    agenda went back to draft (its sessions' times were planned for the old one)."""
    old_room = session.get(OnsiteRoom, block.room_id)
    moved_from = (block.start_at, old_room.name if old_room else "?")
    reopened = False
    if block.start_at != begin:  # the sessions' times were planned for the old one
        reopened = reopen_agenda(session, block.community_id, meeting.year)
    session.execute(delete(OnsiteRoomSlot).where(OnsiteRoomSlot.block_id == block.id))
    block.room_id, block.start_at, block.end_at = room.id, begin, finish
    block.sequence += 1
    block.assigned_by, block.updated_at = user_id, utcnow()
    session.add(block)
    session.flush()
    return moved_from, reopened


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
