"""Block Kit for the annual progress report: the modal (what copbot knows, then the
leaders' words), what staff are told, and staff's list of who has submitted."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.blocks import (
    MAX_INPUT_TEXT,
    MAX_MESSAGE_BLOCKS,
    MAX_MODAL_TITLE,
    MAX_OPTION_TEXT,
    Block,
    channel_link,
    clip,
    context,
    done_view,
    draft_or_submit_input,
    escape,
    form,
    header,
    input_block,
    mention,
    message,
    pack_sections,
    plain,
    plural,
    section,
    text_sections,
)
from bot.blocks.announcements import neutralise
from bot.services.reports import SUBMITTED, Facts
from storage.models import Community, ProgressReport

REPORT_CALLBACK = "progress_report"
READ_ACTION = "report_read"
FILE_ACTION = "report_file"
PAGE_ACTION = "report_page"  # + "_prev" / "_next"
PAGE_CHARS = 6000  # of text on one page of the read-only report (about two screens)
PAGE_BLOCKS = 40
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
        element["max_length"] = MAX_INPUT_TEXT
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
        blocks.append(draft_or_submit_input(ACTION, DRAFT_CHOICE, SUBMIT_CHOICE))
    return form(
        REPORT_CALLBACK,
        "Progress report",
        "Save",
        blocks,
        json.dumps({"community": community.id, "year": year}),
    )


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
            f":memo: Saved the {year_label} progress report of *{name}* as a draft. "
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


def _buttons(report_id: int, *more: dict[str, Any]) -> dict[str, Any]:
    file_button = {
        "type": "button",
        "action_id": FILE_ACTION,
        "text": plain("Send me the Markdown file", MAX_OPTION_TEXT),
        "value": str(report_id),
    }
    return {"type": "actions", "elements": [*more, file_button]}


def submitted_notice(
    community: Community, year_label: str, by: str, report_id: int
) -> dict[str, Any]:
    """What staff are told: who submitted, a button that opens the report in Slack and
    one that sends it as a Markdown file."""
    text = f"{mention(by)} submitted the {year_label} progress report of {escape(community.name)}."
    read = {
        "type": "button",
        "action_id": READ_ACTION,
        "text": plain("Read the report", MAX_OPTION_TEXT),
        "style": "primary",
        "value": str(report_id),
    }
    return message(
        text,
        [
            section(f":inbox_tray: {text}"),
            _buttons(report_id, read),
            context("`copbot export reports` collects every community's report."),
        ],
    )


def _report_blocks(
    community: Community, report: ProgressReport, known: Facts | None, year_label: str
) -> list[Block]:
    state = "submitted" if report.state == SUBMITTED else "a draft"
    head = f"*{escape(community.name)}*: progress report {year_label}, {state}"
    if report.submitted_by and report.submitted_at:
        at = report.submitted_at
        head += (
            f" (submitted by {mention(report.submitted_by)} on "
            f"<!date^{int(at.timestamp())}^{{date_long}}|{at:%Y-%m-%d}>)"
        )
    out: list[Block] = [section(head)]
    if known is not None:
        out.append(section(facts_text(known)))
    for label, text in (
        ("Results", report.results),
        ("Celebrations", report.celebrations),
        ("Connection to professional practice", report.practice),
    ):
        out.append(section(f"*{label}*"))
        out += text_sections(neutralise(text)) if text.strip() else [section("_Nothing written._")]
    return out


def report_pages(
    community: Community, report: ProgressReport, known: Facts | None, year_label: str
) -> list[list[Block]]:
    """The report read-only, in pages of at most PAGE_CHARS characters of text and
    PAGE_BLOCKS blocks (a view holds 100), each block whole."""
    pages: list[list[Block]] = [[]]
    size = 0
    for block in _report_blocks(community, report, known, year_label):
        length = len(block["text"]["text"])
        if pages[-1] and (size + length > PAGE_CHARS or len(pages[-1]) >= PAGE_BLOCKS):
            pages.append([])
            size = 0
        pages[-1].append(block)
        size += length
    return pages


def read_view(
    community: Community,
    report: ProgressReport,
    known: Facts | None,
    year_label: str,
    page: int = 0,
) -> dict[str, Any]:
    """The report in a modal, one page at a time, with Previous/Next and the file."""
    pages = report_pages(community, report, known, year_label)
    page = min(max(page, 0), len(pages) - 1)
    nav = [
        {
            "type": "button",
            "action_id": f"{PAGE_ACTION}_{name}",
            "text": plain(label, MAX_OPTION_TEXT),
            "value": f"{report.id}:{target}",
        }
        for name, label, target in (("prev", "← Previous", page - 1), ("next", "Next →", page + 1))
        if 0 <= target < len(pages)
    ]
    blocks = [*pages[page], context(f"Page {page + 1} of {len(pages)}"), _buttons(report.id, *nav)]
    return {
        "type": "modal",
        "title": plain("Progress report", MAX_MODAL_TITLE),
        "close": plain("Close", MAX_MODAL_TITLE),
        "private_metadata": str(report.id),
        "blocks": blocks,
    }


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
    room = MAX_MESSAGE_BLOCKS - len(blocks)
    blocks += pack_sections("", lines, room, "community", "communities")
    text = f"Progress reports {year_label}: {done} of {len(rows)} submitted."
    return {"response_type": "ephemeral", **message(text, blocks)}
