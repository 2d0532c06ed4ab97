"""Block Kit for the Annual Meeting: the meeting and block modals, the grid of rooms and
blocks, and what a community's channel is told. Times use `<!date^…>` so each reader
sees their own zone, with a fallback in the venue's zone."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks import (
    MAX_INPUT_TEXT,
    MAX_MESSAGE_BLOCKS,
    Block,
    channel_link,
    choice,
    context,
    done_view,
    escape,
    form,
    header,
    input_block,
    link,
    mention,
    message,
    pack_sections,
    section,
)
from bot.services.onsite import BLOCK_DAYS, GridEntry
from storage.models import Community, OnsiteBlock, OnsiteMeeting, OnsiteRoom

MEETING_CALLBACK = "onsite_meeting"
ASSIGN_CALLBACK = "onsite_assign"
# block ids (each input's action id is "value")
NAME, TIMEZONE, START, END, ROOMS = "name", "timezone", "start", "end", "rooms"
COMMUNITY, ROOM, DAY = "community", "room", "day"
BLOCK_START, BLOCK_END = "start", "end"


def when(start: datetime, end: datetime, zone: str) -> str:
    """`Friday, May 7th 10:00 AM–12:00 PM` in the reader's zone; the venue's as fallback."""
    tz = ZoneInfo(zone)
    a, b = start.astimezone(tz), end.astimezone(tz)
    fallback = f"{a:%a %b %-d, %Y %H:%M}-{b:%H:%M} {a.tzname()}"
    return (
        f"<!date^{int(start.timestamp())}^{{date_long_pretty}} {{time}}|{fallback}>"
        f"–<!date^{int(end.timestamp())}^{{time}}|{b:%H:%M}>"
    )


def venue_time(start: datetime, end: datetime, zone: str) -> str:
    tz = ZoneInfo(zone)
    a, b = start.astimezone(tz), end.astimezone(tz)
    return f"{a:%a %b %-d} {a:%H:%M}-{b:%H:%M} {a.tzname()}"


def meeting_modal(meeting: OnsiteMeeting | None, rooms: Sequence[OnsiteRoom], zone: str):
    """Define the Annual Meeting: name, venue time zone, days, rooms with capacity."""

    def text(initial: str, **extra: Any) -> dict[str, Any]:
        element = {"type": "plain_text_input", **extra}
        if initial:
            element["initial_value"] = initial
        return element

    def picker(initial: date | None) -> dict[str, Any]:
        element: dict[str, Any] = {"type": "datepicker"}
        if initial:
            element["initial_date"] = initial.isoformat()
        return element

    room_lines = "\n".join(f"{r.name}: {r.capacity}" for r in rooms)
    blocks: list[Block] = [
        input_block(NAME, "Meeting name", text(meeting.name if meeting else "", max_length=120)),
        input_block(
            TIMEZONE,
            "Venue time zone",
            text(meeting.timezone if meeting else zone, max_length=64),
            hint="A name like America/Chicago: blocks are set in the venue's local time.",
        ),
        input_block(START, "First day", picker(meeting.start_date if meeting else None)),
        input_block(END, "Last day", picker(meeting.end_date if meeting else None)),
        input_block(
            ROOMS,
            "Rooms",
            text(room_lines, multiline=True, max_length=MAX_INPUT_TEXT),
            hint='One a line, with its capacity, like "Room A: 40".',
        ),
    ]
    return form(
        MEETING_CALLBACK,
        "Annual Meeting",
        "Save",
        blocks,
        json.dumps({"meeting": meeting.id if meeting else None}),
    )


def first_block_day(meeting: OnsiteMeeting) -> date:
    day = meeting.start_date
    while day.weekday() not in BLOCK_DAYS and day < meeting.end_date:
        day += timedelta(days=1)
    return day


def assign_modal(
    meeting: OnsiteMeeting,
    rooms: Sequence[OnsiteRoom],
    channel_id: str | None,
    block: OnsiteBlock | None = None,
) -> dict[str, Any]:
    """Give a community a two-hour block in a room (or move its block)."""
    options = [choice(f"{r.name} ({r.capacity} seats)", str(r.id)) for r in rooms]
    room_select: dict[str, Any] = {"type": "static_select", "options": options[:100]}
    tz = ZoneInfo(meeting.timezone)
    if block is not None:
        chosen = next((o for o in options if o["value"] == str(block.room_id)), None)
        if chosen:
            room_select["initial_option"] = chosen
        day = block.start_at.astimezone(tz).date()
        start, end = (f"{t.astimezone(tz):%H:%M}" for t in (block.start_at, block.end_at))
    else:
        day, start, end = first_block_day(meeting), "10:00", "12:00"
    community: dict[str, Any] = {
        "type": "conversations_select",
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if channel_id:
        community["initial_conversation"] = channel_id
    blocks: list[Block] = [
        section(
            f"*{escape(meeting.name)}*, {meeting.start_date:%a %b %-d} to "
            f"{meeting.end_date:%a %b %-d, %Y}. Blocks are two hours on a Friday or Saturday, "
            f"in the venue's time ({escape(meeting.timezone)})."
        ),
        input_block(COMMUNITY, "Community (its channel)", community),
        input_block(ROOM, "Room", room_select),
        input_block(DAY, "Day", {"type": "datepicker", "initial_date": day.isoformat()}),
        input_block(BLOCK_START, "Starts", {"type": "timepicker", "initial_time": start}),
        input_block(BLOCK_END, "Ends", {"type": "timepicker", "initial_time": end}),
    ]
    return form(
        ASSIGN_CALLBACK,
        "Move onsite block" if block else "Onsite block",
        "Move" if block else "Assign",
        blocks,
        json.dumps({"meeting": meeting.id, "block": block.id if block else None}),
    )


def meeting_saved_view(meeting: OnsiteMeeting, rooms: Sequence[OnsiteRoom]) -> dict[str, Any]:
    """What the meeting modal turns into once saved."""
    names = ", ".join(escape(r.name) for r in rooms[:20]) + (" …" if len(rooms) > 20 else "")
    done = (
        f":white_check_mark: Saved *{escape(meeting.name)}*: {meeting.start_date:%a %b %-d} to "
        f"{meeting.end_date:%a %b %-d, %Y}, venue time {escape(meeting.timezone)}, "
        f"{len(rooms)} room{'s' if len(rooms) != 1 else ''} ({names or 'none yet'})."
    )
    where = (
        "`/cop onsite` shows the rooms and blocks; `/cop onsite assign #channel` gives a "
        "community its two-hour block."
    )
    return done_view("Annual Meeting", done, where)


def assigned_view(
    community: Community,
    meeting: OnsiteMeeting,
    block: OnsiteBlock,
    room: OnsiteRoom,
    *,
    changed: bool,
    moved: bool,
) -> dict[str, Any]:
    """What the block modal turns into once assigned (or moved, or left as it was)."""
    name, channel = escape(community.name), channel_link(community.slack_channel_id)
    slot = f"{venue_time(block.start_at, block.end_at, meeting.timezone)} in *{escape(room.name)}*"
    if not changed:
        done = f"Nothing changed: *{name}* already has {slot}."
    elif moved:
        done = (
            f":white_check_mark: Moved the onsite block of *{name}* to {slot}; I've told {channel}."
        )
    else:
        done = f":white_check_mark: Gave *{name}* the onsite block {slot}; I've told {channel}."
    return done_view("Onsite block", done, "`/cop onsite` shows every room and block.")


def read_metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def block_announcement(
    community: Community,
    meeting: OnsiteMeeting,
    block: OnsiteBlock,
    room: OnsiteRoom,
    ics_url: str | None,
    *,
    moved: bool,
) -> dict[str, Any]:
    verb = "moved to" if moved else "is"
    name = escape(community.name)
    lines = [
        f":round_pushpin: *{name}*'s onsite meeting at *{escape(meeting.name)}* {verb} "
        f"{when(block.start_at, block.end_at, meeting.timezone)}, in *{escape(room.name)}* "
        f"({room.capacity} seats).",
        f"Venue time: {venue_time(block.start_at, block.end_at, meeting.timezone)}.",
    ]
    if ics_url:
        lines.append(link(ics_url, "Add to your calendar (.ics)"))
    lines.append(
        "Leaders: the agenda's sessions keep their times; check they fit with `/cop agenda`."
        if moved
        else "Leaders: plan its sessions with `/cop agenda`."
    )
    text = (
        f"{name}'s onsite meeting at {escape(meeting.name)} {verb} "
        f"{venue_time(block.start_at, block.end_at, meeting.timezone)} in {escape(room.name)}."
    )
    return message(text, [section("\n".join(lines))])


def freed_announcement(
    community: Community, meeting: OnsiteMeeting, block: OnsiteBlock, by: str
) -> dict[str, Any]:
    text = (
        f"{escape(community.name)}'s onsite block at {escape(meeting.name)} "
        f"({venue_time(block.start_at, block.end_at, meeting.timezone)}) was freed by "
        f"{mention(by)}; staff will assign another."
    )
    return message(text, [section(f":wastebasket: {text}")])


def grid_lines(meeting: OnsiteMeeting, rooms: Sequence[OnsiteRoom], entries: Sequence[GridEntry]):
    """One line a room: its blocks in time order (venue time)."""
    by_room: dict[int, list[GridEntry]] = {r.id: [] for r in rooms}
    for e in entries:
        by_room.setdefault(e.room.id, []).append(e)
    lines = []
    for room in rooms:
        taken = by_room.get(room.id, [])
        slots = "; ".join(
            f"{venue_time(e.block.start_at, e.block.end_at, meeting.timezone)} "
            f"*{escape(e.community.name)}*"
            for e in taken
        )
        lines.append(f"• *{escape(room.name)}* ({room.capacity} seats): {slots or '_free_'}")
    return lines


def grid_message(
    meeting: OnsiteMeeting,
    rooms: Sequence[OnsiteRoom],
    entries: Sequence[GridEntry],
    unassigned: Sequence[Community],
) -> dict[str, Any]:
    """Staff's view of the meeting: rooms and blocks, and who has none yet."""
    blocks: list[Block] = [
        header(f"{meeting.name}: onsite blocks"),
        section(
            f"{meeting.start_date:%a %b %-d} to {meeting.end_date:%a %b %-d, %Y}, venue time "
            f"{escape(meeting.timezone)}. {len(entries)} of "
            f"{len(entries) + len(unassigned)} communities have a block."
        ),
    ]
    budget = MAX_MESSAGE_BLOCKS - 1  # the help line last
    lines = grid_lines(meeting, rooms, entries)
    blocks += pack_sections("", lines, budget - len(blocks) - bool(unassigned), "room")
    if unassigned:
        waiting = [f"• {escape(c.name)}" for c in unassigned]
        room = budget - len(blocks)
        blocks += pack_sections("*No block yet:*", waiting, room, "community", "communities")
    blocks.append(
        context(
            "`/cop onsite assign #channel` gives a block · `/cop onsite move #channel` moves it · "
            "`/cop onsite free #channel` frees it · `/cop onsite meeting` changes the meeting."
        )
    )
    text = f"{escape(meeting.name)}: {len(entries)} onsite block(s) assigned."
    return {"response_type": "ephemeral", **message(text, blocks)}


def community_block_message(
    community: Community,
    meeting: OnsiteMeeting | None,
    block: OnsiteBlock | None,
    room: OnsiteRoom | None,
) -> dict[str, Any]:
    if meeting is None:
        text = "The Annual Meeting has not been set up yet; staff will assign onsite blocks."
    elif block is None or room is None:
        text = (
            f"*{escape(community.name)}* has no onsite block at *{escape(meeting.name)}* yet; "
            "staff assign them."
        )
    else:
        text = (
            f"*{escape(community.name)}* meets at *{escape(meeting.name)}* "
            f"{when(block.start_at, block.end_at, meeting.timezone)} in *{escape(room.name)}*."
        )
    return {"response_type": "ephemeral", **message(text, [section(text)])}


def agenda_reopened_notice(
    community: Community, meeting: OnsiteMeeting, *, freed: bool
) -> dict[str, Any]:
    """To the community's channel (its leaders): the submitted agenda is a draft again."""
    why = "its block was freed" if freed else "its block moved to another time"
    text = (
        f":warning: The onsite agenda of *{escape(community.name)}* for {escape(meeting.name)} "
        f"is a draft again: {why}, and its sessions were planned for the old time. Leaders: "
        "fit the sessions to the block with `/cop agenda` and submit it to staff again."
    )
    return message(text, [section(text)])
