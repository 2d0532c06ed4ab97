"""`/cop edit`: leaders and staff change the community's profile in a pre-filled modal;
the channel is told what changed."""

from __future__ import annotations

from bot.blocks import community as community_blocks
from bot.blocks import profile as blocks
from bot.listeners.common import CommandRequest
from bot.listeners.guard import Interaction, on_submission
from bot.listeners.routes import Routes
from bot.services import CopError, profile
from bot.services import communities as svc
from bot.services.permissions import Action, who_can
from bot.slack_client import post_message
from storage.models import PurposeArea

route = Routes()


def cmd_edit(req: CommandRequest) -> None:
    community = req.community()
    if not req.may(Action.EDIT_PROFILE, community):
        raise CopError(
            f"Only {who_can(Action.EDIT_PROFILE)} can edit the profile of *{community.name}*."
        )
    req.open_view(blocks.edit_modal(community))


def _refused(i: Interaction, error: CopError) -> None:
    text = str(error).replace("*", "") if isinstance(error, svc.DuplicateCommunity) else str(error)
    i.ack(response_action="errors", errors={community_blocks.NAME: text})


@route.view(blocks.EDIT_CALLBACK)
@on_submission(_refused)
def handle_edit_submission(i: Interaction) -> None:
    """The profile form: saved in the request; the channel is told what changed."""
    values = i.values()
    name = values.get(community_blocks.NAME) or ""
    mission = values.get(community_blocks.MISSION) or ""
    description = values.get(community_blocks.DESCRIPTION) or ""
    try:
        areas = [PurposeArea(v) for v in values.get(community_blocks.AREAS) or []]
    except ValueError:
        i.ack(response_action="errors", errors={community_blocks.AREAS: "Choose from the list."})
        return
    errors = svc.validate_fields(name, mission, description)
    if i.form_errors(errors):
        return
    community_id = blocks.read_metadata(i.view)
    if community_id is None:
        raise CopError("This form is out of date; run `/cop edit` again.")
    community = i.community_allowing(community_id, Action.EDIT_PROFILE, "edit this profile")
    change = profile.update(
        i.session, community, name=name, mission=mission, description=description, areas=areas
    )
    i.ack()
    if change.changed:
        announcement = blocks.changed_announcement(community, change, i.user_id)
        i.later(post_message, i.client, community.slack_channel_id, announcement)


register = route.register
