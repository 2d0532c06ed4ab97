"""Block Kit for a poll's results: posted in its thread when it closes, with each
community's voters for a poll asked in several, and their total once every one of them
has closed. No I/O; what people typed is escaped."""

from __future__ import annotations

from typing import Any

from bot.blocks import (
    MAX_FALLBACK_TEXT,
    clip,
    context,
    divider,
    escape,
    message,
    pack_sections,
    plural,
    section,
)
from bot.blocks.polls import bar
from bot.services import polls as rules


def _tally_lines(t: rules.Tally) -> list[str]:
    total = sum(t.counts.values())
    ranked = sorted(t.options, key=lambda o: (-t.counts.get(o.id, 0), o.position))
    lines = []
    for option in ranked:
        count = t.counts.get(option.id, 0)
        share = f"{round(100 * count / total)}%" if total else "0%"
        lines.append(f"`{bar(count, total)}` *{escape(option.label)}*: {count} ({share})")
    return lines


def _total_section(tallies: list[rules.Tally]) -> dict[str, Any]:
    """The total of a poll asked in several communities (every one of them closed)."""
    totals: dict[str, int] = {}
    for t in tallies:
        for option in t.options:
            totals[option.label] = totals.get(option.label, 0) + t.counts.get(option.id, 0)
    voters = sum(t.voters for t in tallies)
    all_votes = sum(totals.values())
    lines = [
        f"`{bar(n, all_votes)}` *{escape(label)}*: {n}"
        for label, n in sorted(totals.items(), key=lambda kv: -kv[1])
    ]
    return pack_sections(f"*In total* ({plural(voters, 'voter')}):", lines, 1, "option")[0]


def results_message(
    tallies: list[rules.Tally], this: rules.Tally, *, with_total: bool = False
) -> dict[str, Any]:
    """Posted in the poll's thread when it closes: its results, and for a poll asked in
    several communities, each closed community's voters (an open one's figures stay
    unseen, hidden results or not) and, `with_total`, the total of all of them."""
    question = escape(this.poll.question)
    blocks = [
        section(f":checkered_flag: *The poll closed.* {question}"),
        section("\n".join(_tally_lines(this)) + f"\n{plural(this.voters, 'voter')}"),
    ]
    if len(tallies) > 1:
        per = [
            f"*{escape(t.community.name)}*: "
            + (plural(t.voters, "voter") if t.poll.state == "closed" else "still open")
            for t in tallies[:20]
        ]
        if len(tallies) > 20:
            per.append(f"and {len(tallies) - 20} more")
        blocks.append(divider())
        blocks.append(
            section(
                f"Asked in {plural(len(tallies), 'community', 'communities')}:\n" + "\n".join(per)
            )
        )
        if with_total:
            blocks.append(_total_section(tallies))
        elif any(t.poll.state != "closed" for t in tallies):
            blocks.append(
                context("The total of all of them comes in this thread once each has closed.")
            )
    text = f"The poll closed: {question} ({plural(this.voters, 'voter')})"
    return message(clip(text, MAX_FALLBACK_TEXT), blocks)


def total_message(tallies: list[rules.Tally]) -> dict[str, Any]:
    """Posted in the thread of each poll of a group that closed before the last one."""
    question = escape(tallies[0].poll.question)
    head = f":checkered_flag: *All {len(tallies)} communities have closed* {question}"
    text = f"All {len(tallies)} communities have closed: {question}"
    return message(clip(text, MAX_FALLBACK_TEXT), [section(head), _total_section(tallies)])
