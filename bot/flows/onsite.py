"""After staff give, move or free a community's onsite block and the request is acked:
the community's channel is told (and told again that its agenda reopened, when it did)."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.blocks import onsite as blocks
from bot.slack_client import post_message
from storage.models import Community, OnsiteMeeting


def announce_block(
    client: WebClient, ics_url: str | None, community: Community, meeting: OnsiteMeeting, done: Any
) -> None:
    """The block given or moved (`onsite_assignment.assign`'s result), in the community's
    channel."""
    channel = community.slack_channel_id
    if done.changed:
        moved = done.moved_from is not None
        note = blocks.block_announcement(
            community, meeting, done.block, done.room, ics_url, moved=moved
        )
        post_message(client, channel, note)
    if done.agenda_reopened:
        post_message(
            client, channel, blocks.agenda_reopened_notice(community, meeting, freed=False)
        )


def announce_freed(
    client: WebClient, community: Community, meeting: OnsiteMeeting, freed: Any, user_id: str
) -> None:
    """The block freed (`onsite_assignment.free`'s result), in the community's channel."""
    channel = community.slack_channel_id
    post_message(
        client, channel, blocks.freed_announcement(community, meeting, freed.block, user_id)
    )
    if freed.agenda_reopened:
        post_message(client, channel, blocks.agenda_reopened_notice(community, meeting, freed=True))
