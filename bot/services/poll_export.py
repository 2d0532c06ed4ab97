"""Polls as staff export them (`copbot export polls`): every poll's question, options and
counts, per community; named polls with who voted for what, anonymous polls with counts
only (their voters are keyed hashes, never written out)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session, select

from bot.services import polls as rules
from bot.text import csv_cell
from storage.models import Poll

CSV_FIELDS = (
    "poll",
    "group",
    "community",
    "channel",
    "question",
    "asked_by",
    "asked_at",
    "state",
    "closes_at",
    "closed_at",
    "anonymous",
    "choice",
    "voters_in_poll",
    "option",
    "votes",
    "voters",
)


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def export_polls(session: Session, since: date | None = None) -> list[dict[str, Any]]:
    query = select(Poll.id).order_by(Poll.created_at, Poll.id)
    if since is not None:
        query = query.where(Poll.created_at >= datetime.combine(since, datetime.min.time(), UTC))
    out = []
    for poll_id in session.exec(query).all():
        t = rules.tally(session, poll_id, with_voters=True)
        poll = t.poll
        options = []
        for option in t.options:
            entry: dict[str, Any] = {"option": option.label, "votes": t.counts[option.id]}
            if not poll.anonymous:
                entry["voters"] = (t.by_option or {}).get(option.id, [])
            options.append(entry)
        out.append(
            {
                "poll": poll.id,
                "group": poll.group_key,
                "community": t.community.name,
                "channel": t.community.slack_channel_id,
                "question": poll.question,
                "asked_by": poll.created_by,
                "asked_at": _iso(poll.created_at),
                "state": poll.state,
                "closes_at": _iso(poll.closes_at),
                "closed_at": _iso(poll.closed_at),
                "anonymous": poll.anonymous,
                "choice": (
                    "single"
                    if not poll.multiple
                    else f"multiple (up to {poll.max_choices})"
                    if poll.max_choices
                    else "multiple"
                ),
                "voters_in_poll": t.voters,
                "options": options,
            }
        )
    return out


def to_csv(polls: list[dict[str, Any]]) -> str:
    """One row per poll and option; `voters` is empty for anonymous polls. Text cells go
    through `csv_cell`, so none reaches a spreadsheet as a formula."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for poll in polls:
        base = {k: v for k, v in poll.items() if k != "options"}
        for option in poll["options"]:
            row = {**base, **option, "voters": " ".join(option.get("voters", []))}
            writer.writerow({k: csv_cell(v) for k, v in row.items()})
    return buffer.getvalue()
