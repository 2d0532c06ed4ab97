"""Block Kit for `/cop resources`: the organisation's guides and guidelines, this
community's recordings and slides, and the leaders' acknowledgement button."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.blocks import (
    MAX_MESSAGE_BLOCKS,
    Block,
    context,
    escape,
    header,
    link,
    mention,
    message,
    pack_sections,
    plain,
    section,
)
from bot.blocks.after_call import deletion_note
from bot.services.recordings import ArchivedCall
from bot.services.resources import Section
from storage.models import Community, ResourceAck

ACK_ACTION = "resources_ack"


def resources_message(
    community: Community | None,
    sections: Sequence[Section],
    archived: Sequence[ArchivedCall],
    ack: ResourceAck | None,
    *,
    may_ack: bool,
    year_label: str,
) -> dict[str, Any]:
    blocks: list[Block] = [header("Resources")]
    for s in sections:
        title = f"*{escape(s.title)}*" + (" _(leaders acknowledge these)_" if s.guidelines else "")
        blocks += pack_sections(title, _item_lines(s), 1, "resource")
    if community is not None:
        heading = f"*Recordings, slides and readings of {escape(community.name)}*"
        # room for the archive: what the message allows after the acknowledgement's 2
        room = MAX_MESSAGE_BLOCKS - len(blocks) - 2
        blocks += pack_sections(heading, _archive_lines(archived), room, "call")
        blocks += _acknowledgement(community, ack, may_ack=may_ack, year_label=year_label)
    text = "Resources: " + ", ".join(escape(s.title) for s in sections) + "."
    return {"response_type": "ephemeral", **message(text, blocks)}


def _item_lines(s: Section) -> list[str]:
    lines = []
    for item in s.items:
        line = f"• {link(item.url, item.title)}"
        if item.description:
            line += f": {escape(item.description)}"
        lines.append(line)
    return lines


def _archive_lines(archived: Sequence[ArchivedCall]) -> list[str]:
    """The community's last 20 calls with their recordings, slides and readings."""
    lines = []
    for entry in archived[:20]:
        parts = [
            link(item.url, item.title or item.kind) + deletion_note(item) for item in entry.items
        ]
        call = entry.call
        lines.append(f"• {call.start_at:%Y-%m-%d} {escape(call.topic)}: " + ", ".join(parts))
    return lines or [
        "_None yet: recordings come from Zoom after each call, and leaders add "
        "slides and readings with the call's Add slides button._"
    ]


def _acknowledgement(
    community: Community, ack: ResourceAck | None, *, may_ack: bool, year_label: str
) -> list[Block]:
    """Who acknowledged the guidelines this program year, or the leaders' button to."""
    if ack is not None:
        return [
            context(
                f":white_check_mark: {mention(ack.acknowledged_by)} acknowledged the "
                f"guidelines for {year_label}."
            )
        ]
    if not may_ack:
        return []
    button = {
        "type": "button",
        "action_id": ACK_ACTION,
        "style": "primary",
        "text": plain("We follow the guidelines"),
        "value": str(community.id),
    }
    return [
        {"type": "actions", "block_id": "resources_ack", "elements": [button]},
        context(f"Leaders acknowledge the guidelines once each program year ({year_label})."),
    ]


def ack_status(
    year_label: str, rows: Sequence[tuple[Community, ResourceAck | None]]
) -> dict[str, Any]:
    done = sum(1 for _c, a in rows if a is not None)
    lines = [
        (f":white_check_mark: *{escape(c.name)}*: {mention(a.acknowledged_by)}" if a else
         f":hourglass: *{escape(c.name)}*: not yet")
        for c, a in rows
    ]  # fmt: skip
    blocks: list[Block] = [
        section(f"*Guidelines acknowledged for {year_label}:* {done} of {len(rows)} communities")
    ]
    room = MAX_MESSAGE_BLOCKS - len(blocks)
    blocks += pack_sections("", lines, room, "community", "communities")
    text = f"Guidelines acknowledged for {year_label}: {done} of {len(rows)} communities."
    return {"response_type": "ephemeral", **message(text, blocks)}
