"""The scheduler: `tick(now)` is one pass (plan what is due, claim it, send it, record
it); `start_background` runs passes every interval inside `copbot run` and `copbot serve`;
`run_forever` is `copbot scheduler`. Time is always passed in, never read twice."""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import reminders as blocks
from bot.deps import Deps
from bot.flows.announcements import run_due as due_announcements
from bot.flows.polls import run_due as due_polls
from bot.services import plans
from bot.services import reminders as rules
from bot.services.reminders import Kind
from storage.db import session_scope
from storage.models import Call, CallStatus, Community, Milestone, Reminder, utcnow

log = logging.getLogger(__name__)


@dataclass
class PassResult:
    sent: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    voided: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"sent {line}" for line in self.sent]
        out += [f"missed {line}" for line in self.missed]
        out += [f"void {line}" for line in self.voided]
        out += [f"retry later {line}" for line in self.retrying]
        out += [f"failed {line}" for line in self.failed]
        return out


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def tick(deps: Deps, client: WebClient, now: datetime, worker: str | None = None) -> PassResult:
    """One pass as of `now`."""
    worker = worker or worker_name()
    settings = deps.settings
    result = PassResult()
    with session_scope(deps.engine) as session:
        rules.plan_due(session, now, settings.zone, settings.agenda_due, settings.report_due)
    result.sent += due_polls(deps, client, now) + due_announcements(deps, client, now)
    while True:
        with session_scope(deps.engine) as session:
            ids = rules.claim(session, now, worker)
        for reminder_id in ids:
            _deliver(deps, client, reminder_id, now, worker, result)
        if len(ids) < rules.BATCH:
            return result


def _describe(reminder: Reminder, channel: str | None = None) -> str:
    where = f" to {channel}" if channel else ""
    return f"{reminder.kind} {reminder.target} due {reminder.due_at:%Y-%m-%dT%H:%MZ}{where}"


def _deliver(
    deps: Deps, client: WebClient, reminder_id: int, now: datetime, worker: str, result: PassResult
) -> None:
    with session_scope(deps.engine) as session:
        reminder = session.get(Reminder, reminder_id)
        community = session.get(Community, reminder.community_id)
        if now > reminder.expires_at:
            rules.mark_missed(session, reminder_id, worker)
            result.missed.append(_describe(reminder))
            return
        why_not, payload = _message(session, reminder, community, now, deps.settings)
        if why_not:
            rules.mark_void(session, reminder_id, worker, why_not)
            result.voided.append(f"{_describe(reminder)} ({why_not})")
            return
    channel = reminder.recipient or community.slack_channel_id
    try:
        client.chat_postMessage(channel=channel, **payload)
    except SlackApiError as e:
        error = e.response.get("error") or "unknown_error"
        _record_error(deps, reminder, worker, error, now, result, channel)
        return
    except Exception as e:  # noqa: BLE001 - a network failure is transient
        _record_error(deps, reminder, worker, type(e).__name__, now, result, channel)
        return
    with session_scope(deps.engine) as session:
        rules.mark_sent(session, reminder_id, worker, now)
    result.sent.append(_describe(reminder, channel))


def _record_error(
    deps: Deps,
    reminder: Reminder,
    worker: str,
    error: str,
    now: datetime,
    result: PassResult,
    channel: str,
) -> None:
    with session_scope(deps.engine) as session:
        state = rules.mark_error(session, reminder, worker, error, now)
    line = f"{_describe(reminder, channel)}: {error}"
    (result.failed if state == "failed" else result.retrying).append(line)
    log.warning("reminder %s: %s (%s)", reminder.id, error, state)


def _message(
    session, reminder: Reminder, community: Community, now: datetime, settings: Any
) -> tuple[str | None, dict[str, Any]]:
    """(why it is not to be sent, or None; the message)"""
    quiet = rules.quiet(session, reminder, now)
    if quiet:
        return quiet, {}
    if reminder.call_id is not None:
        call = session.get(Call, reminder.call_id)
        sequence = reminder.target.split(":")[2]
        if call is None or call.status != CallStatus.SCHEDULED.value:
            return "the call is cancelled", {}
        if sequence != f"s{call.sequence}":
            return "the call changed", {}
        if reminder.kind == Kind.CALL_FOLLOWUP:
            return None, blocks.followup(call, community)
        return None, blocks.call_reminder(reminder.kind, call, community)
    if reminder.kind == Kind.MILESTONE:
        milestone = session.get(Milestone, reminder.milestone_id)
        if milestone is None or milestone.done_at is not None:
            return "the step is done", {}
        return None, blocks.milestone_nudge(reminder, community, milestone)
    if reminder.kind == Kind.PLAN:
        missing = plans.load(session, community).incomplete_sections
        if not missing:
            return "the plan is complete", {}
        return None, blocks.plan_nudge(reminder, community, missing)
    if reminder.kind in (Kind.AGENDA, Kind.REPORT):
        deadline = rules.deadline_for(
            reminder, settings.zone, settings.agenda_due, settings.report_due
        )
        return None, blocks.deadline_nudge(reminder, community, deadline, now)
    return f"unknown kind {reminder.kind}", {}


# ---- running passes ----------------------------------------------------------------------
def _every_interval(scheduler: Any, deps: Deps, client: WebClient) -> Any:
    scheduler.add_job(
        _safe_tick,
        "interval",
        seconds=deps.settings.scheduler_interval,
        args=(deps, client),
        max_instances=1,
        coalesce=True,
        next_run_time=utcnow(),
        id="copbot-pass",
    )
    return scheduler


def start_background(deps: Deps, client: WebClient) -> Any:
    """Passes every `COPBOT_SCHEDULER_INTERVAL` seconds in a background thread."""
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = _every_interval(BackgroundScheduler(timezone="UTC"), deps, client)
    scheduler.start()
    return scheduler


def run_forever(deps: Deps, client: WebClient) -> None:
    """`copbot scheduler`: passes every interval until stopped."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    _every_interval(BlockingScheduler(timezone="UTC"), deps, client).start()


def _safe_tick(deps: Deps, client: WebClient) -> None:
    try:
        result = tick(deps, client, utcnow())
        for line in result.lines():
            log.info("%s", line)
    except Exception:  # noqa: BLE001 - the next pass tries again
        log.exception("scheduler pass failed")
