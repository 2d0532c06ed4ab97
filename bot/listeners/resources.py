"""`/cop resources`: the guides and guidelines, the community's recordings and slides,
and the leaders' acknowledgement (a button, once a program year). `/cop resources
status` (staff): who has acknowledged."""

from __future__ import annotations

from bot.blocks import resources as blocks
from bot.deps import Deps
from bot.listeners.common import CommandRequest, object_id
from bot.listeners.guard import Interaction, on_action
from bot.listeners.routes import Routes
from bot.services import CopError, recordings, reports, resources
from bot.services import communities as svc
from bot.services.calls import year_label
from bot.services.permissions import Action, who_can

route = Routes()


def _year(deps: Deps) -> tuple[int, str]:
    today = deps.clock.now().astimezone(deps.settings.zone).date()
    year, first, _end = reports.year_of(today, deps.settings.program_year_start)
    return year, year_label(first)


def _archived(session, community_id: int) -> list:
    """The community's archive by call (recordings, slides, readings), newest first."""
    return recordings.archive(session, community_id, 20)


def cmd_resources(req: CommandRequest) -> None:
    year, label = _year(req.deps)
    sections = req.deps.settings.resources or resources.load(req.deps.settings.resources_path)
    if req.args.strip().lower() == "status":
        req.require(Action.VIEW_ALL_COMMUNITIES, "see every community")
        acks = resources.acknowledged(req.session, year)
        rows = [(c, acks.get(c.id)) for c in svc.all_by_name(req.session)]
        req.reply(blocks.ack_status(label, rows))
        return
    community = svc.by_channel(req.session, req.team_id, req.channel_id)
    archived, ack, may_ack = [], None, False
    if community is not None:
        archived = _archived(req.session, community.id)
        ack = resources.acknowledged(req.session, year).get(community.id)
        may_ack = req.may(Action.EDIT_PLAN, community)
    req.reply(
        blocks.resources_message(
            community, sections, archived, ack, may_ack=may_ack, year_label=label
        )
    )


@route.action(blocks.ACK_ACTION)
@on_action
def handle_ack(i: Interaction) -> None:
    """The leaders' acknowledgement of the guidelines, once a program year."""
    year, label = _year(i.deps)
    if object_id(i.value) is None:
        raise CopError("That button is out of date; run `/cop resources` again.")
    community = i.community_allowing(
        i.value,
        Action.EDIT_PLAN,
        refusal=f"Only {who_can(Action.EDIT_PLAN)} acknowledge the guidelines.",
    )
    if resources.acknowledge(i.session, community.id, year, i.user_id):
        i.tell(f"Thank you: {community.name} follows the guidelines for {label}. Staff can see it.")
    else:
        i.tell(f"{community.name} has already acknowledged the guidelines for {label}.")


register = route.register
