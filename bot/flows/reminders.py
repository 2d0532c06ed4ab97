"""Delivering one claimed reminder: decide whether it still goes (missed when its moment
has passed, void when its call changed or its series is done), build its message worded
by the real time left, check the claim is still ours, post it, record the outcome.

Slack's rate limit (HTTP 429) is answered here, not by the client's sleeping retry: the
reminder is put back due after Retry-After and the pass stops posting, so a pass never
sleeps while holding claims and a 429 is not counted as a failed attempt.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from sqlmodel import Session

from bot.blocks import reminders as blocks
from bot.services import plans, registrations
from bot.services import reminders as rules
from bot.services.planning_tool import section as plan_section
from bot.services.reminders import outbox
from bot.services.reminders.kinds import CALL_KINDS, LATE_AFTER, Kind, deadline_instant
from storage.db import session_scope
from storage.models import Call, CallStatus, Community, Milestone, Reminder

log = logging.getLogger(__name__)

# sent more than this after it was due: counted as late in the pass's log line
DEFAULT_RETRY_AFTER = 30


@dataclass
class PassResult:
    """What one pass did; `lines()` is what `copbot tick` prints."""

    sent: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    voided: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)  # rate limited: due again later
    planned: int = 0
    late: int = 0
    taken_over: int = 0  # claims another pass took over: not sent by this one
    interrupted: int = 0
    owner: bool = True  # False: another scheduler holds the lease; nothing was done
    holder: str | None = None
    ms: float = 0.0
    after_call: Any = None  # what the after-call work of the pass did (bot.flows.after_call)
    # calls whose meetings were moved over to registration (links of their own)
    moved_over: list[int] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"sent {line}" for line in self.sent]
        out += [f"missed {line}" for line in self.missed]
        out += [f"void {line}" for line in self.voided]
        out += [f"rate limited, due again later {line}" for line in self.deferred]
        out += [f"retry later {line}" for line in self.retrying]
        out += [f"failed {line}" for line in self.failed]
        return out

    @property
    def did_something(self) -> bool:
        return bool(self.planned or self.lines() or self.taken_over or self.interrupted)


def describe(reminder: Reminder, channel: str | None = None) -> str:
    """One line about a reminder, from its typed fields: "call_day call 12 v0 due …"."""
    if reminder.call_id is not None:
        about = f"call {reminder.call_id} v{reminder.call_sequence or 0}"
    elif reminder.milestone_id is not None:
        about = f"milestone {reminder.milestone_id}"
    else:
        about = f"community {reminder.community_id}"
    where = f" to {channel}" if channel else ""
    return f"{reminder.kind} {about} due {reminder.due_at:%Y-%m-%dT%H:%MZ}{where}"


def sender(source: WebClient) -> WebClient:
    """A copy of `source` without the rate-limit retry handler (which would sleep in the
    pass, holding its claims): the scheduler answers 429 itself."""
    return WebClient(
        token=source.token,
        base_url=source.base_url,
        timeout=source.timeout,
        retry_handlers=[
            h for h in source.retry_handlers if not isinstance(h, RateLimitErrorRetryHandler)
        ],
        logger=source.logger,
    )


def deliver(
    deps: Any,
    client: WebClient,
    reminder_id: int,
    token: str,
    moment: datetime,
    at: datetime,
    result: PassResult,
) -> datetime | None:
    """Deliver one reminder claimed with `token` as of `moment` (the pass's `now` plus
    the time the pass has taken; `at` is the wall clock). Returns when to post again if
    Slack rate-limited us, else None."""
    with session_scope(deps.engine) as session:
        # every outcome below is a conditional UPDATE on our claim token: if another pass
        # took the claim over, it matches nothing and this pass neither records nor posts
        reminder = session.get(Reminder, reminder_id)
        if reminder is None:  # its community or call was deleted meanwhile
            return None
        community = session.get(Community, reminder.community_id)
        if moment >= reminder.expires_at:  # useful until then, not at it
            if outbox.mark_missed(session, reminder_id, token, "its moment had passed"):
                result.missed.append(describe(reminder))
            else:
                result.taken_over += 1
            return None
        why_not, payload = compose(session, reminder, community, moment, deps.settings)
        if why_not:
            if outbox.mark_void(session, reminder_id, token, why_not):
                result.voided.append(f"{describe(reminder)} ({why_not})")
            else:
                result.taken_over += 1
            return None
        if not outbox.begin_send(session, reminder_id, token, at):
            result.taken_over += 1  # another pass took the claim over: it sends it
            return None
    channel = reminder.recipient or community.slack_channel_id
    try:
        client.chat_postMessage(channel=channel, **payload)
    except SlackApiError as e:
        if e.response.status_code == 429:
            wait = _retry_after(e.response.headers)
            with session_scope(deps.engine) as session:
                outbox.defer_rate_limited(session, reminder_id, token, moment + wait)
            result.deferred.append(describe(reminder, channel))
            log.warning("Slack rate limit: reminders wait %s s (Retry-After)", wait.seconds)
            return moment + wait
        error = e.response.get("error") or "unknown_error"
        _record_error(deps, reminder, token, error, moment, result, channel)
        return None
    except Exception as e:  # noqa: BLE001 - a network failure is transient
        _record_error(deps, reminder, token, type(e).__name__, moment, result, channel)
        return None
    with session_scope(deps.engine) as session:
        outbox.mark_sent(session, reminder_id, token, moment)
    result.sent.append(describe(reminder, channel))
    if moment - reminder.due_at > LATE_AFTER:
        result.late += 1
    return None


def _retry_after(headers: Any) -> timedelta:
    value = None
    for key, v in (headers or {}).items():
        if key.lower() == "retry-after":
            value = v[0] if isinstance(v, list) else v
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        seconds = DEFAULT_RETRY_AFTER
    return timedelta(seconds=max(1, min(seconds, 3600)))


def _record_error(
    deps: Any,
    reminder: Reminder,
    token: str,
    error: str,
    now: datetime,
    result: PassResult,
    channel: str,
) -> None:
    with session_scope(deps.engine) as session:
        state = outbox.mark_error(session, reminder, token, error, now)
    line = f"{describe(reminder, channel)}: {error}"
    (result.failed if state == "failed" else result.retrying).append(line)
    log.warning("reminder %s: %s (%s)", reminder.id, error, state)


def compose(
    session: Session, reminder: Reminder, community: Community, now: datetime, settings: Any
) -> tuple[str | None, dict[str, Any]]:
    """(why it is not to be sent, or None; the message), as of `now`."""
    quiet = rules.quiet(session, reminder, now)
    if quiet:
        return quiet, {}
    if reminder.kind in CALL_KINDS:
        return _call_message(session, reminder, community, now)
    if reminder.kind == Kind.MILESTONE:
        milestone = session.get(Milestone, reminder.milestone_id)
        if milestone is None or milestone.done_at is not None:
            return "the step is done", {}
        return None, blocks.milestone_nudge(reminder, community, milestone, now)
    if reminder.kind == Kind.PLAN:
        missing = plans.load(session, community).incomplete_sections
        if not missing:
            return "the plan is complete", {}
        titles = [f"{n}. {plan_section(n).title}" for n in missing]
        return None, blocks.plan_nudge(reminder, community, titles)
    if reminder.kind in (Kind.AGENDA, Kind.REPORT):
        series = rules.series_of(session, reminder)
        if series is None or series.year is None:
            return "its deadline is unknown", {}
        deadline = deadline_instant(
            reminder.kind, series.year, settings.zone, settings.agenda_due, settings.report_due
        )
        return None, blocks.deadline_nudge(reminder, community, deadline, now)
    return f"unknown kind {reminder.kind}", {}


def _call_message(
    session: Session, reminder: Reminder, community: Community, now: datetime
) -> tuple[str | None, dict[str, Any]]:
    call = session.get(Call, reminder.call_id)
    if call is None or call.status != CallStatus.SCHEDULED.value:
        return "the call is cancelled", {}
    if reminder.call_sequence != call.sequence:
        return "the call changed", {}
    if reminder.kind == Kind.CALL_FOLLOWUP:
        return None, blocks.followup(call, community)
    own = (
        registrations.personal_link(session, call.id, reminder.recipient)
        if reminder.recipient
        else None
    )
    return None, blocks.call_reminder(reminder.kind, call, community, now, own_link=own)
