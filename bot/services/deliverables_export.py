"""Exports of the year's deliverables for staff: onsite agendas as CSV (one row a
session) or JSON. A year with nothing stored gives the header row (or `[]`)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlmodel import Session, select

from bot.services.agenda import sessions_of
from storage.models import Community, OnsiteAgenda

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
)


def agendas(session: Session, year: int) -> list[dict[str, Any]]:
    """Every stored agenda of `year`, by community name, with its sessions."""
    rows = session.exec(
        select(OnsiteAgenda, Community)
        .join(Community, Community.id == OnsiteAgenda.community_id)
        .where(OnsiteAgenda.year == year)
        .order_by(Community.name_key)
    ).all()
    return [
        {
            "community": c.name,
            "channel": c.slack_channel_id,
            "year": a.year,
            "state": a.state,
            "submitted_at": a.submitted_at.isoformat() if a.submitted_at else "",
            "submitted_by": a.submitted_by or "",
            "sessions": [s.__dict__ for s in sessions_of(a)],
        }
        for a, c in rows
    ]


def agendas_csv(records: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(AGENDA_COLUMNS)
    for r in records:
        head = [r[k] for k in AGENDA_COLUMNS[:6]]
        if not r["sessions"]:
            writer.writerow([*head, "", "", "", "", "", ""])
        for n, s in enumerate(r["sessions"], start=1):
            writer.writerow(
                [*head, n, s["start"], s["minutes"], s["title"], s["speakers"], s["description"]]
            )
    return out.getvalue()


def render(records: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    return agendas_csv(records)
