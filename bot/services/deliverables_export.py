"""Exports of the year's deliverables for staff: onsite agendas as CSV (one row a
session) or JSON. A year with nothing stored gives the header row (or `[]`)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlmodel import Session, select

from bot.services.agenda import block_start, sessions_of
from bot.services.reports import stored_facts
from bot.text import csv_row, md_block, md_inline
from storage.models import Community, OnsiteAgenda, OnsiteBlock, OnsiteMeeting, ProgressReport

AGENDA_COLUMNS = (
    "community",
    "channel",
    "year",
    "state",
    "submitted_at",
    "submitted_by",
    "session",
    "start",
    "minutes",
    "title",
    "speakers",
    "description",
    "note",
)


def _outside(sessions: list, block: OnsiteBlock | None, meeting: OnsiteMeeting | None) -> str:
    """Why the sessions do not sit in the community's block, in words; "" when they do."""
    if not sessions:
        return ""
    if block is None or meeting is None:
        return "no onsite block: the sessions have no time at the meeting"
    t = block_start(block, meeting)
    begin = t.hour * 60 + t.minute
    end = begin + int((block.end_at - block.start_at).total_seconds() // 60)
    if all(begin <= s.window()[0] and s.window()[1] <= end for s in sessions):
        return ""
    return f"sessions outside the block ({t:%H:%M}-{end // 60:02d}:{end % 60:02d} venue time)"


def agendas(session: Session, year: int) -> list[dict[str, Any]]:
    """Every stored agenda of `year`, by community name, with its sessions; `note` says
    when the sessions do not sit in the community's block (moved or freed since)."""
    rows = session.exec(
        select(OnsiteAgenda, Community)
        .join(Community, Community.id == OnsiteAgenda.community_id)
        .where(OnsiteAgenda.year == year)
        .order_by(Community.name_key)
    ).all()
    meeting = session.exec(select(OnsiteMeeting).where(OnsiteMeeting.year == year)).first()
    out = []
    for a, c in rows:
        sessions = sessions_of(a)
        block = (
            session.exec(
                select(OnsiteBlock).where(
                    OnsiteBlock.meeting_id == meeting.id, OnsiteBlock.community_id == c.id
                )
            ).first()
            if meeting
            else None
        )
        out.append(
            {
                "community": c.name,
                "channel": c.slack_channel_id,
                "year": a.year,
                "state": a.state,
                "submitted_at": a.submitted_at.isoformat() if a.submitted_at else "",
                "submitted_by": a.submitted_by or "",
                "note": _outside(sessions, block, meeting),
                "sessions": [s.__dict__ for s in sessions],
            }
        )
    return out


def agendas_csv(records: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(AGENDA_COLUMNS)
    for r in records:
        head = [r[k] for k in AGENDA_COLUMNS[:6]]
        if not r["sessions"]:
            writer.writerow(csv_row([*head, "", "", "", "", "", ""]))
        for n, s in enumerate(r["sessions"], start=1):
            writer.writerow(
                csv_row(
                    [
                        *head,
                        n,
                        s["start"],
                        s["minutes"],
                        s["title"],
                        s["speakers"],
                        s["description"],
                    ]
                )
            )
    return out.getvalue()


def render(records: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    return agendas_csv(records)


REPORT_COLUMNS = (
    "community",
    "channel",
    "year",
    "state",
    "submitted_at",
    "submitted_by",
    "purpose",
    "calls_held",
    "calls_scheduled",
    "recordings",
    "onsite",
    "agenda",
    "evidence_items",
    "shares",
    "results",
    "celebrations",
    "practice",
)


def reports(session: Session, year: int) -> list[dict[str, Any]]:
    """Every stored progress report of `year`, by community name, with the facts copbot
    recorded when it was last saved."""
    rows = session.exec(
        select(ProgressReport, Community)
        .join(Community, Community.id == ProgressReport.community_id)
        .where(ProgressReport.year == year)
        .order_by(Community.name_key)
    ).all()
    out = []
    for r, c in rows:
        known = stored_facts(r)
        out.append(
            {
                "community": c.name,
                "channel": c.slack_channel_id,
                "year": r.year,
                "state": r.state,
                "submitted_at": r.submitted_at.isoformat() if r.submitted_at else "",
                "submitted_by": r.submitted_by or "",
                **{k: known.get(k, "") for k in REPORT_COLUMNS[6:14]},
                "results": r.results,
                "celebrations": r.celebrations,
                "practice": r.practice,
            }
        )
    return out


def reports_csv(records: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REPORT_COLUMNS)
    for r in records:
        writer.writerow(csv_row(r[k] for k in REPORT_COLUMNS))
    return out.getvalue()


def reports_markdown(records: list[dict[str, Any]], year: int) -> str:
    """The year's reports as one Markdown document; what people typed goes through
    `md_inline`/`md_block`, so no answer opens a section of its own or carries HTML."""
    lines = [f"# Progress reports {year}", ""]
    if not records:
        lines.append("No reports yet.")
    for r in records:
        lines += [
            f"## {md_inline(r['community'])} ({r['state']})",
            "",
            f"- Calls: {r['calls_held']} held, {r['calls_scheduled']} scheduled",
            f"- Recordings: {r['recordings']}; evidence items: {r['evidence_items']}",
            f"- Onsite: {md_inline(str(r['onsite']))}; agenda {md_inline(str(r['agenda']))}",
            "",
            "### Results",
            "",
            md_block(r["results"]) or "-",
            "",
            "### Celebrations",
            "",
            md_block(r["celebrations"]) or "-",
            "",
            "### Connection to professional practice",
            "",
            md_block(r["practice"]) or "-",
            "",
        ]
    return "\n".join(lines) + "\n"


def render_reports(records: list[dict[str, Any]], fmt: str, year: int) -> str:
    if fmt == "json":
        return json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    if fmt == "md":
        return reports_markdown(records, year)
    return reports_csv(records)
