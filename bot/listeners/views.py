"""The new-community form. Input errors go back as `response_action: errors` on the field;
the channel is checked with Slack (a real channel the bot can post in, and one the person
is in unless they are staff) before anything is stored."""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import community as blocks
from bot.blocks import escape
from bot.deps import Deps
from bot.flows import registrations as registration_flows
from bot.flows.profiles import refresh_profiles
from bot.listeners import slack_checks
from bot.listeners.common import modal_values
from bot.services import CopError
from bot.services import communities as svc
from bot.services.permissions import Action, can
from bot.slack_client import post_message
from storage.db import session_scope
from storage.models import PurposeArea

log = logging.getLogger(__name__)


def handle_new_community(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    deps: Deps = context["copbot"]
    view = body["view"]
    values = modal_values(view)
    user_id = body["user"]["id"]
    team_id = (body.get("team") or {}).get("id") or view.get("team_id", "")
    actor = deps.actor(user_id)
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        meta = {}
    meta = meta if isinstance(meta, dict) else {}

    name = values.get(blocks.NAME) or ""
    mission = values.get(blocks.MISSION) or ""
    description = values.get(blocks.DESCRIPTION) or ""
    channel_id = values.get(blocks.CHANNEL) or meta.get("channel")
    leader = values.get(blocks.LEADER) or user_id
    chosen = values.get(blocks.AREAS) or []
    areas = tuple(a for a in PurposeArea if a.value in chosen)

    errors = svc.validate_fields(name, mission, description)
    if not isinstance(channel_id, str) or not channel_id:
        errors[blocks.CHANNEL] = "Choose the channel the community lives in."
    if leader != user_id and not can(actor, Action.CREATE_FOR_OTHERS):
        errors[blocks.NAME] = "Only staff can create a community for someone else to lead."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    channel, leader_problem = _check_slack(client, channel_id, user_id, leader, actor)
    if channel.problem:
        errors[blocks.CHANNEL] = channel.problem
    if leader_problem:
        errors[blocks.LEADER] = leader_problem
    if errors:
        ack(response_action="errors", errors=errors)
        return
    new = svc.NewCommunity(
        team_id=team_id,
        channel_id=channel_id,
        name=name,
        mission=mission,
        description=description,
        areas=areas,
        created_by=user_id,
        first_leader=leader,
    )
    try:
        with session_scope(deps.engine) as session:
            community = svc.create(session, new)
    except svc.DuplicateCommunity as e:
        field = blocks.CHANNEL if e.field == "channel" else blocks.NAME
        ack(response_action="errors", errors={field: e.plain})
        return
    except CopError as e:
        ack(response_action="errors", errors={blocks.NAME: str(e)})
        return
    ack()
    deps.later(_after_creation, client, deps, community, user_id, leader, not channel.bot_is_member)


def _check_slack(
    client: WebClient, channel_id: str, user_id: str, leader: str, actor
) -> tuple[slack_checks.ChannelCheck, str | None]:
    """The channel check, and the first leader's when staff named someone else, at once."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        channel = pool.submit(
            slack_checks.check_channel,
            client,
            channel_id,
            user_id,
            staff=can(actor, Action.CREATE_FOR_OTHERS),
        )
        person = (
            pool.submit(slack_checks.check_people, client, [leader]) if leader != user_id else None
        )
        leader_problem = person.result()[0].problem if person else None
        return channel.result(), leader_problem


def _after_creation(
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


def register(app: App) -> None:
    app.view(blocks.NEW_COMMUNITY_CALLBACK)(handle_new_community)
