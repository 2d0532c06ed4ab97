"""Block Kit for a program year's plan: the sample year as a draft to edit (one topic and
date per call, the steps recorded for reminders) and what the leader is told once the
year is accepted. No I/O."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.blocks import Block, context, escape, form, input_block, join_words, plural, section
from bot.blocks.calls import duration_input
from bot.services import calls as rules
from storage.models import Community

YEAR_CALLBACK = "year_plan"


def year_modal(
    community: Community,
    first: Any,
    drafts: Sequence[Any],
    *,
    zone: str,
    milestones: Sequence[str],
    skipped_months: Sequence[str],
) -> dict[str, Any]:
    """The sample year as a draft: one topic and date per call, the milestones listed."""
    label = rules.year_label(first)
    blocks: list[Block] = [_year_intro(community, label), *_every_call_inputs(zone)]
    for d in drafts:
        blocks += _draft_call_inputs(d)
    blocks.append(_steps_section(milestones))
    if skipped_months:
        blocks.append(
            context(
                "Already past, so left out: "
                + escape(", ".join(skipped_months))
                + ". `/cop year next` drafts the next program year."
            )
        )
    return form(
        YEAR_CALLBACK,
        f"Year plan {label}",
        "Accept",
        blocks,
        json.dumps({"community": community.id, "first": first.isoformat()}),
    )


def _year_intro(community: Community, label: str) -> Block:
    return section(
        f"*A year of {escape(community.name)}, {label}*: four webinars from November "
        "to February and a wrap-up session in April, with the steps around them. "
        "Edit what you like; accepting schedules the calls and records the steps for "
        "reminders. Weekends and public holidays move to the next working day."
    )


def _every_call_inputs(zone: str) -> list[Block]:
    """What every call of the year shares: start time, time zone, length."""
    return [
        input_block(
            rules.TIME, "Start time of every call", {"type": "timepicker", "initial_time": "12:00"}
        ),
        input_block(rules.ZONE, "Time zone", {"type": "plain_text_input", "initial_value": zone}),
        duration_input("60"),
    ]


def _draft_call_inputs(draft: Any) -> list[Block]:
    """One drafted call's topic and date."""
    return [
        input_block(
            f"topic-{draft.key}",
            f"{draft.topic}: topic",
            {
                "type": "plain_text_input",
                "initial_value": draft.topic,
                "max_length": rules.MAX_TOPIC,
            },
        ),
        input_block(
            f"date-{draft.key}",
            f"{draft.topic}: date",
            {"type": "datepicker", "initial_date": draft.day.isoformat()},
        ),
    ]


def _steps_section(milestones: Sequence[str]) -> Block:
    return section(
        "*Steps recorded for reminders*\n" + "\n".join(f"• {escape(m)}" for m in milestones)
    )


def year_accepted_text(
    calls: int,
    steps: int,
    *,
    moved: Sequence[str],
    additional: Sequence[str],
    skipped: Sequence[str],
    problems: Sequence[str],
    conferencing: str = "Zoom",
    later: int = 0,
    later_reason: str = "",
) -> str:
    """What the leader is told once the year's calls are scheduled; `later` meetings wait
    for the hosts' daily limit (`later_reason` says until when)."""
    lines = [
        f"Scheduled {plural(calls, 'call')} and recorded {plural(steps, 'step')} for reminders."
    ]
    if moved:
        lines.append("Moved to a working day: " + escape("; ".join(moved)) + ".")
    if additional:
        lines.append(
            "The year already had six community calls, so "
            + (
                "this one is an additional call: "
                if len(additional) == 1
                else "these are additional calls: "
            )
            + escape(join_words(list(additional)))
            + "."
        )
    if skipped:
        lines.append("Left out, as already past: " + escape("; ".join(skipped)) + ".")
    if problems:
        count = len(problems)
        subject = (
            f"1 {conferencing} meeting is" if count == 1 else f"{count} {conferencing} meetings are"
        )
        buttons = "a Retry button" if count == 1 else "Retry buttons"
        lines.append(f"{subject} not made yet ({escape(problems[0])}); `/cop calls` has {buttons}.")
    if later:
        lines.append(
            f"{plural(later, f'{conferencing} meeting')} of these calls "
            f"{'waits' if later == 1 else 'wait'}: {escape(later_reason)}."
        )
    return " ".join(lines)
