"""Sending the monthly digests of shares, a step of the scheduler's pass beside the polls
and announcements (only the pass that holds the scheduler's lease runs it, and it asks
`keep()` before each digest whether it still does).

On the first pass of a month, each community that has the digest on gets last month's
shares in one message. Each community's digest is claimed just before it is posted, by a
conditional UPDATE of its `last_month`, so two passes never both post it and a crash
loses at most the one being posted. Slack's rate limit (HTTP 429) gives the claim back and
stops the step: the digest goes on a later pass. Any other failure is logged and not
retried, as the post may have gone through.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import shares as blocks
from bot.flows.reminders import PassResult
from bot.services import shares
from storage.db import session_scope
from storage.models import Community

log = logging.getLogger(__name__)


def run_due(
    deps: Any, client: WebClient, now: datetime, keep: Callable[[], bool] | None = None
) -> list[str]:
    """The scheduler's step: post last month's digest to each community that has it on
    and has not had it, each after `keep()` says the pass still holds the lease. Lines
    saying what was sent; failures are logged."""
    result = PassResult()
    send_digests(deps, client, now, result, keep=keep)
    for line in result.deferred:
        log.info("rate limited, due again on a later pass: %s", line)
    for line in result.failed:
        log.warning("not sent: %s", line)
    return result.sent


def send_digests(
    deps: Any,
    client: WebClient,
    now: datetime,
    result: PassResult,
    keep: Callable[[], bool] | None = None,
) -> int:
    """Post the digests that are due; outcomes go to `result`. Returns how many posts
    were tried."""
    month, start, end = shares.previous_month(now, deps.settings.zone)
    label = f"{start:%B %Y}"
    with session_scope(deps.engine) as session:
        due = shares.due_digests(session, month)
    tried = 0
    for community_id, before in due:
        if keep is not None and not keep():
            break  # another scheduler holds the lease now: it sends the rest
        with session_scope(deps.engine) as session:
            if not shares.claim_digest(session, community_id, month, before):
                continue  # another pass has it
            community = session.get(Community, community_id)
            found = shares.in_month(session, community_id, start, end)
            payload = blocks.digest(community, label, found) if found else None
            channel = community.slack_channel_id
        if payload is None:  # nothing was shared last month: nothing to send, and done
            continue
        tried += 1
        line = f"share_digest {month} community {community_id} to {channel}"
        try:
            client.chat_postMessage(channel=channel, **payload)
        except SlackApiError as e:
            if e.response.status_code == 429:
                with session_scope(deps.engine) as session:
                    shares.give_back_digest(session, community_id, month, before)
                result.deferred.append(line)
                log.warning("Slack rate limit: the monthly digests wait for a later pass")
                return tried
            error = e.response.get("error") or "unknown_error"
            result.failed.append(f"{line}: {error}")
            log.warning("share digest for %s: %s", channel, error)
            continue
        except Exception as e:  # noqa: BLE001 - it may have been posted: not sent again
            result.failed.append(f"{line}: {type(e).__name__}")
            log.warning("share digest for %s: %s", channel, type(e).__name__)
            continue
        result.sent.append(line)
    return tried
