"""What the after-call steps share: the pass's result, the failures that stop a job (or
a pass's work of a kind) and how Slack's own refusals are read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from slack_sdk.errors import SlackApiError

# how long to wait when Slack says `ratelimited`: its Retry-After, within these bounds
DEFAULT_WAIT, MIN_WAIT, MAX_WAIT = 60, 1, 3600  # seconds


@dataclass
class AfterCallResult:
    opened: int = 0
    attendance: list[int] = field(default_factory=list)  # calls whose attendance was read
    recordings: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    unavailable: list[int] = field(default_factory=list)
    asked: list[int] = field(default_factory=list)  # value questions sent


class SlackLookupFailed(Exception):
    """Slack could not say who an email belongs to (no scope, an error): retry later."""


class SlackRateLimited(Exception):
    """Slack answered `ratelimited`: stop this pass's work of the kind, no attempt counted,
    and come back after `wait`."""

    def __init__(self, wait: timedelta, what: str):
        super().__init__(f"Slack's rate limit on {what}; again in {int(wait.total_seconds())} s")
        self.wait = wait


class PostFailed(Exception):
    """Slack did not take a post for the call's thread; its claim was given back."""


def slack_error(e: SlackApiError) -> str | None:
    return e.response.get("error") if isinstance(e.response.data, dict) else None


def rate_limited(e: SlackApiError) -> timedelta | None:
    """Slack's wait when `e` is a rate limit (bounded), else None."""
    if e.response.status_code != 429 and slack_error(e) != "ratelimited":
        return None
    headers = {k.lower(): v for k, v in (e.response.headers or {}).items()}
    raw = headers.get("retry-after")
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    try:
        seconds = int(raw) if raw is not None else DEFAULT_WAIT
    except (TypeError, ValueError):
        seconds = DEFAULT_WAIT
    return timedelta(seconds=min(max(seconds, MIN_WAIT), MAX_WAIT))
