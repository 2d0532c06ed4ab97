"""Block Kit for the annual progress report: the modal (what copbot knows, then the
leaders' words), what staff are told, and staff's list of who has submitted."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.blocks import (
    Block,
    channel_link,
    clip,
    done_view,
    escape,
    header,
    input_block,
    mention,
    message,
    plain,
    plural,
    section,
)
from bot.services.reports import SUBMITTED, Facts
from storage.models import Community, ProgressReport

REPORT_CALLBACK = "progress_report"
RESULTS, CELEBRATIONS, PRACTICE, ACTION = "results", "celebrations", "practice", "action"
DRAFT_CHOICE, SUBMIT_CHOICE = "draft", "submit"


def facts_text(known: Facts) -> str:
    warn = " :warning:" if known.calls_total < 3 else ""
    return "\n".join(
        [
            f"*Program year {known.year}: what copbot knows*",
            f"• Purpose: {clip(escape(known.purpose), 600) or '_not written yet_'}",
            f"• Evidence planned: {clip(escape(known.evidence_plan), 600) or '_not written yet_'}",
            f"• Community calls: {known.calls_held} held, {known.calls_scheduled} scheduled "
            f"({known.calls_total} of 3–6){warn}",
            f"• Recordings archived: {known.recordings}",
            f"• Attendance: {escape(known.attended) or '_not read yet_'}",
            f"• Onsite meeting: {escape(known.onsite)}; agenda {known.agenda}",
            f"• Evidence log: {plural(known.evidence_items, 'item')}",
            f"• Learning opportunities shared: {known.shares}",
        ]
    )


def report_modal(
    community: Community, year: int, known: Facts, report: ProgressReport | None
) -> dict[str, Any]:
    def area(initial: str) -> dict[str, Any]:
        element: dict[str, Any] = {"type": "plain_text_input", "multiline": True}
        element["max_length"] = 3000
        if initial:
            element["initial_value"] = initial
        return element

    blocks: list[Block] = [
        section(f"*{escape(community.name)}*: annual progress report"),
        section(facts_text(known)),
        input_block(
            RESULTS,
            "Results",
            area(report.results if report else ""),
            optional=True,
            hint="What the community achieved against its purpose, with the evidence.",
        ),
        input_block(
            CELEBRATIONS,
            "Celebrations",
            area(report.celebrations if report else ""),
            optional=True,
            hint="How you celebrated, or will celebrate, what the community did.",
        ),
        input_block(
            PRACTICE,
            "Connection to professional practice",
            area((report.practice if report else "") or known.practice_draft),
            optional=True,
            hint="How what members learned shows in their practice.",
        ),
    ]
    if report is not None and report.state == SUBMITTED:
        blocks.insert(1, section(":white_check_mark: Submitted; what you save now updates it."))
    else:
        options = [
            {"text": plain("Save as a draft"), "value": DRAFT_CHOICE},
            {"text": plain("Submit to staff"), "value": SUBMIT_CHOICE},
        ]
        blocks.append(
            input_block(
                ACTION,
                "When you save",
                {"type": "radio_buttons", "options": options, "initial_option": options[0]},
            )
        )
    return {
        "type": "modal",
        "callback_id": REPORT_CALLBACK,
        "title": plain("Progress report", 24),
        "submit": plain("Save", 24),
        "close": plain("Cancel", 24),
        "private_metadata": json.dumps({"community": community.id, "year": year}),
        "blocks": blocks,
    }


def saved_view(
    community: Community, year_label: str, *, state: str, newly_submitted: bool
) -> dict[str, Any]:
    """What the report modal turns into once saved: as a draft, submitted, or updated."""
    name = escape(community.name)
    if newly_submitted:
        done = (
            f":inbox_tray: Submitted the {year_label} progress report of *{name}*; "
            "staff have been told."
        )
    elif state == SUBMITTED:
        done = (
            f":white_check_mark: Updated the submitted {year_label} progress report of "
            f"*{name}*; staff see this version."
        )
    else:
        done = (
            f":floppy_disk: Saved the {year_label} progress report of *{name}* as a draft. "
            "Staff do not see it yet: choose *Submit to staff* when it is ready."
        )
    where = (
        f"`/cop report` in {channel_link(community.slack_channel_id)} opens it again; "
        "`/cop report export` sends it to you as a Markdown file."
    )
    return done_view("Progress report", done, where)


def read_metadata(view: dict[str, Any]) -> tuple[int, int] | None:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
        cid, year = meta["community"], meta["year"]
    except (ValueError, KeyError, TypeError):
        return None
    if all(isinstance(v, int) and not isinstance(v, bool) for v in (cid, year)):
        return cid, year
    return None


def submitted_notice(community: Community, year_label: str, by: str) -> dict[str, Any]:
    text = f"{mention(by)} submitted the {year_label} progress report of {escape(community.name)}."
    return message(text, [section(f":inbox_tray: {text} `copbot export reports` collects them.")])


def status_message(
    year_label: str, rows: Sequence[tuple[Community, ProgressReport | None]]
) -> dict[str, Any]:
    done = sum(1 for _c, r in rows if r is not None and r.state == SUBMITTED)
    lines = []
    for c, r in rows:
        state = "submitted" if r and r.state == SUBMITTED else ("draft" if r else "not started")
        mark = ":white_check_mark:" if state == "submitted" else ":hourglass:"
        lines.append(f"{mark} *{escape(c.name)}*: {state}")
    blocks: list[Block] = [
        header(f"Progress reports {year_label}"),
        section(f"{done} of {len(rows)} communities have submitted."),
    ]
    chunk = ""
    for line in lines:
        if len(chunk) + len(line) + 1 > 2900:
            blocks.append(section(chunk))
            chunk = ""
        chunk += ("\n" if chunk else "") + line
    if chunk:
        blocks.append(section(chunk))
    text = f"Progress reports {year_label}: {done} of {len(rows)} submitted."
    return {"response_type": "ephemeral", **message(text, blocks[:49])}
