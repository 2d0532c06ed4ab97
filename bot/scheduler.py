"""The scheduler: `tick(now)` is one pass; `start_background` runs passes every interval
inside `copbot run` and in every `copbot serve` worker, and `stop_background` ends such a
loop and gives its lease up (a stopped `copbot serve`); `run_forever` is
`copbot scheduler`. `now` (what is due) is passed in; the wall clock (`clock`) only
decides leases and claims, which are about which process is alive.

A pass: take the scheduler's lease (one owner at a time across processes and workers; a
pass that does not get it does nothing), plan what is due, then claim small batches with
a token, renewing the lease before each, and deliver each reminder only after checking
the claim is still its own (`bot.flows.reminders`). Before the reminders, the
holder closes the polls whose time has come (posting their results), sends the
scheduled announcements now due, the monthly digests of shares, the Zoom scopes staff
must be told are missing and the recordings Zoom deletes within a week (`_posts`): each is
claimed by a conditional UPDATE, the lease is renewed while they go out, and one's
failure is logged and left for a later pass without stopping this one. A one-off pass
(`copbot tick`) gives the lease up when done; the loops keep it and renew it each pass.

Each pass writes one log line (`scheduler pass now=… planned=… sent=… …`), at INFO when
it did something and at DEBUG otherwise.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient

from bot.deps import Deps
from bot.flows import after_call, conferencing_alerts, digests, recording_deletion
from bot.flows import announcements as announcement_flows
from bot.flows import calls as call_flows
from bot.flows import polls as poll_flows
from bot.flows import registrations as registration_flows
from bot.flows.reminders import PassResult, deliver, sender
from bot.ops import logs, metrics
from bot.services import reminders as rules
from bot.services.reminders import outbox
from storage.clock import SystemClock
from storage.db import session_scope

log = logging.getLogger(__name__)

__all__ = [
    "PassResult",
    "tick",
    "start_background",
    "stop_background",
    "run_forever",
    "lease_ttl",
]

WallClock = Callable[[], datetime]  # decides leases and claims (default: deps.clock.now)
BOOT_GRACE_SECONDS = 3.0
JOB_ID = "copbot-pass"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def lease_ttl(settings: Any) -> timedelta:
    """Long enough that the holder renews it well before it lapses (it renews every
    batch and every pass); short enough that another process takes over soon after the
    holder died."""
    return timedelta(seconds=max(60.0, 3 * settings.scheduler_interval))


def _counted(run_pass: Callable[..., PassResult]) -> Callable[..., PassResult]:
    """A pass is one request in the logs (kind `scheduler`, an id of its own) and is
    counted in the metrics: ran or skipped or failed, its duration, the reminders it
    sent, and whether this process holds the lease after it."""

    @functools.wraps(run_pass)
    def counted(*args: Any, **kwargs: Any) -> PassResult:
        with logs.request_scope("scheduler"):
            try:
                result = run_pass(*args, **kwargs)
            except Exception:
                metrics.scheduler_pass("failed")
                logs.note(outcome="error")
                raise
            if result.owner:
                metrics.scheduler_pass("ran", result.ms / 1000)
                metrics.reminders("sent", len(result.sent))
                metrics.reminders("late", result.late)
                metrics.reminders("missed", len(result.missed))
                metrics.reminders("failed", len(result.failed) + result.interrupted)
            else:
                metrics.scheduler_pass("skipped")
            metrics.lease_held(bool(result.owner and kwargs.get("hold")))
            return result

    return counted


@_counted
def tick(
    deps: Deps,
    client: WebClient,
    now: datetime,
    worker: str | None = None,
    *,
    clock: WallClock | None = None,
    hold: bool = False,
) -> PassResult:
    """One pass as of `now` (see the module). With `hold`, the lease is kept for the next
    pass of the same `worker`; otherwise it is given up at the end."""
    worker = worker or worker_name()
    clock = clock or deps.clock.now
    started, began = clock(), time.perf_counter()
    result = PassResult()
    ttl = lease_ttl(deps.settings)
    with session_scope(deps.engine) as session:
        result.owner = outbox.take_lease(session, worker, started, ttl)
        if not result.owner:
            lease = outbox.lease_holder(session)
            result.holder = lease.holder if lease is not None else None
    if not result.owner:
        result.ms = (time.perf_counter() - began) * 1000
        log.debug("scheduler pass now=%s skipped: %s holds the lease", _iso(now), result.holder)
        return result
    try:
        _run(deps, sender(client), now, worker, clock, started, ttl, result)
    finally:
        if not hold:
            with session_scope(deps.engine) as session:
                outbox.release_lease(session, worker, clock())
        result.ms = (time.perf_counter() - began) * 1000
        _log_pass(now, result)
    return result


def _run(
    deps: Deps,
    client: WebClient,
    now: datetime,
    worker: str,
    clock: WallClock,
    started: datetime,
    ttl: timedelta,
    result: PassResult,
) -> None:
    settings = deps.settings
    with session_scope(deps.engine) as session:
        planned = rules.plan_due(
            session, now, settings.zone, settings.agenda_due, settings.report_due
        )
        result.planned = planned.inserted
        result.interrupted = outbox.fail_interrupted(session, started)
    if not _posts(deps, client, now, worker, clock, ttl, result):
        log.warning("scheduler %s lost its lease mid-pass: stopping", worker)
        return
    renew = False  # the lease was just taken (or renewed); renewed before each later batch
    while True:
        at = clock()
        with session_scope(deps.engine) as session:
            if renew and not outbox.take_lease(session, worker, at, ttl):
                log.warning("scheduler %s lost its lease mid-pass: stopping", worker)
                return
            token, ids = outbox.claim(session, now, worker, at)
        renew = True
        for position, reminder_id in enumerate(ids):
            moment = now + (clock() - started)  # the pass's `now`, advanced as it runs
            again = deliver(deps, client, reminder_id, token, moment, clock(), result)
            if again is not None:  # rate limited: the rest waits too
                with session_scope(deps.engine) as session:
                    outbox.release_claims(session, token, again)
                if position + 1 < len(ids):
                    log.info("%d reminder(s) wait for Slack's rate limit", len(ids) - position - 1)
                return
        if len(ids) < outbox.BATCH:
            break
    with session_scope(deps.engine) as session:  # posting took a while: renewed first
        if not outbox.take_lease(session, worker, clock(), ttl):
            log.warning("scheduler %s lost its lease mid-pass: stopping", worker)
            return
    result.moved_over = registration_flows.move_over(deps, client, now)
    result.after_call = after_call.run(deps, client, now, clock())


def _posts(
    deps: Deps,
    client: WebClient,
    now: datetime,
    worker: str,
    clock: WallClock,
    ttl: timedelta,
    result: PassResult,
) -> bool:
    """Polls to close, announcements and share digests due as of `now` (see the
    module). False if the lease was lost meanwhile. Sending takes time (an announcement
    to hundreds of channels), so the lease is renewed before each poll's results, each
    announcement and each digest once a sixth of its time has passed since it was last
    taken, and again at the end."""
    kept, taken = True, time.monotonic()
    every = ttl.total_seconds() / 6

    def keep() -> bool:
        nonlocal kept, taken
        if time.monotonic() - taken >= every:
            with session_scope(deps.engine) as session:
                kept = outbox.take_lease(session, worker, clock(), ttl)
            taken = time.monotonic()
        return kept

    steps = (
        ("polls", poll_flows.run_due),
        ("announcements", announcement_flows.run_due),
        ("share digests", digests.run_due),
        ("meetings waiting for Zoom's daily limit", call_flows.run_deferred),
        ("missing Zoom scopes", conferencing_alerts.run_due),
        ("recording deletions", recording_deletion.run_due),
    )
    for name, step in steps:
        try:
            result.sent += step(deps, client, now, keep=keep)
        except Exception:  # noqa: BLE001 - the claims let a later pass try again
            log.exception("scheduler pass: the %s step failed; a later pass retries", name)
        if not kept:
            return False
    return keep()


def _iso(at: datetime) -> str:
    return f"{at:%Y-%m-%dT%H:%M:%SZ}"


def _log_pass(now: datetime, result: PassResult) -> None:
    level = logging.INFO if result.did_something else logging.DEBUG
    log.log(
        level,
        "scheduler pass now=%s planned=%d sent=%d late=%d missed=%d void=%d deferred=%d "
        "retrying=%d failed=%d taken_over=%d ms=%.0f",
        _iso(now),
        result.planned,
        len(result.sent),
        result.late,
        len(result.missed),
        len(result.voided),
        len(result.deferred),
        len(result.retrying),
        len(result.failed) + result.interrupted,
        result.taken_over,
        result.ms,
    )


# ---- running passes ----------------------------------------------------------------------
def _quiet_apscheduler() -> None:
    """APScheduler logs every run of the job at INFO ("Running job", "executed
    successfully"): the pass's own line says what matters."""
    logging.getLogger("apscheduler").setLevel(
        max(logging.WARNING, logging.getLogger().getEffectiveLevel())
    )


def new_worker() -> str:
    """A name of its own for one process's pass loop (the lease's holder)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _every_interval(
    scheduler: Any, deps: Deps, client: WebClient, first_after: float = 0.0, worker: str = ""
) -> Any:
    _quiet_apscheduler()
    worker = worker or new_worker()
    scheduler.add_job(
        _safe_tick,
        "interval",
        seconds=deps.settings.scheduler_interval,
        args=(deps, client, worker),
        max_instances=1,
        coalesce=True,
        next_run_time=SystemClock().now() + timedelta(seconds=first_after),
        id=JOB_ID,
    )
    return scheduler


def start_background(deps: Deps, client: WebClient, worker: str = "") -> Any:
    """Passes every `COPBOT_SCHEDULER_INTERVAL` seconds in a background thread. Safe in
    every worker: only the holder of the lease runs a pass. `worker` names the loop, for a
    caller that also runs passes of its own in the same process (the sandbox's clock)."""
    from apscheduler.schedulers.background import BackgroundScheduler

    # the first pass waits a moment: a worker that just booted answers Slack first
    first_after = min(BOOT_GRACE_SECONDS, deps.settings.scheduler_interval)
    scheduler = _every_interval(
        BackgroundScheduler(timezone="UTC"), deps, client, first_after, worker
    )
    scheduler.start()
    return scheduler


def stop_background(scheduler: Any, timeout: float) -> bool:
    """Stop a loop of `start_background`: no pass starts any more, the running one has up
    to `timeout` seconds to end, then the lease is given up, so another process's pass (or
    `copbot tick`) runs at once rather than when the lease would have expired. False
    when the pass was still running (its lease then lapses on its own)."""
    job = scheduler.get_job(JOB_ID)
    stopper = threading.Thread(
        target=scheduler.shutdown, kwargs={"wait": True}, name="copbot-stop", daemon=True
    )
    stopper.start()
    stopper.join(timeout)
    if stopper.is_alive():
        log.warning("scheduler: a pass was still running after %.0f s; not waiting", timeout)
        return False
    if job is not None:
        deps, _client, worker = job.args
        with session_scope(deps.engine) as session:
            outbox.release_lease(session, worker, deps.clock.now())
        log.info("scheduler %s stopped; its lease is given up", worker)
    return True


def run_forever(deps: Deps, client: WebClient) -> None:
    """`copbot scheduler`: passes every interval until stopped."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    _every_interval(BlockingScheduler(timezone="UTC"), deps, client).start()


def _safe_tick(deps: Deps, client: WebClient, worker: str) -> None:
    try:
        tick(deps, client, deps.clock.now(), worker, hold=True)
    except Exception:  # noqa: BLE001 - the next pass tries again
        log.exception("scheduler pass failed")
