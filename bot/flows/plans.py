"""After `/cop plan publish` and `/cop plan export` (or the review's Publish) are acked:
post the plan to the community's channel (updating the messages posted before), or send
it to the person as a Markdown file; then tell them how it went."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import community as community_blocks
from bot.blocks import plan as blocks
from bot.deps import Deps
from bot.services import plans
from bot.services.plan_export import to_markdown
from bot.slack_client import post_message, respond
from bot.text import escape, plural
from storage.db import session_scope
from storage.models import Community

log = logging.getLogger(__name__)


def publish(
    client: WebClient, deps: Deps, community_id: int, user_id: str, response_url: str | None
) -> None:
    """Post the plan to the community's channel, or update the messages posted before.

    The caller holds the publication's claim (`plans.claim_publication`); recording the
    publication ends it, whatever happened."""
    with session_scope(deps.engine) as session:
        community = session.get(Community, community_id)
        if community is None:
            _tell(client, user_id, response_url, "That community no longer exists.")
            return
        plan = plans.load(session, community)
    channel = community.slack_channel_id
    messages = blocks.plan_messages(plan, include_unanswered=False)
    old = list(plan.published_ts) if plan.published_channel == channel else []
    posted: list[str] = []
    error = None
    try:
        posted = _post_plan(client, channel, messages, old)
    except SlackApiError as e:
        error = e.response.get("error") or "unknown_error"
    except Exception as e:  # noqa: BLE001 - the claim must end whatever went wrong
        log.warning("publishing the plan of %s failed: %s", community_id, type(e).__name__)
        error = "unexpected_error"
    if error:
        posted = [*posted, *old[len(posted) :]]  # keep track of what is still out there
    with session_scope(deps.engine) as session:
        community = session.get(Community, community_id)
        if community is not None:
            plans.record_publication(session, community, channel, posted, user_id, deps.clock.now())
    count = plural(len(messages), "message")
    if error:
        text = (
            f"I couldn't post the plan in <#{channel}> ({error}). If I'm not in that channel, "
            "invite me with `/invite @copbot` and publish again."
        )
    elif old:
        text = f"Updated the plan posted in <#{channel}> ({count})."
    else:
        text = f"Published the plan in <#{channel}> ({count})."
    _tell(client, user_id, response_url, text)


def _post_plan(
    client: WebClient, channel: str, messages: list[dict[str, Any]], old: list[str]
) -> list[str]:
    """Update the messages posted before, post the rest, delete those left over."""
    posted: list[str] = []
    for i, payload in enumerate(messages):
        if i < len(old):
            try:
                client.chat_update(channel=channel, ts=old[i], **payload)
                posted.append(old[i])
                continue
            except SlackApiError as e:
                if e.response.get("error") not in ("message_not_found", "cant_update_message"):
                    raise
        posted.append(client.chat_postMessage(channel=channel, **payload)["ts"])
    for ts in old[len(messages) :]:
        try:
            client.chat_delete(channel=channel, ts=ts)
        except SlackApiError as e:
            log.info("could not delete an old plan message: %s", e.response.get("error"))
    return posted


def _tell(client: WebClient, user_id: str, response_url: str | None, text: str) -> None:
    if response_url:
        respond(response_url, community_blocks.message_for(text))
    else:
        post_message(client, user_id, community_blocks.message_for(text))


def export_filename(community: Community) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", community.name.lower()).strip("-") or "community"
    return f"{slug}-plan.md"


def send_export(
    client: WebClient, deps: Deps, community_id: int, user_id: str, response_url: str | None
) -> None:
    """The plan as a Markdown file, in a direct message to `user_id`."""
    with session_scope(deps.engine) as session:
        community = session.get(Community, community_id)
        plan = plans.load(session, community)
    try:
        dm = client.conversations_open(users=user_id)["channel"]["id"]
        client.files_upload_v2(
            channel=dm,
            filename=export_filename(community),
            title=f"Plan: {community.name}",
            content=to_markdown(plan),
            initial_comment=f"The plan of *{escape(community.name)}* ({plan.progress}).",
        )
    except SlackApiError as e:
        _tell(
            client,
            user_id,
            response_url,
            f"I couldn't send the plan as a file ({e.response.get('error')}). "
            "`/cop plan show` shows it here.",
        )
