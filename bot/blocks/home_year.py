"""App Home for the year's deliverables: staff's table of every community (a page at a
time, with a filter, inside Slack's 100 blocks), and a leader's to-do list with deadlines
shown in the reader's own zone."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.blocks import (
    MAX_HOME_BLOCKS,
    Block,
    clip,
    context,
    divider,
    escape,
    header,
    link,
    pack_sections,
    plain,
    plural,
    section,
)
from bot.blocks.onsite import grid_lines, venue_time
from bot.services.overview import FILTERS, Row, Todo

PAGE_ACTION = "home_page"
FILTER_ACTION = "home_filter"
PAGE_SIZE = 25


def _field(label: str, value: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip(f"*{label}*\n{value}", 2000)}


def _row(r: Row, year: str) -> Block:
    """One community of staff's table: its name, then its figures in labelled fields,
    which Slack lays out in two aligned columns (the Home tab has no table block)."""
    leaders = f"{r.leaders} of 2, {plural(r.members, 'person', 'people')} in all" + (
        " :warning: *no leader*" if r.leaders == 0 else ""
    )
    calls = f"{r.calls} of 3 to 6" + (" :warning: too few" if r.calls < 3 else "")
    fields = [
        _field("Leaders", leaders),
        _field(f"Community calls {year}".strip(), calls),
        _field("Plan", f"{r.plan_done} of 7 sections"),
        _field("Onsite block", escape(r.block) if r.block else "none yet"),
        _field("Agenda", r.agenda),
        _field("Report", r.report),
        _field("Guidelines", "acknowledged" if r.guidelines else "not yet"),
    ]
    if r.failed:
        fields.append(_field("Reminders", f":x: {plural(r.failed, 'failed reminder')}"))
    if r.health:
        fields.append(_field("Health", r.health))
    return section(
        f"*{escape(r.community.name)}* <#{r.community.slack_channel_id}>", fields=fields[:10]
    )


def staff_table(rows: Sequence[Row], *, page: int, show: str, room: int, year: str) -> list[Block]:
    """The table's blocks, at most `room` of them: a page of the filtered rows; `year`
    names the program year the calls are counted in ("2026–27")."""
    show = show if show in FILTERS else "all"
    chosen = [r for r in rows if r.matches(show)]
    fixed = 4  # header, filter, page note, navigation
    size = max(1, min(PAGE_SIZE, room - fixed))
    pages = max(1, -(-len(chosen) // size))
    page = min(max(page, 0), pages - 1)
    shown = chosen[page * size : (page + 1) * size]
    options = [{"text": plain(label), "value": key} for key, label in FILTERS.items()]
    blocks: list[Block] = [
        header(f"All communities ({len(rows)})"),
        {
            "type": "actions",
            "block_id": "home_filter",
            "elements": [
                {
                    "type": "static_select",
                    "action_id": FILTER_ACTION,
                    "placeholder": plain("Show"),
                    "options": options,
                    "initial_option": next(o for o in options if o["value"] == show),
                }
            ],
        },
    ]
    blocks += [_row(r, year) for r in shown]
    if not shown:
        blocks.append(section("_No community matches._"))
    first = page * size + 1 if shown else 0
    blocks.append(
        context(
            f"{FILTERS[show]}: {first}–{page * size + len(shown)} of {len(chosen)} "
            f"(page {page + 1} of {pages})."
        )
    )
    nav = []
    for label, target in (("← Previous", page - 1), ("Next →", page + 1)):
        if 0 <= target < pages:
            nav.append(
                {
                    "type": "button",
                    "action_id": f"{PAGE_ACTION}_{'prev' if target < page else 'next'}",
                    "text": plain(label),
                    "value": json.dumps({"page": target, "show": show}),
                }
            )
    if nav:
        blocks.append({"type": "actions", "block_id": "home_nav", "elements": nav})
    return blocks[:room]


def todo_blocks(todo: Sequence[Todo], room: int = 6) -> list[Block]:
    if not todo:
        return []
    lines = []
    for t in todo:
        due = (
            f" (due <!date^{int(t.due.timestamp())}^{{date_long_pretty}}|{t.due:%Y-%m-%d}>)"
            if t.due
            else ""
        )
        lines.append(f"• *{escape(t.community.name)}*: {t.what}{due}")
    return [header("Your to-do list"), *pack_sections("", lines, room, "to-do")]


def next_calls_blocks(calls: Sequence[tuple[Any, Any]], room: int = 3) -> list[Block]:
    if not calls:
        return []
    lines = [
        f"• <!date^{int(call.start_at.timestamp())}^{{date_short_pretty}} {{time}}|"
        f"{call.start_at:%Y-%m-%d %H:%M} UTC> *{escape(community.name)}*: {escape(call.topic)}"
        + (f" · {link(call.join_url, 'join')}" if call.join_url else "")
        for community, call in calls
    ]
    return [header("Your next calls"), *pack_sections("", lines, room, "call")]


BLOCK_MENU_ACTION = "home_onsite_block"
MAX_BLOCK_MENUS = 15


def onsite_blocks(grid: Any, room: int = 4) -> list[Block]:
    """The meeting's rooms and blocks, each block once: with few blocks, each on its own
    line with a Move/Free menu (and the free rooms after them); with many, a line a room."""
    if not grid:
        return []
    meeting, rooms, entries = grid
    head = f"*{escape(meeting.name)}* ({escape(meeting.timezone)}): rooms and blocks, venue time"
    if len(entries) > MAX_BLOCK_MENUS:
        return pack_sections(head, grid_lines(meeting, rooms, entries), room, "room")
    out = [section(head)]
    order = {r.id: n for n, r in enumerate(rooms)}
    for e in sorted(entries, key=lambda e: (order.get(e.room.id, len(rooms)), e.block.start_at)):
        options = [
            {"text": plain("Move…"), "value": f"move:{e.block.id}"},
            {"text": plain("Free the block"), "value": f"free:{e.block.id}"},
        ]
        out.append(
            section(
                f"• *{escape(e.room.name)}* ({e.room.capacity} seats): "
                f"{venue_time(e.block.start_at, e.block.end_at, meeting.timezone)} "
                f"*{escape(e.community.name)}*",
                accessory={"type": "overflow", "action_id": BLOCK_MENU_ACTION, "options": options},
            )
        )
    taken = {e.room.id for e in entries}
    free = [
        f"• *{escape(r.name)}* ({r.capacity} seats): _free_" for r in rooms if r.id not in taken
    ]
    return out + pack_sections("", free, room, "free room")


def hosts_blocks(pool: Sequence[tuple[str, Sequence[tuple[Any, Any]]]], room: int) -> list[Block]:
    """Staff's view of the Zoom hosts: each host's next meetings (at most `room` blocks)."""
    if not pool or room < 2:
        return []
    lines = []
    for host, calls in pool:
        lines.append(f"*{escape(host)}*" + ("" if calls else ": _no meeting booked_"))
        lines += [
            f"    • <!date^{int(call.start_at.timestamp())}^{{date_short_pretty}} {{time}}|"
            f"{call.start_at:%Y-%m-%d %H:%M} UTC> {plural(call.duration_minutes, 'minute')} "
            f"*{escape(community.name)}*: {escape(call.topic)}"
            + ("" if call.meeting_id else " · _meeting not made yet_")
            for community, call in calls
        ]
    heading = (
        f"{plural(len(pool), 'Zoom host')}, each hosting one meeting at a time "
        "(15 minutes apart at least):"
    )
    return [header("Zoom hosts"), *pack_sections(heading, lines, room - 1, "meeting")]


def extend_home(
    view: dict[str, Any],
    *,
    rows: Sequence[Row] | None,
    todo: Sequence[Todo],
    page: int = 0,
    show: str = "all",
    calls: Sequence[tuple[Any, Any]] = (),
    onsite: Any = None,
    year: str = "",
    zoom_hosts: Sequence[tuple[str, Sequence[tuple[Any, Any]]]] = (),
) -> dict[str, Any]:
    """The home view with the leader's to-do list and the person's next calls first;
    for staff, the Annual Meeting's rooms and the table in place of the plain list of all
    communities; within 100 blocks."""
    blocks = list(view.get("blocks", []))
    # the help line, and whatever follows it (open polls, staff's announcements)
    at = next(
        (i for i in range(len(blocks) - 1, -1, -1) if "`/cop help`" in str(blocks[i])),
        len(blocks) - 1,
    )
    tail = blocks[at:]
    body = blocks[:at]
    if rows is not None:
        cut = next(
            (
                i
                for i, b in enumerate(body)
                if b.get("type") == "header"
                and b.get("text", {}).get("text", "").startswith("All communities")
            ),
            None,
        )
        if cut is not None:
            rest = [b for b in body[cut + 1 :] if "Reminders that could not be sent" in str(b)]
            body = body[: max(0, cut - 1)] + rest
    body = todo_blocks(todo) + next_calls_blocks(calls) + body
    if rows is not None:
        body += onsite_blocks(onsite)
        body += hosts_blocks(zoom_hosts, min(6, MAX_HOME_BLOCKS - len(body) - len(tail) - 30))
        room = MAX_HOME_BLOCKS - len(body) - len(tail) - 1
        body += [divider(), *staff_table(rows, page=page, show=show, room=room, year=year)]
    return {**view, "blocks": (body + tail)[:MAX_HOME_BLOCKS]}
