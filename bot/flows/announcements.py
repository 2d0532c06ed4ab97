"""Announcements after the ack: post every copy (once each), pin it if asked, update or
delete every copy, retry the failed ones, and the scheduler's due sends; each one's
delivery line (for the sender, and for staff's App Home: `bot.flows.home`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import update
from sqlmodel import Session

from bot.blocks import announcements as blocks
from bot.blocks.community import message_for
from bot.deps import Deps
from bot.services import announcements as rules
from bot.services import communities as svc
from bot.slack_client import post_message
from bot.text import escape
from storage.db import session_scope
from storage.models import Announcement, AnnouncementCopy

log = logging.getLogger(__name__)
RATE_LIMIT_ROUNDS = 5
EDIT_ROUNDS = 5  # writes of one copy while edits keep arriving


def _payload(a: Announcement) -> dict[str, Any]:
    return blocks.announcement_message(a.text, a.mention, a.created_by, edited=bool(a.edited_at))


def _names(session, items: list[AnnouncementCopy]) -> dict[int, str]:
    """Community names for the delivery line, escaped for mrkdwn."""
    ids = {c.community_id for c in items}
    return {c.id: escape(c.name) for c in svc.all_by_name(session) if c.id in ids}


def delivery(session: Session, announcement_id: int) -> tuple[str, bool]:
    """The delivery line, and whether some copies failed."""
    items = rules.copies(session, announcement_id)
    line = rules.delivery_line(items, _names(session, items))
    return line, any(c.state == "failed" for c in items)


def summary(deps: Deps, announcement_id: int) -> tuple[str, bool]:
    """The delivery line, and whether some copies failed (read in a unit of work)."""
    with session_scope(deps.engine) as session:
        return delivery(session, announcement_id)


def send(client: WebClient, deps: Deps, announcement_id: int, now: datetime) -> str:
    """Post every pending copy, each claimed first so none goes out twice; then tell
    the sender how it went. Returns the delivery line."""
    with session_scope(deps.engine) as session:
        announcement = rules.load(session, announcement_id)
        pending = [c.id for c in rules.copies(session, announcement_id) if c.state == "pending"]
    for copy_id in pending:
        with session_scope(deps.engine) as session:
            if not rules.claim_copy(session, copy_id):
                continue
            channel = session.get(AnnouncementCopy, copy_id).channel
            # read for each copy: an edit made while it goes out reaches the later copies
            announcement = rules.load(session, announcement_id)
            payload = _payload(announcement)
        ts, error = _post(client, channel, payload)
        if error:
            log.warning("announcement %s to %s: %s", announcement_id, channel, error)
        with session_scope(deps.engine) as session:
            rules.copy_done(session, copy_id, ts, error)
        if ts:  # an edit saved while this copy went out did not see it: show it now
            _keep_latest(client, deps, announcement_id, channel, ts, payload)
        if ts and announcement.pin:
            try:
                client.pins_add(channel=channel, timestamp=ts)
            except SlackApiError as e:
                log.warning("pinning in %s: %s", channel, e.response.get("error"))
    with session_scope(deps.engine) as session:
        rules.finish(session, announcement_id, deps.clock.now())
    line, _ = summary(deps, announcement_id)
    post_message(
        client,
        announcement.created_by,
        message_for(f"Your announcement went out {line}."),
    )
    return line


def _post(
    client: WebClient, channel: str, payload: dict[str, Any]
) -> tuple[str | None, str | None]:
    """(ts, None) once posted; (None, Slack's error) if refused. Rate limits beyond the
    client's own retries are waited out (Retry-After) a few more times."""
    for _ in range(RATE_LIMIT_ROUNDS):
        try:
            return client.chat_postMessage(channel=channel, **payload)["ts"], None
        except SlackApiError as e:
            error = e.response.get("error") or "unknown_error"
            if error != "ratelimited":
                return None, error
            time.sleep(min(float(e.response.headers.get("Retry-After", 1) or 1), 60))
    return None, "ratelimited"


def update_copies(client: WebClient, deps: Deps, announcement_id: int) -> None:
    """Show the edited text in every posted copy."""
    with session_scope(deps.engine) as session:
        posted = [c for c in rules.copies(session, announcement_id) if c.state == "posted"]
    for item in posted:
        _keep_latest(client, deps, announcement_id, item.channel, item.ts, None)


def _keep_latest(
    client: WebClient,
    deps: Deps,
    announcement_id: int,
    channel: str,
    ts: str,
    shown: dict[str, Any] | None,
) -> None:
    """Make the copy at `ts` show the announcement as stored now: write it, then read the
    announcement again and write again while an edit saved meanwhile changed it. Whoever
    writes a copy last has read the database after writing, so every copy ends with the
    latest text, whatever the order of the edit and the fan-out."""
    for _ in range(EDIT_ROUNDS):
        with session_scope(deps.engine) as session:
            latest = _payload(rules.load(session, announcement_id))
        if latest == shown:
            return
        try:
            client.chat_update(channel=channel, ts=ts, **latest)
        except SlackApiError as e:
            log.warning(
                "editing announcement %s in %s: %s",
                announcement_id,
                channel,
                e.response.get("error"),
            )
            return
        shown = latest
    log.warning(
        "announcement %s in %s: still being edited; left as shown", announcement_id, channel
    )


def delete_copies(client: WebClient, deps: Deps, announcement_id: int) -> int:
    """Delete every posted copy; how many went."""
    with session_scope(deps.engine) as session:
        posted = [c for c in rules.copies(session, announcement_id) if c.state == "posted"]
    gone = 0
    for item in posted:
        try:
            client.chat_delete(channel=item.channel, ts=item.ts)
        except SlackApiError as e:
            if e.response.get("error") != "message_not_found":
                log.warning(
                    "deleting announcement %s in %s: %s",
                    announcement_id,
                    item.channel,
                    e.response.get("error"),
                )
                continue
        with session_scope(deps.engine) as session:
            session.execute(
                update(AnnouncementCopy)
                .where(AnnouncementCopy.id == item.id)
                .values(state="deleted")
            )
        gone += 1
    return gone


def retry(client: WebClient, deps: Deps, announcement_id: int) -> str:
    with session_scope(deps.engine) as session:
        rules.retry_failed(session, announcement_id)
    return send(client, deps, announcement_id, deps.clock.now())


def run_due(
    deps: Deps, client: WebClient, now: datetime, keep: Callable[[], bool] | None = None
) -> list[str]:
    """The scheduler's part: send the scheduled announcements whose time has come, one
    claimed at a time, each after `keep()` (the scheduler renewing its lease) says the
    pass may go on."""
    lines = []
    while keep is None or keep():
        with session_scope(deps.engine) as session:
            announcement_id = rules.claim_next(session, now)
        if announcement_id is None:
            break
        try:
            lines.append(
                f"announcement {announcement_id} {send(client, deps, announcement_id, now)}"
            )
        except Exception:  # noqa: BLE001 - its lease lets a later pass resume it
            log.exception("announcement %s: sending failed; a later pass resumes", announcement_id)
    return lines
