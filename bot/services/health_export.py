"""Communities' health as staff export it (`copbot export health`): one line a community,
as staff see it on the Home tab (calls held of planned this program year, attendance per
call, members active in 90 days, the leader and no-call flags), as JSON or CSV."""

from __future__ import annotations

import csv
import io
import json

from bot.services.health import HealthRow
from bot.text import csv_row, csv_uncell

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
