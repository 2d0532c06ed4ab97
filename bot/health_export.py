"""`copbot export health [--format csv|json]`: every community's health line on stdout,
as staff see it on the Home tab (calls held of planned this program year, attendance per
call, members active in 90 days, the leader and no-call flags)."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.text import csv_row, csv_uncell

if TYPE_CHECKING:  # the command line imports this module: its work is imported when run
    from bot.config import Settings
    from bot.services.health import HealthRow

COLUMNS = (
    "community_id",
    "name",
    "leaders",
    "members",
    "calls_planned",
    "calls_held",
    "attendance",
    "active_90_days",
    "last_call",
    "one_leader_or_none",
    "no_call_in_90_days",
)


def rows(settings: Settings, now: datetime | None = None) -> list[HealthRow]:
    from bot.services import calls, health
    from storage import db
    from storage.models import utcnow

    now = now or utcnow()
    first, end = calls.program_year(
        now.astimezone(settings.zone).date(), settings.program_year_start
    )
    with db.session_scope(db.get_engine(settings.database_url)) as session:
        return health.build(session, now, first, end, settings.timezone)


def to_json(found: list[HealthRow]) -> str:
    return json.dumps([r.as_dict() for r in found], indent=2, ensure_ascii=False) + "\n"


def to_csv(found: list[HealthRow]) -> str:
    """One line a community; attendance as counts joined by spaces, flags as yes/no;
    names through `csv_cell`, so none reaches a spreadsheet as a formula."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in found:
        d = r.as_dict()
        d["attendance"] = " ".join(str(n) for n in r.attendance)
        for flag in ("one_leader_or_none", "no_call_in_90_days"):
            d[flag] = "yes" if d[flag] else "no"
        d["last_call"] = d["last_call"] or ""
        writer.writerow(csv_row(d[c] for c in COLUMNS))
    return out.getvalue()


def from_csv(text: str) -> list[dict]:
    """The rows of `to_csv` read back as `to_json` gives them."""
    found = []
    for d in csv.DictReader(io.StringIO(text)):
        found.append(
            {
                "community_id": int(d["community_id"]),
                "name": csv_uncell(d["name"]),
                "leaders": int(d["leaders"]),
                "members": int(d["members"]),
                "calls_planned": int(d["calls_planned"]),
                "calls_held": int(d["calls_held"]),
                "attendance": [int(n) for n in d["attendance"].split()],
                "active_90_days": int(d["active_90_days"]),
                "last_call": d["last_call"] or None,
                "one_leader_or_none": d["one_leader_or_none"] == "yes",
                "no_call_in_90_days": d["no_call_in_90_days"] == "yes",
            }
        )
    return found


def export(settings: Settings, fmt: str) -> str:
    found = rows(settings)
    return to_json(found) if fmt == "json" else to_csv(found)


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli import prepare_database

    prepare_database(settings)
    sys.stdout.write(export(settings, args.format))
    return 0


def add_subcommands(what: Any) -> None:
    """`what`: the subparsers of `copbot export`."""
    health = what.add_parser("health", help="every community's health for staff")
    health.add_argument("--format", choices=("csv", "json"), default="csv")
    health.set_defaults(func=cmd_export)
