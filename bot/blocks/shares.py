"""Block Kit for shared learning opportunities: the card posted to the channel and the
monthly digest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.blocks import Block, context, escape, link, mention, message, plural, section
from storage.models import Community, Share


def _details(share: Share) -> str:
    parts = []
    if share.event_date:
        parts.append(f":date: {share.event_date:%a %b %-d, %Y}")
    if share.region:
        parts.append(f":round_pushpin: {escape(share.region)}")
    return " · ".join(parts)


def share_card(share: Share) -> dict[str, Any]:
    blocks: list[Block] = [
        section(
            f":books: {mention(share.shared_by)} shared a learning opportunity: "
            f"{link(share.url, share.url)}" + (f"\n>{escape(share.note)}" if share.note else "")
        )
    ]
    if details := _details(share):
        blocks.append(context(details))
    text = f"{mention(share.shared_by)} shared a learning opportunity: {escape(share.url)}"
    return message(text, blocks)


def digest(community: Community, month_label: str, shares: Sequence[Share]) -> dict[str, Any]:
    lines = [
        f"*Learning opportunities shared in {escape(community.name)} in {month_label}* "
        f"({plural(len(shares), 'link')})"
    ]
    for s in shares[:40]:
        line = f"• {link(s.url, s.note[:80] or s.url)} (shared by {mention(s.shared_by)})"
        if details := _details(s):
            line += f" {details}"
        lines.append(line)
    what = plural(len(shares), "learning opportunity", "learning opportunities")
    text = f"{what} shared in {escape(community.name)} in {month_label}."
    return message(text, [section("\n".join(lines)[:2900])])
