"""The `/cop` slash command: parse the subcommand, check who may do it, ack within 3 s.

Each subcommand handler takes a `CommandRequest`. Quick answers go back in the ack
itself (ephemeral); slower follow-ups (announcements, profile look-ups) run after it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks import community as community_blocks
from bot.blocks.help import NAMES, help_message
from bot.deps import Deps
from bot.listeners.common import parse_channel, parse_mentions, post_message, refresh_profiles
from bot.services import CopError, people
from bot.services import communities as svc
from bot.services.permissions import Action, Actor, can, who_can
from storage.db import session_scope
from storage.models import Community, Role

log = logging.getLogger(__name__)


@dataclass
class CommandRequest:
    ack: Ack
    client: WebClient
    deps: Deps
    team_id: str
    channel_id: str
    user_id: str
    trigger_id: str
    args: str

    @property
    def actor(self) -> Actor:
        return self.deps.actor(self.user_id)

    def reply(self, payload: dict[str, Any]) -> None:
        self.ack(**payload)

    def say_ephemeral(self, text: str) -> None:
        self.ack(**community_blocks.ephemeral(text))


Handler = Callable[[CommandRequest], None]


def handle_cop(ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
    """Entry point for `/cop ...`."""
    text = (body.get("text") or "").strip()
    name, _, args = text.partition(" ")
    name = name.lower()
    request = CommandRequest(
        ack=ack,
        client=client,
        deps=context["copbot"],
        team_id=body.get("team_id", ""),
        channel_id=body.get("channel_id", ""),
        user_id=body["user_id"],
        trigger_id=body.get("trigger_id", ""),
        args=args.strip(),
    )
    handler = HANDLERS.get(name or "help")
    if handler is not None:
        handler(request)
    elif name in NAMES:
        ack(
            **help_message(HANDLERS, intro=f"`/cop {name}` is coming soon. Here is what works now:")
        )
    else:
        shown = name if len(name) <= 30 else name[:30] + "…"
        ack(**help_message(HANDLERS, intro=f"I don't know `/cop {shown}`. Here is what I can do:"))


def cmd_help(req: CommandRequest) -> None:
    req.reply(help_message(HANDLERS))


def _community_here(req: CommandRequest, channel_id: str | None = None) -> Community | None:
    with session_scope(req.deps.engine) as session:
        return svc.by_channel(session, req.team_id, channel_id or req.channel_id)


def cmd_new(req: CommandRequest) -> None:
    actor = req.actor
    if not can(actor, Action.CREATE_COMMUNITY):
        req.say_ephemeral(f"Only {who_can(Action.CREATE_COMMUNITY)} can create communities.")
        return
    existing = _community_here(req)
    if existing is not None:
        req.say_ephemeral(
            f"This channel already has a community: *{existing.name}*. "
            "To start another, run `/cop new` in the channel it should live in."
        )
        return
    req.ack()
    view = community_blocks.new_community_modal(
        req.channel_id, req.user_id, staff=can(actor, Action.CREATE_FOR_OTHERS)
    )
    req.client.views_open(trigger_id=req.trigger_id, view=view)


def cmd_leaders(req: CommandRequest) -> None:
    ids, rest = parse_mentions(req.args)
    community = _community_here(req)
    if community is None:
        req.reply(community_blocks.no_community_message(req.channel_id))
        return
    if not ids and not rest:
        with session_scope(req.deps.engine) as session:
            current = svc.leaders(session, community.id)
        req.reply(community_blocks.leaders_message(community, current))
        return
    if rest:
        req.say_ephemeral(
            "Name leaders by mentioning them, e.g. `/cop leaders @ana @ben` "
            "(pick each name from the list Slack offers as you type @)."
        )
        return
    try:
        with session_scope(req.deps.engine) as session:
            role = svc.role_of(session, community.id, req.user_id)
            if not can(req.actor, Action.SET_LEADERS, role):
                raise CopError(
                    f"Only {who_can(Action.SET_LEADERS)} can set the leaders of *{community.name}*."
                )
            bots = [u for u in ids if (p := people.get(session, u)) is not None and p.is_bot]
            if bots:
                raise CopError(f"<@{bots[0]}> is an app, not a person: leaders must be people.")
            change = svc.set_leaders(session, community, ids)
    except CopError as e:
        req.say_ephemeral(str(e))
        return
    if not change.changed:
        req.say_ephemeral("Those are already the leaders; nothing changed.")
        return
    req.say_ephemeral(
        f"Done: the leaders of *{community.name}* are now "
        + " and ".join(f"<@{u}>" for u in change.leaders)
        + ". I've told the channel."
    )
    announcement = community_blocks.leaders_changed_announcement(
        community, change.leaders, req.user_id
    )
    post_message(req.client, community.slack_channel_id, announcement)
    refresh_profiles(req.client, req.deps, list(change.added))


def _target_community(req: CommandRequest) -> tuple[Community | None, str]:
    channel, rest = parse_channel(req.args)
    return _community_here(req, channel), rest


def cmd_join(req: CommandRequest) -> None:
    community, _ = _target_community(req)
    if community is None:
        req.reply(community_blocks.no_community_message(req.channel_id))
        return
    with session_scope(req.deps.engine) as session:
        joined = svc.join(session, community, req.user_id)
        role = svc.role_of(session, community.id, req.user_id)
    if not joined:
        word = "a leader" if role == Role.LEADER else "a member"
        req.say_ephemeral(f"You are already {word} of *{community.name}*.")
        return
    where = (
        ""
        if community.slack_channel_id == req.channel_id
        else f" Its channel is <#{community.slack_channel_id}>."
    )
    req.say_ephemeral(
        f"Welcome to *{community.name}*! You'll get its call reminders and polls.{where} "
        "`/cop leave` undoes this."
    )
    refresh_profiles(req.client, req.deps, [req.user_id])


def cmd_leave(req: CommandRequest) -> None:
    community, _ = _target_community(req)
    if community is None:
        req.reply(community_blocks.no_community_message(req.channel_id))
        return
    try:
        with session_scope(req.deps.engine) as session:
            svc.leave(session, community, req.user_id)
    except CopError as e:
        req.say_ephemeral(str(e))
        return
    req.say_ephemeral(f"You have left *{community.name}*. `/cop join` brings you back.")


def cmd_members(req: CommandRequest) -> None:
    community, _ = _target_community(req)
    if community is None:
        req.reply(community_blocks.no_community_message(req.channel_id))
        return
    with session_scope(req.deps.engine) as session:
        entries = svc.roster(session, community.id)
    req.reply(community_blocks.roster_message(community, entries))


HANDLERS: dict[str, Handler] = {
    "help": cmd_help,
    "new": cmd_new,
    "leaders": cmd_leaders,
    "join": cmd_join,
    "leave": cmd_leave,
    "members": cmd_members,
}


def register(app: App) -> None:
    app.command("/cop")(handle_cop)
