"""`copbot run` (Socket Mode) and `copbot serve` (HTTP with gunicorn workers)."""

from __future__ import annotations

import argparse
import logging
import os
import threading
import time

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.errors import SlackApiError

from bot.app import build_app
from bot.config import APP_SETTINGS_URL, ConfigError, Settings
from bot.deps import Deps, make_conferencing
from bot.flows.conferencing_alerts import warn_missing_scopes
from bot.ops import metrics
from bot.scheduler import start_background
from bot.server import run_gunicorn
from bot.slack_client import TOKEN_ERRORS, SlackCheck
from storage import db

log = logging.getLogger("copbot")


def wait_for_slack(settings: Settings) -> None:
    """Until Slack accepts the bot token: a refused token is a ConfigError naming
    SLACK_BOT_TOKEN; while Slack does not answer, keep trying (one warning)."""
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
    db.prepare(settings.database_url)
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
    db.prepare(settings.database_url)
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


def add_commands(sub: argparse._SubParsersAction) -> None:
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
