"""`copbot plan export COMMUNITY` and `copbot export agendas | reports | polls | health`: the
records staff take elsewhere, on stdout (Markdown, CSV or JSON; CSV cells never formulas)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime

from bot.config import Settings
from bot.services import communities, health, health_export, plans, poll_export
from bot.services import deliverables_export as deliverables
from bot.services.plan_export import to_json as plan_json
from bot.services.plan_export import to_markdown as plan_markdown
from bot.services.years import program_year
from storage import db
from storage.clock import SystemClock

YEAR_HELP = "the Annual Meeting's year, or the year a report's program year ends in"


def _session(settings: Settings):
    db.prepare(settings.database_url)
    return db.session_scope(db.get_engine(settings.database_url))


def cmd_plan(settings: Settings, args: argparse.Namespace) -> int:
    """`copbot plan export COMMUNITY`: the plan on stdout as Markdown or JSON."""
    with _session(settings) as session:
        community = communities.find(session, args.community)
        if community is None:
            names = ", ".join(repr(c.name) for c in communities.all_by_name(session)) or "none yet"
            print(
                f"copbot: no community {args.community!r}; give its name, channel ID or "
                f"number (communities: {names})",
                file=sys.stderr,
            )
            return 1
        plan = plans.load(session, community)
    if args.format == "json":
        print(json.dumps(plan_json(plan), indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(plan_markdown(plan))
    return 0


def cmd_deliverables(settings: Settings, args: argparse.Namespace) -> int:
    """`copbot export agendas|reports --year Y`: the year's onsite agendas or reports."""
    with _session(settings) as session:
        if args.what == "agendas":
            out = deliverables.render(deliverables.agendas(session, args.year), args.format)
        else:
            found = deliverables.reports(session, args.year)
            out = deliverables.render_reports(found, args.format, args.year)
    sys.stdout.write(out)
    return 0


def cmd_polls(settings: Settings, args: argparse.Namespace) -> int:
    since = None
    if args.since:
        try:
            since = date.fromisoformat(args.since)
        except ValueError:
            print(f"copbot: --since {args.since!r} is not a date like 2026-09-01", file=sys.stderr)
            return 1
    with _session(settings) as session:
        polls = poll_export.export_polls(session, since)
    if args.format == "json":
        print(json.dumps(polls, indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(poll_export.to_csv(polls))
    return 0


def health_rows(settings: Settings, now: datetime | None = None) -> list[health.HealthRow]:
    """Every community's health line for the program year containing `now`."""
    now = now or SystemClock().now()
    first, end = program_year(now.astimezone(settings.zone).date(), settings.program_year_start)
    with _session(settings) as session:
        return health.build(session, now, first, end, settings.timezone)


def cmd_health(settings: Settings, args: argparse.Namespace) -> int:
    found = health_rows(settings)
    fmt = health_export.to_json if args.format == "json" else health_export.to_csv
    sys.stdout.write(fmt(found))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    planp = sub.add_parser("plan", help="community plans")
    plansub = planp.add_subparsers(dest="plan_command", required=True, metavar="ACTION")
    export = plansub.add_parser("export", help="write a community's plan to stdout")
    export.add_argument("community", help="the community's name, channel ID or number")
    export.add_argument("--format", choices=("md", "json"), default="md")
    planp.set_defaults(func=cmd_plan)

    exportp = sub.add_parser("export", help="write the year's records to stdout")
    what = exportp.add_subparsers(dest="what", required=True, metavar="WHAT")
    for name, formats, help_text in (
        ("agendas", ("csv", "json"), "the onsite agendas of a year, one row a session"),
        ("reports", ("csv", "json", "md"), "the progress reports of a program year"),
    ):
        p = what.add_parser(name, help=help_text)
        p.add_argument("--year", type=int, required=True, help=YEAR_HELP)
        p.add_argument("--format", choices=formats, default="csv")
        p.set_defaults(func=cmd_deliverables)
    polls = what.add_parser("polls", help="write polls' results to stdout (CSV or JSON)")
    polls.add_argument("--since", help="only polls asked on or after this date (YYYY-MM-DD)")
    polls.add_argument("--format", choices=("csv", "json"), default="csv")
    polls.set_defaults(func=cmd_polls)
    health_p = what.add_parser("health", help="every community's health for staff")
    health_p.add_argument("--format", choices=("csv", "json"), default="csv")
    health_p.set_defaults(func=cmd_health)
