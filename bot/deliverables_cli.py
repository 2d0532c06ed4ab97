"""`copbot export agendas --year Y [--format csv|json]` and `copbot export reports --year Y
[--format csv|json|md]`: the year's onsite agendas and progress reports for staff, on
stdout. `add_subcommands` adds them under `copbot export`, beside any other export."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from storage import db

YEAR_HELP = "the Annual Meeting's year, or the year a report's program year ends in"


def cmd_export(settings: Any, args: argparse.Namespace) -> int:
    from bot.cli import prepare_database
    from bot.services import deliverables_export as ex

    prepare_database(settings)
    with db.session_scope(db.get_engine(settings.database_url)) as session:
        if args.what == "agendas":
            out = ex.render(ex.agendas(session, args.year), args.format)
        else:
            out = ex.render_reports(ex.reports(session, args.year), args.format, args.year)
    sys.stdout.write(out)
    return 0


def add_subcommands(what: Any) -> None:
    """`what`: the subparsers of `copbot export`."""
    for name, formats, help_text in (
        ("agendas", ("csv", "json"), "the onsite agendas of a year, one row a session"),
        ("reports", ("csv", "json", "md"), "the progress reports of a program year"),
    ):
        p = what.add_parser(name, help=help_text)
        p.add_argument("--year", type=int, required=True, help=YEAR_HELP)
        p.add_argument("--format", choices=formats, default="csv")
        p.set_defaults(func=cmd_export)
