"""`/cop resources`: the guides and guidelines, the community's recordings and slides,
and the leaders' acknowledgement (a button, once a program year). `/cop resources
status` (staff): who has acknowledged."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks import resources as blocks
from bot.deps import Deps
from bot.listeners.common import CommandRequest, object_id
from bot.services import CopError, recordings, reports, resources
from bot.services import communities as svc
from bot.services.calls import year_label
from bot.services.permissions import Action, can, who_can
from bot.slack_client import tell
from storage.db import session_scope
from storage.models import Community, utcnow


def _year(deps: Deps) -> tuple[int, str]:
    today = utcnow().astimezone(deps.settings.zone).date()
    year, first, _end = reports.year_of(today, deps.settings.program_year_start)
    return year, year_label(first)


def _archived(session, community_id: int) -> list:
    """The community's archive by call (recordings, slides, readings), newest first."""
    return recordings.archive(session, community_id, 20)


def cmd_resources(req: CommandRequest) -> None:
    year, label = _year(req.deps)
    sections = req.deps.settings.resources or resources.load(req.deps.settings.resources_path)
    if req.args.strip().lower() == "status":
        if not can(req.actor, Action.VIEW_ALL_COMMUNITIES):
            raise CopError(f"Only {who_can(Action.VIEW_ALL_COMMUNITIES)} see every community.")
        acks = resources.acknowledged(req.session, year)
        rows = [(c, acks.get(c.id)) for c in svc.all_by_name(req.session)]
        req.reply(blocks.ack_status(label, rows))
        return
    community = svc.by_channel(req.session, req.team_id, req.channel_id)
    archived, ack, may_ack = [], None, False
    if community is not None:
        archived = _archived(req.session, community.id)
        ack = resources.acknowledged(req.session, year).get(community.id)
        role = svc.role_of(req.session, community.id, req.user_id)
        may_ack = can(req.actor, Action.EDIT_PLAN, role)
    req.reply(
        blocks.resources_message(
            community, sections, archived, ack, may_ack=may_ack, year_label=label
        )
    )


def handle_ack(ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]):
    ack()
    deps: Deps = context["copbot"]
    user_id = body["user"]["id"]
    value = (body.get("actions") or [{}])[0].get("value", "")
    answer = body.get("response_url") or ""
    year, label = _year(deps)
    community_id = object_id(value)
    if community_id is None:
        tell(answer, "That button is out of date; run `/cop resources` again.")
        return
    with session_scope(deps.engine) as session:
        community = session.get(Community, community_id)
        if community is None:
            tell(answer, "This community no longer exists.")
            return
        role = svc.role_of(session, community.id, user_id)
        if not can(deps.actor(user_id), Action.EDIT_PLAN, role):
            tell(answer, f"Only {who_can(Action.EDIT_PLAN)} acknowledge the guidelines.")
            return
        new = resources.acknowledge(session, community.id, year, user_id)
        name = community.name
    if new:
        tell(answer, f"Thank you: {name} follows the guidelines for {label}. Staff can see it.")
    else:
        tell(answer, f"{name} has already acknowledged the guidelines for {label}.")


def register(app: App) -> None:
    app.action(blocks.ACK_ACTION)(handle_ack)
