"""Block Kit for shared learning opportunities: the card posted to the channel and the
monthly digest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.blocks import (
    MAX_BUTTON_URL,
    MAX_FALLBACK_TEXT,
    MAX_MESSAGE_BLOCKS,
    MAX_SECTION_TEXT,
    Block,
    clip,
    context,
    escape,
    link,
    mention,
    message,
    pack_sections,
    plain,
    plural,
    safe_url,
    text_sections,
)
from storage.models import Community, Share

LABEL = 80  # a link's label: the note's first words, or the address shortened
OPEN_ACTION = "share_open"  # a link button: Slack opens the address, copbot only acks


def _details(share: Share) -> str:
    parts = []
    if share.event_date:
        parts.append(f":date: {share.event_date:%a %b %-d, %Y}")
    if share.region:
        parts.append(f":round_pushpin: {escape(share.region)}")
    return " · ".join(parts)


def share_card(share: Share) -> dict[str, Any]:
    """The card in the channel. An address too long to be a link in a section (3,000
    characters, escapes included) shows shortened, with a button that opens it."""
    linked = link(share.url, clip(share.url, LABEL))
    too_long = len(linked) > MAX_SECTION_TEXT // 2
    card = (
        f":books: {mention(share.shared_by)} shared a learning opportunity: "
        f"{escape(clip(share.url, LABEL)) if too_long else linked}"
        + (f"\n>{escape(share.note)}" if share.note else "")
    )
    blocks: list[Block] = text_sections(card)
    if too_long and safe_url(share.url) and len(share.url) <= MAX_BUTTON_URL:
        button = {"type": "button", "action_id": OPEN_ACTION, "text": plain("Open the link")}
        blocks.append({"type": "actions", "elements": [{**button, "url": share.url}]})
    if details := _details(share):
        blocks.append(context(details))
    text = f"{mention(share.shared_by)} shared a learning opportunity: {escape(share.url)}"
    text = clip(text, MAX_FALLBACK_TEXT)
    return message(text, blocks)


def digest(community: Community, month_label: str, shares: Sequence[Share]) -> dict[str, Any]:
    heading = (
        f"*Learning opportunities shared in {escape(community.name)} in {month_label}* "
        f"({plural(len(shares), 'link')})"
    )
    lines = []
    for s in shares:
        label = clip(s.note or s.url, LABEL)
        line = f"• {link(s.url, label)} (shared by {mention(s.shared_by)})"
        if details := _details(s):
            line += f" {details}"
        lines.append(line)
    what = plural(len(shares), "learning opportunity", "learning opportunities")
    text = f"{what} shared in {escape(community.name)} in {month_label}."
    return message(text, pack_sections(heading, lines, MAX_MESSAGE_BLOCKS, "link"))
