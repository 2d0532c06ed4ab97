"""The `copbot` command line: run (Socket Mode), serve (HTTP), scheduler, tick, db upgrade,
`doctor` (the set-up's checks, `bot.doctor`),
`export` (the year's agendas and reports, `bot.deliverables_cli`; polls, `bot.exports`;
communities' health, `bot.health_export`),
and `sandbox` (forwarded to the `copbot-sandbox` entry point of the sandbox extra).

Configuration errors print one line naming the variable and exit with status 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time

from sqlalchemy.exc import OperationalError

from bot.config import APP_SETTINGS_URL, ConfigError, Settings, redacted_url
from bot.deliverables_cli import add_subcommands as add_deliverables
from bot.exports import add_subcommands as add_polls
from bot.health_export import add_subcommands as add_health
from bot.ops import logs, metrics
from storage import db

log = logging.getLogger("copbot")

EXIT_CONFIG = 2


def _setup_logging(settings: Settings) -> None:
    logs.setup(settings.log_level, settings.log_format)
    if settings.sentry_dsn:
        from bot.ops.error_reports import start_sentry

        start_sentry(settings)


def prepare_database(settings: Settings) -> None:
    """SQLite is migrated on start; PostgreSQL must be upgraded with `copbot db upgrade`.
    A database a newer copbot migrated stops either (SchemaTooNew)."""
    db.check_not_newer(settings.database_url)
    if db.is_sqlite(settings.database_url):
        current, head = db.schema_status(settings.database_url)
        if current != head:
            db.upgrade(settings.database_url)
        return
    current, head = db.schema_status(settings.database_url)
    if current != head:
        raise ConfigError(
            f"DATABASE_URL points at a database whose schema is at {current or 'nothing'}, "
            f"not {head}: run `copbot db upgrade` first"
        )


def wait_for_slack(settings: Settings) -> None:
    """Until Slack accepts the bot token: a refused token is a ConfigError naming
    SLACK_BOT_TOKEN; while Slack does not answer, keep trying (one warning)."""
    from bot.slack_client import TOKEN_ERRORS, SlackCheck

    check = SlackCheck(settings, announce=False)
    delay = 1.0
    while (state := check.check()) != "ok":
        if state in TOKEN_ERRORS:
            raise ConfigError(
                f"Slack refuses SLACK_BOT_TOKEN ({state}): copy the Bot User OAuth Token "
                f"(xoxb-…) again from OAuth & Permissions at {APP_SETTINGS_URL}"
            )
        if delay == 1.0:
            log.warning("Slack is %s at %s; copbot keeps trying", state, settings.slack_api_url)
        time.sleep(delay)
        delay = min(delay * 2, 60.0)


def cmd_run(settings: Settings, _args: argparse.Namespace) -> int:
    settings.require_for_socket_mode()
    prepare_database(settings)
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk.errors import SlackApiError

    from bot.app import build_app
    from bot.deps import Deps
    from bot.scheduler import start_background
    from bot.slack_client import TOKEN_ERRORS
    from bot.zoom_setup import warn_missing_scopes

    wait_for_slack(settings)
    deps = Deps.create(settings)
    warn_missing_scopes(settings, deps.conferencing, deps.engine)
    app = build_app(settings, deps=deps, socket_mode=True)
    handler = SocketModeHandler(app, settings.slack_app_token)
    log.info("copbot is connecting to Slack over Socket Mode")
    try:
        handler.connect()
    except SlackApiError as e:
        error = e.response.get("error") if isinstance(e.response.data, dict) else None
        if error in TOKEN_ERRORS or error == "not_allowed_token_type":
            raise ConfigError(
                f"Slack refuses SLACK_APP_TOKEN ({error}): create an app-level token (xapp-…) "
                f"with connections:write under Basic Information at {APP_SETTINGS_URL}"
            ) from None
        raise
    start_background(deps, app.client)
    log.info("copbot is connected over Socket Mode")
    threading.Event().wait()
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    settings.require_for_http()
    if args.workers < 1 or args.threads < 1:
        raise ConfigError("--workers and --threads must be at least 1")
    port = args.port if args.port is not None else settings.port
    prepare_database(settings)
    from bot.deps import make_conferencing
    from bot.server import run_gunicorn
    from bot.zoom_setup import warn_missing_scopes

    warn_missing_scopes(settings, make_conferencing(settings), db.get_engine(settings.database_url))
    # every worker writes its metrics in one directory; /metrics adds them up
    metrics.prepare_multiprocess_dir(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None)
    db.dispose_engines()  # no connection crosses the fork into the workers

    log.info(
        "copbot serves POST /slack/events and GET /healthz on %s:%s with %d worker(s)",
        args.host,
        port,
        args.workers,
    )
    run_gunicorn(
        settings, args.host, port, args.workers, args.threads, scheduler=not args.no_scheduler
    )
    return 0


def _scheduler_parts(settings: Settings):
    if not settings.slack_bot_token:
        raise ConfigError(
            "SLACK_BOT_TOKEN is not set: the scheduler posts reminders with the bot token "
            "(xoxb-…, OAuth & Permissions)"
        )
    prepare_database(settings)
    from bot.deps import Deps
    from bot.slack_client import make_web_client

    return Deps.create(settings), make_web_client(settings)


def cmd_tick(settings: Settings, args: argparse.Namespace) -> int:
    """One pass as of now or --now, then print what it sent."""
    from datetime import UTC, datetime

    from bot.scheduler import tick

    if args.now:
        try:
            now = datetime.fromisoformat(args.now)
        except ValueError:
            raise ConfigError(
                f"--now {args.now!r} is not an ISO-8601 instant, e.g. 2027-01-20T17:00:00Z"
            ) from None
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
    else:
        now = datetime.now(UTC)
    deps, client = _scheduler_parts(settings)
    result = tick(deps, client, now.astimezone(UTC))
    if not result.owner:
        print(f"another scheduler ({result.holder}) is running passes now: nothing done")
        return 0
    lines = result.lines()
    for line in lines:
        print(line)
    if not lines:
        print(f"nothing due at {now.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}")
    return 0


def cmd_scheduler(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.scheduler import run_forever
    from bot.zoom_setup import warn_missing_scopes

    deps, client = _scheduler_parts(settings)
    warn_missing_scopes(settings, deps.conferencing, deps.engine)
    log.info("copbot scheduler: a pass every %.0f s", settings.scheduler_interval)
    run_forever(deps, client)
    return 0


def cmd_db(settings: Settings, args: argparse.Namespace) -> int:
    if args.db_command == "backup":
        from bot.ops.backup import BackupError, backup

        try:
            print(backup(settings.database_url, args.file))
        except BackupError as e:
            print(f"copbot: {e}", file=sys.stderr)
            return 1
        return 0
    if args.db_command == "upgrade":
        db.upgrade(settings.database_url)
        current, head = db.schema_status(settings.database_url)
        print(f"database schema is at revision {current} (head {head})")
        return 0
    current, head = db.schema_status(settings.database_url)
    state = "up to date" if current == head else "needs `copbot db upgrade`"
    print(f"database schema: {current or 'empty'}; code expects {head}: {state}")
    return 0 if current == head else 1


def cmd_plan(settings: Settings, args: argparse.Namespace) -> int:
    """`copbot plan export COMMUNITY`: the plan on stdout as Markdown or JSON."""
    import json

    from bot.services import communities, plans
    from bot.services.plan_export import to_json, to_markdown

    prepare_database(settings)
    with db.session_scope(db.get_engine(settings.database_url)) as session:
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
        print(json.dumps(to_json(plan), indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(to_markdown(plan))
    return 0


SANDBOX_ENTRY_POINT = "copbot-sandbox"


def run_sandbox(argv: list[str]) -> int:
    """`copbot sandbox ...`: run the `copbot-sandbox` console script (sandbox/cli.py). It is
    found through the installed entry points, so production code imports no sandbox."""
    from importlib.metadata import entry_points

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

    run = sub.add_parser("run", help="the bot over Socket Mode (needs SLACK_APP_TOKEN)")
    run.set_defaults(func=cmd_run)

    serve = sub.add_parser("serve", help="the bot over HTTP: POST /slack/events, GET /healthz")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument(
        "--port",
        type=int,
        default=None,
        help="default: PORT from the environment or .env, else 3000",
    )
    serve.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    serve.add_argument("--threads", type=int, default=8, help="threads per worker (default 8)")
    serve.add_argument(
        "--no-scheduler", action="store_true", help="do not run the scheduler in this process"
    )
    serve.set_defaults(func=cmd_serve)

    scheduler = sub.add_parser("scheduler", help="the scheduler alone")
    scheduler.set_defaults(func=cmd_scheduler)
    tick = sub.add_parser("tick", help="one scheduler pass, then exit; prints what it sent")
    tick.add_argument("--now", help="ISO-8601 instant to run the pass as of (no zone: UTC)")
    tick.set_defaults(func=cmd_tick)

    planp = sub.add_parser("plan", help="community plans")
    plansub = planp.add_subparsers(dest="plan_command", required=True, metavar="ACTION")
    export = plansub.add_parser("export", help="write a community's plan to stdout")
    export.add_argument("community", help="the community's name, channel ID or number")
    export.add_argument("--format", choices=("md", "json"), default="md")
    planp.set_defaults(func=cmd_plan)

    exportp = sub.add_parser("export", help="write the year's records to stdout")
    exports = exportp.add_subparsers(dest="what", required=True, metavar="WHAT")
    add_deliverables(exports)
    add_polls(exports)
    add_health(exports)

    dbp = sub.add_parser("db", help="database schema")
    dbsub = dbp.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    dbsub.add_parser("upgrade", help="create or migrate the schema")
    dbsub.add_parser("status", help="show the schema revision")
    backupp = dbsub.add_parser(
        "backup", help="copy the SQLite database, consistently, while copbot runs"
    )
    backupp.add_argument("file", help="the new file to write the copy to")
    dbp.set_defaults(func=cmd_db)

    doctor = sub.add_parser(
        "doctor",
        help="check the set-up, one line per check (ok or FAIL); exit 1 when any FAILs",
    )
    doctor.set_defaults(func=None)

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
        from bot import doctor

        return doctor.main()
    try:
        settings = Settings.load()
        _setup_logging(settings)
        return args.func(settings, args)
    except (ConfigError, db.SchemaTooNew) as e:
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


if __name__ == "__main__":
    sys.exit(main())
