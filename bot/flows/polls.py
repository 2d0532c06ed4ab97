"""Polls after the ack: post them, keep their messages current without one update per
vote, and post the results once when they close (by the Close button or the scheduler)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import update

from bot.blocks import poll_results as result_blocks
from bot.blocks import polls as blocks
from bot.deps import Deps
from bot.services import poll_closing as closing
from bot.services import polls as rules
from bot.slack_client import post_message
from storage.db import checkpoint_after_forgetting, session_scope
from storage.models import Poll

log = logging.getLogger(__name__)

# a busy poll's message changes at most once per this many seconds (chat.update is
# rate limited); the last change always reaches it
UPDATE_INTERVAL = 1.0


def post_polls(client: WebClient, deps: Deps, poll_ids: list[int], asker: str) -> None:
    """Post each new poll in its community's channel; tell the asker what failed."""
    problems = []
    for poll_id in poll_ids:
        with session_scope(deps.engine) as session:
            t = rules.tally(session, poll_id)
            channel, name, version = t.community.slack_channel_id, t.community.name, t.poll.version
            payload = blocks.poll_message(t)
        try:
            posted = client.chat_postMessage(channel=channel, **payload)
        except SlackApiError as e:
            error = e.response.get("error") or "unknown_error"
            log.warning("poll %s: posting failed: %s", poll_id, error)
            problems.append(f"<#{channel}> ({name}): {error}")
            continue
        with session_scope(deps.engine) as session:
            session.execute(
                update(Poll)
                .where(Poll.id == poll_id)
                .values(
                    message_channel=posted["channel"],
                    message_ts=posted["ts"],
                    shown_version=version,
                )
            )
        refresh(client, deps, poll_id)
    if problems:
        text = (
            "I couldn't post the poll in "
            + "; ".join(problems)
            + ". Invite me with `/invite @copbot` and ask again."
        )
        post_message(client, asker, blocks.note(text))


def refresh(client: WebClient, deps: Deps, poll_id: int, now: datetime | None = None) -> None:
    """Bring the poll's message up to date, unless an update is in flight already (that
    one will catch up). The claim is held for UPDATE_INTERVAL after each update, so votes
    arriving meanwhile are shown together by the next one."""
    while True:
        with session_scope(deps.engine) as session:
            version = closing.claim_refresh(session, poll_id, now or deps.clock.now())
        if version is None:
            return
        started, shown = time.monotonic(), version
        try:
            with session_scope(deps.engine) as session:
                t = rules.tally(session, poll_id)
                channel, ts = t.poll.message_channel, t.poll.message_ts
                payload = blocks.poll_message(t)
            try:
                client.chat_update(channel=channel, ts=ts, **payload)
            except SlackApiError as e:
                log.warning("poll %s: update failed: %s", poll_id, e.response.get("error"))
                if e.response.status_code == 429:
                    shown = None  # still behind: the scheduler's next pass catches up
            if shown is not None and (rest := UPDATE_INTERVAL - (time.monotonic() - started)) > 0:
                time.sleep(rest)
        finally:
            with session_scope(deps.engine) as session:
                closing.refreshed(session, poll_id, shown)
        if shown is None:
            return


def forget_on_disk(deps: Deps) -> None:
    """After polls closed: the voters they forgot leave no copy in SQLite's log file."""
    try:
        checkpoint_after_forgetting(deps.engine)
    except Exception:  # noqa: BLE001 - the next close or SQLite's own checkpoint does it
        log.warning("the database's log could not be emptied after a poll closed")


def deliver_results(client: WebClient, deps: Deps, poll_id: int, now: datetime) -> bool:
    """Freeze a closed poll's message and post its results in the thread, once. For a
    poll asked in several communities the total comes once all of them have closed: in
    the results of the last, and then in the thread of each that closed before."""
    with session_scope(deps.engine) as session:
        if not closing.claim_results(session, poll_id, now):
            return False
        this = rules.tally(session, poll_id)
        group = rules.group_tallies(session, this.poll)
        with_total = len(group) > 1 and closing.claim_total(session, poll_id)
        final = blocks.poll_message(this)
        results = result_blocks.results_message(group, this, with_total=with_total)
        channel, ts = this.poll.message_channel, this.poll.message_ts
    if ts:
        try:
            client.chat_update(channel=channel, ts=ts, **final)
            client.chat_postMessage(channel=channel, thread_ts=ts, **results)
        except SlackApiError as e:
            log.warning("poll %s: results not posted: %s", poll_id, e.response.get("error"))
            if e.response.status_code == 429:  # rate limited: a later pass posts them
                with session_scope(deps.engine) as session:
                    closing.release_results(session, poll_id)
                    if with_total:
                        closing.release_total(session, poll_id)
                return False
    with session_scope(deps.engine) as session:
        closing.results_posted(session, poll_id)
    if with_total:
        for t in group:
            if t.poll.id != poll_id:
                _post_total(client, deps, t.poll.id, group)
    return True


def _post_total(client: WebClient, deps: Deps, poll_id: int, group: list) -> None:
    """The group's total in the thread of a poll that closed before the last, once."""
    with session_scope(deps.engine) as session:
        if not closing.claim_total(session, poll_id, results_out=True):
            return
        poll = rules.load(session, poll_id)
        channel, ts = poll.message_channel, poll.message_ts
    if not ts:
        return
    try:
        client.chat_postMessage(channel=channel, thread_ts=ts, **result_blocks.total_message(group))
    except SlackApiError as e:
        log.warning("poll %s: the total was not posted: %s", poll_id, e.response.get("error"))
        if e.response.status_code == 429:
            with session_scope(deps.engine) as session:
                closing.release_total(session, poll_id)


def run_due(
    deps: Deps, client: WebClient, now: datetime, keep: Callable[[], bool] | None = None
) -> list[str]:
    """The scheduler's part: close the polls whose time has come and post the results
    of every closed poll not posted yet, each after `keep()` (the scheduler renewing its
    lease) says the pass may go on. Lines saying what was done."""
    with session_scope(deps.engine) as session:
        closed = closing.close_due(session, now)
        due = closing.results_due(session, now)
        stale = closing.behind(session, now)
    for poll_id in stale:
        _guarded(refresh, client, deps, poll_id, now)
    if closed:
        forget_on_disk(deps)
        log.info("closed %s poll(s) at their closing time", closed)
    lines = []
    for poll_id in due:
        if keep is not None and not keep():
            break  # another scheduler holds the lease now: it posts the rest
        if _guarded(deliver_results, client, deps, poll_id, now):
            lines.append(f"the results of poll {poll_id}")
    return lines


def _guarded(fn, client: WebClient, deps: Deps, poll_id: int, now: datetime) -> bool:
    """One poll's failure (Slack unreachable) must not stop the pass; the poll's lease
    lets a later pass try again."""
    try:
        return bool(fn(client, deps, poll_id, now))
    except Exception:  # noqa: BLE001
        log.exception("poll %s: the scheduler's work failed; a later pass retries", poll_id)
        return False
