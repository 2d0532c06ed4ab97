"""The new-community form. Input errors go back as `response_action: errors` on the field;
the channel is checked with Slack (a real channel the bot can post in, and one the person
is in unless they are staff) before anything is stored."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from slack_sdk import WebClient

from bot.blocks import community as blocks
from bot.flows import communities as flows
from bot.flows import slack_checks
from bot.listeners.guard import Interaction, on_submission
from bot.listeners.routes import Routes
from bot.services import CopError
from bot.services import communities as svc
from bot.services.permissions import Action, can
from storage.models import PurposeArea

route = Routes()


def _refused(i: Interaction, error: CopError) -> None:
    if isinstance(error, svc.DuplicateCommunity):
        field = blocks.CHANNEL if error.field == "channel" else blocks.NAME
        i.ack(response_action="errors", errors={field: error.plain})
    else:
        i.ack(response_action="errors", errors={blocks.NAME: str(error)})


@route.view(blocks.NEW_COMMUNITY_CALLBACK)
@on_submission(_refused)
def handle_new_community(i: Interaction) -> None:
    """The new-community form: checked with Slack while the form waits, stored, then
    announced after the ack."""
    new = _read_form(i)
    if new is None:
        return
    channel, leader_problem = _check_slack(
        i.client, new.channel_id, i.user_id, new.first_leader, i.actor
    )
    errors = {}
    if channel.problem:
        errors[blocks.CHANNEL] = channel.problem
    if leader_problem:
        errors[blocks.LEADER] = leader_problem
    if i.form_errors(errors):
        return
    community = svc.create(i.session, new)
    i.ack()
    join = not channel.bot_is_member
    i.later(flows.after_creation, i.client, i.deps, community, i.user_id, new.first_leader, join)


def _read_form(i: Interaction) -> svc.NewCommunity | None:
    """The form's community, or None once its errors are answered."""
    values, user_id = i.values(), i.user_id
    try:
        meta = json.loads(i.view.get("private_metadata") or "{}")
    except ValueError:
        meta = {}
    meta = meta if isinstance(meta, dict) else {}
    name = values.get(blocks.NAME) or ""
    mission = values.get(blocks.MISSION) or ""
    description = values.get(blocks.DESCRIPTION) or ""
    channel_id = values.get(blocks.CHANNEL) or meta.get("channel")
    leader = values.get(blocks.LEADER) or user_id
    chosen = values.get(blocks.AREAS) or []
    errors = svc.validate_fields(name, mission, description)
    if not isinstance(channel_id, str) or not channel_id:
        errors[blocks.CHANNEL] = "Choose the channel the community lives in."
    if leader != user_id and not can(i.actor, Action.CREATE_FOR_OTHERS):
        errors[blocks.NAME] = "Only staff can create a community for someone else to lead."
    if i.form_errors(errors):
        return None
    return svc.NewCommunity(
        team_id=i.team_id,
        channel_id=channel_id,
        name=name,
        mission=mission,
        description=description,
        areas=tuple(a for a in PurposeArea if a.value in chosen),
        created_by=user_id,
        first_leader=leader,
    )


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


register = route.register
