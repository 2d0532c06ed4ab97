"""The scheduler's step that tells a community's leaders, a week before, that Zoom will
delete a call's archived recording (its `auto_delete_date`): each leader in a direct
message, once per recording, whichever pass or worker claims it first."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.community import message_for
from bot.services import communities, recordings
from bot.text import escape, link
from storage.db import session_scope
from storage.models import Call, CallResource, Community

log = logging.getLogger(__name__)


def notice(call: Call, community: Community, item: CallResource, today) -> str:
    days = (item.deletes_on - today).days
    when = "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"
    return (
        f":hourglass_flowing_sand: Zoom deletes the {link(item.url, 'recording')} of "
        f"*{escape(call.topic)}* ({escape(community.name)}, {call.start_at:%b %-d, %Y}) on "
        f"{item.deletes_on:%A, %b %-d, %Y}, {when}: the account deletes cloud recordings "
        "after a set time. To keep it, download it from that link (or ask a Zoom admin to "
        "keep it) and share where it now lives with the call's Add slides button."
    )


def run_due(
    deps: Any, client: WebClient, now: datetime, keep: Callable[[], bool] | None = None
) -> list[str]:
    """Tell the leaders of each recording Zoom deletes within a week; what was sent."""
    today = now.astimezone(deps.settings.zone).date()
    with session_scope(deps.engine) as session:
        due = recordings.deletions_to_tell(session, today)
    sent = []
    for resource_id in due:
        if keep is not None and not keep():
            break  # another scheduler holds the lease now: it tells the rest
        with session_scope(deps.engine) as session:
            if not recordings.claim_deletion_notice(session, resource_id, now):
                continue  # another pass told them
            item = session.get(CallResource, resource_id)
            call = session.get(Call, item.call_id)
            community = session.get(Community, item.community_id)
            leaders = communities.leaders(session, community.id)
            payload = message_for(notice(call, community, item, today))
        told = 0
        for user_id in leaders:
            try:
                client.chat_postMessage(channel=user_id, **payload)
                told += 1
            except SlackApiError as e:
                log.warning(
                    "telling %s that recording %s will be deleted failed: %s",
                    user_id,
                    resource_id,
                    e.response.get("error"),
                )
        if leaders and told == 0:
            with session_scope(deps.engine) as session:
                recordings.give_back_deletion_notice(session, resource_id, now)
            continue
        sent.append(f"recording_deletion call {item.call_id} to {told} leader(s)")
    return sent
