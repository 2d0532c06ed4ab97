"""The `/cop` slash command: parse the subcommand, check who may do it, ack within 3 s.

Each subcommand handler takes a `CommandRequest` and runs in one unit of work. It answers
in the ack itself (ephemeral) or raises `CopError`, whose message becomes the answer and
whose unit of work is rolled back, so bad input changes nothing. Follow-ups such as
announcements, modals and profile look-ups are queued with `req.later(...)` and start
once the unit of work is committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks import community as community_blocks
from bot.blocks.help import NAMES, help_message
from bot.deps import Deps
from bot.listeners import announcements, calls, plan, polls, reminders
from bot.listeners.common import (
    CommandRequest,
    parse_channel,
    parse_mentions,
    post_message,
    refresh_profiles,
)
from bot.services import CopError, people
from bot.services import communities as svc
from bot.services.permissions import Action, can, who_can
from storage.db import session_scope
from storage.models import Community, Role

log = logging.getLogger(__name__)


Handler = Callable[[CommandRequest], None]


def handle_cop(ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
    """Entry point for `/cop ...`."""
    text = (body.get("text") or "").strip()
    name, _, args = text.partition(" ")
    name = name.lower()
    handler = HANDLERS.get(name or "help")
    if handler is None:
        shown = name if len(name) <= 30 else name[:30] + "…"
        intro = (
            f"`/cop {name}` is coming soon. Here is what works now:"
            if name in NAMES
            else f"I don't know `/cop {shown}`. Here is what I can do:"
        )
        ack(**help_message(HANDLERS, intro=intro))
        return
    deps: Deps = context["copbot"]
    pending: list = []
    try:
        with session_scope(deps.engine) as session:
            request = CommandRequest(
                ack=ack,
                client=client,
                deps=deps,
                session=session,
                team_id=body.get("team_id", ""),
                channel_id=body.get("channel_id", ""),
                user_id=body["user_id"],
                trigger_id=body.get("trigger_id", ""),
                response_url=body.get("response_url", ""),
                args=args.strip(),
                pending=pending,
            )
            handler(request)
    except CopError as e:
        ack(**community_blocks.ephemeral(str(e)))
        return
    for fn, fn_args, fn_kwargs in pending:
        deps.later(fn, *fn_args, **fn_kwargs)


def cmd_help(req: CommandRequest) -> None:
    req.reply(help_message(HANDLERS))


def cmd_new(req: CommandRequest) -> None:
    actor = req.actor
    if not can(actor, Action.CREATE_COMMUNITY):
        raise CopError(f"Only {who_can(Action.CREATE_COMMUNITY)} can create communities.")
    existing = svc.by_channel(req.session, req.team_id, req.channel_id)
    if existing is not None:
        raise CopError(
            f"This channel already has a community: *{existing.name}*. "
            "To start another, run `/cop new` in the channel it should live in."
        )
    req.ack()
    view = community_blocks.new_community_modal(
        req.channel_id, req.user_id, staff=can(actor, Action.CREATE_FOR_OTHERS)
    )
    # the trigger_id is used at once, right after the ack
    req.later(req.client.views_open, trigger_id=req.trigger_id, view=view)


def cmd_leaders(req: CommandRequest) -> None:
    ids, rest = parse_mentions(req.args)
    community = req.community()
    if not ids and not rest:
        current = svc.leaders(req.session, community.id)
        req.reply(community_blocks.leaders_message(community, current))
        return
    if rest:
        raise CopError(
            "Name leaders by mentioning them, e.g. `/cop leaders @ana @ben` "
            "(pick each name from the list Slack offers as you type @)."
        )
    role = svc.role_of(req.session, community.id, req.user_id)
    if not can(req.actor, Action.SET_LEADERS, role):
        raise CopError(
            f"Only {who_can(Action.SET_LEADERS)} can set the leaders of *{community.name}*."
        )
    bots = [u for u in ids if (p := people.get(req.session, u)) is not None and p.is_bot]
    if bots:
        raise CopError(f"<@{bots[0]}> is an app, not a person: leaders must be people.")
    change = svc.set_leaders(req.session, community, ids)
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
    req.later(post_message, req.client, community.slack_channel_id, announcement)
    req.later(refresh_profiles, req.client, req.deps, list(change.added))


def _target_community(req: CommandRequest) -> Community:
    """The community named by a #channel argument, else the one of this channel."""
    channel, _ = parse_channel(req.args)
    return req.community(channel)


def cmd_join(req: CommandRequest) -> None:
    community = _target_community(req)
    if not svc.join(req.session, community, req.user_id):
        role = svc.role_of(req.session, community.id, req.user_id)
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
    req.later(refresh_profiles, req.client, req.deps, [req.user_id])


def cmd_leave(req: CommandRequest) -> None:
    community = _target_community(req)
    svc.leave(req.session, community, req.user_id)
    req.say_ephemeral(f"You have left *{community.name}*. `/cop join` brings you back.")


def cmd_members(req: CommandRequest) -> None:
    community = _target_community(req)
    entries = svc.cached_roster(req.session, community)
    req.reply(community_blocks.roster_message(community, entries))


HANDLERS: dict[str, Handler] = {
    "help": cmd_help,
    "new": cmd_new,
    "plan": plan.cmd_plan,
    "leaders": cmd_leaders,
    "join": cmd_join,
    "leave": cmd_leave,
    "members": cmd_members,
    "schedule": calls.cmd_schedule,
    "calls": calls.cmd_calls,
    "year": calls.cmd_year,
    "remind": reminders.cmd_remind,
    "poll": polls.cmd_poll,
    "announce": announcements.cmd_announce,
}


def register(app: App) -> None:
    app.command("/cop")(handle_cop)
