"""`copbot scheduler` (passes forever) and `copbot tick` (one pass, then what it sent)."""

from __future__ import annotations

import argparse
import logging
from datetime import UTC, datetime

from slack_sdk import WebClient

from bot.config import ConfigError, Settings
from bot.deps import Deps
from bot.flows.conferencing_alerts import warn_missing_scopes
from bot.scheduler import run_forever, tick
from bot.slack_client import make_web_client
from storage import db

log = logging.getLogger("copbot")


def _scheduler_parts(settings: Settings) -> tuple[Deps, WebClient]:
    if not settings.slack_bot_token:
        raise ConfigError(
            "SLACK_BOT_TOKEN is not set: the scheduler posts reminders with the bot token "
            "(xoxb-…, OAuth & Permissions)"
        )
    db.prepare(settings.database_url)
    return Deps.create(settings), make_web_client(settings)


def _instant(text: str | None) -> datetime:
    """--now as an aware UTC instant (no zone: UTC); the real time without it."""
    if not text:
        return datetime.now(UTC)
    try:
        now = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"--now {text!r} is not an ISO-8601 instant, e.g. 2027-01-20T17:00:00Z"
        ) from None
    return (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(UTC)


def cmd_tick(settings: Settings, args: argparse.Namespace) -> int:
    """One pass as of now or --now, then print what it sent."""
    now = _instant(args.now)
    deps, client = _scheduler_parts(settings)
    result = tick(deps, client, now)
    if not result.owner:
        print(f"another scheduler ({result.holder}) is running passes now: nothing done")
        return 0
    lines = result.lines()
    for line in lines:
        print(line)
    if not lines:
        print(f"nothing due at {now:%Y-%m-%dT%H:%M:%SZ}")
    return 0


def cmd_scheduler(settings: Settings, _args: argparse.Namespace) -> int:
    deps, client = _scheduler_parts(settings)
    warn_missing_scopes(settings, deps.conferencing, deps.engine)
    log.info("copbot scheduler: a pass every %.0f s", settings.scheduler_interval)
    run_forever(deps, client)
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    scheduler = sub.add_parser("scheduler", help="the scheduler alone")
    scheduler.set_defaults(func=cmd_scheduler)
    tick_p = sub.add_parser("tick", help="one scheduler pass, then exit; prints what it sent")
    tick_p.add_argument("--now", help="ISO-8601 instant to run the pass as of (no zone: UTC)")
    tick_p.set_defaults(func=cmd_tick)
