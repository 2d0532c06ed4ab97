"""After a community's roster changes are acked: a new community (join its channel,
announce it, confirm to its creator, register its first leader), and the leaders
confirmed from the "Step down" button."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import community as blocks
from bot.deps import Deps
from bot.flows import registrations as registration_flows
from bot.flows import slack_checks
from bot.flows.profiles import refresh_profiles
from bot.services import CopError, access
from bot.services import communities as svc
from bot.services.permissions import Action
from bot.slack_client import post_message, tell
from bot.text import escape
from storage.db import session_scope

log = logging.getLogger(__name__)


def after_creation(
    client: WebClient, deps: Deps, community, creator: str, leader: str, join: bool
) -> None:
    """Join the channel (when not in it yet), announce the community, confirm to the
    creator."""
    channel = community.slack_channel_id
    joined = True
    if join:
        try:
            client.conversations_join(channel=channel)
        except SlackApiError as e:
            # private channels cannot be joined by an app: someone must invite it
            joined = False
            log.info("conversations.join %s: %s", channel, e.response.get("error"))
    error = (
        post_message(client, channel, blocks.welcome_announcement(community, leader))
        if joined
        else "not_in_channel"
    )
    name = escape(community.name)
    if error:
        note = (
            f"*{name}* is created, but I can't post in <#{channel}> yet. "
            f"Invite me there with `/invite @copbot` so calls and reminders can be posted."
        )
    else:
        note = f"*{name}* is created in <#{channel}>, and I've announced it there."
    if leader != creator:
        note += f" <@{leader}> is its first leader."
    note += " Next: `/cop leaders` to add a co-leader, `/cop plan` to plan the year."
    post_message(client, creator, blocks.message_for(note))
    refresh_profiles(client, deps, [creator, leader])
    registration_flows.register_newcomers(deps, client, community.id, [leader])


def confirm_leaders(
    client: WebClient,
    deps: Deps,
    community_id: int,
    ids: list[str],
    user_id: str,
    response_url: str,
) -> None:
    """The "Step down" confirmation, after its ack: everyone named checked with Slack, then
    the leaders set if the person may still set them (in the community's own unit of
    work); told under the message either way, the channel told of a change."""
    problems = [c.problem for c in slack_checks.check_people(client, ids) if c.problem]
    if problems:
        tell(response_url, problems[0] + " Nothing changed.", replace=True)
        return
    try:
        with session_scope(deps.engine) as session:
            community = access.community_allowing(
                session, deps.actor(user_id), community_id, Action.SET_LEADERS, "set the leaders"
            )
            change = svc.set_leaders(session, community, ids, actor=user_id, confirmed=True)
    except CopError as e:
        tell(response_url, str(e), replace=True)
        return
    if not change.changed:
        tell(response_url, "Those are already the leaders; nothing changed.", replace=True)
        return
    tell(
        response_url,
        f"Done: {blocks.leaders_sentence(community, change.leaders)}. "
        "You are a member now. I've told the channel.",
        replace=True,
    )
    post_message(
        client,
        community.slack_channel_id,
        blocks.leaders_changed_announcement(community, change.leaders, user_id),
    )
    registration_flows.register_newcomers(deps, client, community_id, list(change.added))
