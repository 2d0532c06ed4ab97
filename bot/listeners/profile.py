"""`/cop edit`: leaders and staff change the community's profile in a pre-filled modal;
the channel is told what changed."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks import community as community_blocks
from bot.blocks import profile as blocks
from bot.deps import Deps
from bot.listeners.common import CommandRequest, community_allowing, modal_values
from bot.services import CopError, profile
from bot.services import communities as svc
from bot.services.permissions import Action, can, who_can
from bot.slack_client import post_message
from storage.db import session_scope
from storage.models import PurposeArea


def cmd_edit(req: CommandRequest) -> None:
    community = req.community()
    role = svc.role_of(req.session, community.id, req.user_id)
    if not can(req.actor, Action.EDIT_PROFILE, role):
        raise CopError(
            f"Only {who_can(Action.EDIT_PROFILE)} can edit the profile of *{community.name}*."
        )
    req.ack()
    req.later(req.client.views_open, trigger_id=req.trigger_id, view=blocks.edit_modal(community))


def handle_edit_submission(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    deps: Deps = context["copbot"]
    view = body["view"]
    user_id = body["user"]["id"]
    values = modal_values(view)
    community_id = blocks.read_metadata(view)
    name = values.get(community_blocks.NAME) or ""
    try:
        areas = [PurposeArea(v) for v in values.get(community_blocks.AREAS) or []]
    except ValueError:
        ack(response_action="errors", errors={community_blocks.AREAS: "Choose from the list."})
        return
    errors = svc.validate_fields(
        name,
        values.get(community_blocks.MISSION) or "",
        values.get(community_blocks.DESCRIPTION) or "",
    )
    if errors:
        ack(response_action="errors", errors=errors)
        return
    try:
        if community_id is None:
            raise CopError("This form is out of date; run `/cop edit` again.")
        with session_scope(deps.engine) as session:
            community = community_allowing(
                deps, session, community_id, user_id, Action.EDIT_PROFILE, "edit this profile"
            )
            change = profile.update(
                session,
                community,
                name=name,
                mission=values.get(community_blocks.MISSION) or "",
                description=values.get(community_blocks.DESCRIPTION) or "",
                areas=areas,
            )
    except svc.DuplicateCommunity as e:
        ack(response_action="errors", errors={community_blocks.NAME: str(e).replace("*", "")})
        return
    except CopError as e:
        ack(response_action="errors", errors={community_blocks.NAME: str(e)})
        return
    ack()
    if change.changed:
        announcement = blocks.changed_announcement(community, change, user_id)
        deps.later(post_message, client, community.slack_channel_id, announcement)


def register(app: App) -> None:
    app.view(blocks.EDIT_CALLBACK)(handle_edit_submission)
