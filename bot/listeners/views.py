"""Modal submissions. Input errors go back as `response_action: errors` on the field."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import community as blocks
from bot.deps import Deps
from bot.listeners.common import post_message, refresh_profiles
from bot.services import CopError
from bot.services import communities as svc
from bot.services.permissions import Action, can
from storage.db import session_scope
from storage.models import PurposeArea

log = logging.getLogger(__name__)


def _value(values: dict[str, Any], block_id: str) -> Any:
    element = values.get(block_id, {}).get("value", {})
    kind = element.get("type")
    if kind == "plain_text_input":
        return element.get("value") or ""
    if kind == "conversations_select":
        return element.get("selected_conversation")
    if kind == "users_select":
        return element.get("selected_user")
    if kind == "checkboxes":
        return [o["value"] for o in element.get("selected_options") or []]
    return None


def handle_new_community(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    deps: Deps = context["copbot"]
    view = body["view"]
    values = view["state"]["values"]
    user_id = body["user"]["id"]
    team_id = (body.get("team") or {}).get("id") or view.get("team_id", "")
    actor = deps.actor(user_id)
    meta = json.loads(view.get("private_metadata") or "{}")

    name = _value(values, blocks.NAME)
    mission = _value(values, blocks.MISSION) or ""
    description = _value(values, blocks.DESCRIPTION) or ""
    channel_id = _value(values, blocks.CHANNEL) or meta.get("channel")
    leader = _value(values, blocks.LEADER) or user_id
    try:
        areas = tuple(PurposeArea(v) for v in _value(values, blocks.AREAS) or [])
    except ValueError:
        areas = ()

    errors = svc.validate_fields(name, mission, description)
    if not channel_id:
        errors[blocks.CHANNEL] = "Choose the channel the community lives in."
    if leader != user_id and not can(actor, Action.CREATE_FOR_OTHERS):
        errors[blocks.NAME] = "Only staff can create a community for someone else to lead."
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
        ack(response_action="errors", errors={field: str(e).replace("*", "")})
        return
    except CopError as e:
        ack(response_action="errors", errors={blocks.NAME: str(e)})
        return
    ack()
    deps.later(_after_creation, client, deps, community, user_id, leader)


def _after_creation(client: WebClient, deps: Deps, community, creator: str, leader: str) -> None:
    """Join the channel, announce the community, confirm to the creator."""
    channel = community.slack_channel_id
    joined = True
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
    if error:
        note = (
            f"*{community.name}* is created, but I can't post in <#{channel}> yet. "
            f"Invite me there with `/invite @copbot` so calls and reminders can be posted."
        )
    else:
        note = f"*{community.name}* is created in <#{channel}>, and I've announced it there."
    if leader != creator:
        note += f" <@{leader}> is its first leader."
    note += " Next: `/cop leaders` to add a co-leader, `/cop plan` to plan the year."
    post_message(client, creator, blocks.message_for(note))
    refresh_profiles(client, deps, [creator, leader])


def register(app: App) -> None:
    app.view(blocks.NEW_COMMUNITY_CALLBACK)(handle_new_community)
