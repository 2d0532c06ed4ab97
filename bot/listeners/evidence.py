"""The evidence log: the message shortcut "Save as evidence", `/cop evidence [note]`,
`/cop evidence list`, and leaders' Remove buttons."""

from __future__ import annotations

from typing import Any

from bot.blocks import evidence as blocks
from bot.blocks import plural
from bot.deps import Deps
from bot.flows import evidence as flows
from bot.listeners.common import CommandRequest, object_id
from bot.listeners.guard import Interaction, on_action
from bot.listeners.routes import Routes
from bot.services import CopError
from bot.services import communities as svc
from bot.services import evidence as log_
from bot.services.permissions import Action, can, who_can
from bot.slack_client import respond
from storage.models import Community, Evidence

route = Routes()


def _list_payload(deps: Deps, session, community: Community, user_id: str) -> dict[str, Any]:
    role = svc.role_of(session, community.id, user_id)
    return blocks.evidence_list(
        community,
        log_.items(session, community.id),
        log_.count(session, community.id),
        may_remove=can(deps.actor(user_id), Action.MANAGE_EVIDENCE, role),
    )


def cmd_evidence(req: CommandRequest) -> None:
    community = req.community()
    role = svc.role_of(req.session, community.id, req.user_id)
    words, sub = req.words, req.sub
    if sub in ("", "list"):
        req.reply(_list_payload(req.deps, req.session, community, req.user_id))
        return
    if sub == "remove" and len(words) == 2:
        if not can(req.actor, Action.MANAGE_EVIDENCE, role):
            raise CopError(f"Only {who_can(Action.MANAGE_EVIDENCE)} can remove evidence.")
        item_id = object_id(words[1])
        if item_id is None or not log_.remove(req.session, community.id, item_id):
            raise CopError(f"*{community.name}*'s evidence log has no item {words[1][:12]}.")
        req.say_ephemeral("Removed from the evidence log.")
        return
    if not can(req.actor, Action.ADD_EVIDENCE, role):
        raise CopError(
            f"Only {who_can(Action.ADD_EVIDENCE)} can add to *{community.name}*'s evidence log; "
            "`/cop join` first."
        )
    log_.add_note(req.session, community.id, req.args, req.user_id)
    req.say_ephemeral(
        f"Added your note to *{community.name}*'s evidence log "
        f"({plural(log_.count(req.session, community.id), 'item')}). `/cop evidence` lists them."
    )


@route.shortcut(blocks.SHORTCUT_CALLBACK)
@on_action
def handle_save_shortcut(i: Interaction) -> None:
    """Save as evidence: stored and answered after the ack."""
    i.later(flows.save_message, i.client, i.deps, i.body)


@route.action(blocks.REMOVE_ACTION)
@on_action
def handle_remove(i: Interaction) -> None:
    """Remove: the item leaves the log; the list is shown again."""
    item, community = i.allowed(
        Evidence,
        i.value,
        Action.MANAGE_EVIDENCE,
        "remove evidence",
        missing="That item was already removed.",
        malformed="That button is out of date; `/cop evidence` lists the log again.",
    )
    log_.remove(i.session, community.id, item.id)
    payload = _list_payload(i.deps, i.session, community, i.user_id)
    i.later(respond, i.response_url, {**payload, "replace_original": True})


register = route.register
