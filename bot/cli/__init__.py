"""The `copbot` command line, one module per command group: `run`/`serve` (bot.cli.run),
`scheduler`/`tick` (bot.cli.scheduler), `db` (bot.cli.db), `plan export` and `export`
(bot.cli.export), `doctor` (bot.cli.doctor), and `sandbox` (forwarded to the
`copbot-sandbox` entry point of the sandbox extra).

Configuration errors print one line naming the variable and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import entry_points

from sqlalchemy.exc import OperationalError

from bot.cli import db as db_commands
from bot.cli import doctor, export, run, scheduler
from bot.config import ConfigError, Settings, redacted_url
from bot.ops import logs
from storage import db

EXIT_CONFIG = 2
SANDBOX_ENTRY_POINT = "copbot-sandbox"


def _setup_logging(settings: Settings) -> None:
    logs.setup(settings.log_level, settings.log_format)
    if settings.sentry_dsn:
        from bot.ops.error_reports import start_sentry  # sentry_sdk only when asked for

        start_sentry(settings)


def run_sandbox(argv: list[str]) -> int:
    """`copbot sandbox ...`: run the `copbot-sandbox` console script (sandbox/cli.py). It is
    found through the installed entry points, so production code imports no sandbox."""
    found = entry_points(group="console_scripts", name=SANDBOX_ENTRY_POINT)
    try:
        entry = next(iter(found)).load()
    except (StopIteration, ImportError) as e:
        print(
            "copbot: `copbot sandbox` needs the sandbox extra: "
            f".venv/bin/pip install -e '.[sandbox]' ({type(e).__name__})",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    return entry(argv)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="copbot", description="Run Communities of Practice in Slack."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (run, scheduler, export, db_commands, doctor):
        group.add_commands(sub)
    sub.add_parser(
        "sandbox",
        add_help=False,
        help="the bot with a local Slack and Zoom, used from a page on 127.0.0.1 "
        "(see `copbot sandbox --help`)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["sandbox"]:
        return run_sandbox(argv[1:])
    args = build_parser().parse_args(argv)
    if args.command == "doctor":  # it loads the settings itself: a bad one is a FAIL line
        return doctor.main()
    try:
        settings = Settings.load()
        _setup_logging(settings)
        return args.func(settings, args)
    except (ConfigError, db.SchemaTooNew, db.SchemaBehind) as e:
        print(f"copbot: {e}", file=sys.stderr)
        return EXIT_CONFIG
    except OperationalError as e:
        reason = str(e.orig).strip().splitlines()[0] if e.orig else type(e).__name__
        print(
            f"copbot: cannot use the database at DATABASE_URL ({redacted_url(settings)}): {reason}",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
