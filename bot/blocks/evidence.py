"""Block Kit for the evidence log: the list with Remove buttons for leaders."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.blocks import Block, context, escape, link, mention, message, plain, plural, section
from bot.services.evidence import BY_COPBOT
from storage.models import Community, Evidence

SHORTCUT_CALLBACK = "save_evidence"
REMOVE_ACTION = "evidence_remove"


def _line(item: Evidence) -> str:
    when = f"<!date^{int(item.added_at.timestamp())}^{{date_short}}|{item.added_at:%Y-%m-%d}>"
    text = escape(item.text if len(item.text) <= 280 else item.text[:279] + "…")
    source = f" · {link(item.permalink, 'message')}" if item.permalink else ""
    by = f"{mention(item.author)}, " if item.author and item.author != item.added_by else ""
    adder = "copbot" if item.added_by == BY_COPBOT else mention(item.added_by)
    return f"{text}\n{by}added by {adder} on {when}{source}"


def evidence_list(
    community: Community, items: Sequence[Evidence], total: int, *, may_remove: bool
) -> dict[str, Any]:
    name = escape(community.name)
    blocks: list[Block] = [
        section(f"*Evidence log of {name}*: {plural(total, 'item')}"),
    ]
    for item in items:
        extra: dict[str, Any] = {}
        if may_remove:
            extra["accessory"] = {
                "type": "button",
                "action_id": REMOVE_ACTION,
                "text": plain("Remove"),
                "value": str(item.id),
                "confirm": {
                    "title": plain("Remove this item?"),
                    "text": plain("It leaves the evidence log (the Slack message stays)."),
                    "confirm": plain("Remove"),
                    "deny": plain("Keep"),
                },
            }
        blocks.append(section(_line(item), **extra))
    if total > len(items):
        blocks.append(context(f"The latest {len(items)} of {total} are shown."))
    if not items:
        blocks.append(
            section(
                "Nothing yet. Use the message shortcut *Save as evidence* on a message, or "
                "`/cop evidence <note>`."
            )
        )
    text = f"Evidence log of {name}: {plural(total, 'item')}."
    return {"response_type": "ephemeral", **message(text, blocks)}
