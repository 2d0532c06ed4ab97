"""The `/cop` slash command: parse the subcommand, check who may do it, ack within 3 s.

Each subcommand handler takes a `CommandRequest` and runs in one unit of work. It answers
in the ack itself (ephemeral) or raises `CopError`, whose message becomes the answer and
whose unit of work is rolled back, so bad input changes nothing. Follow-ups such as
announcements, modals and profile look-ups are queued with `req.later(...)` and start
once the unit of work is committed.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.blocks import community as community_blocks
from bot.blocks import escape
from bot.blocks.help import NAMES, help_message
from bot.deps import Deps
from bot.flows import communities as community_flows
from bot.flows import registrations as registration_flows
from bot.flows import slack_checks
from bot.flows.profiles import refresh_profiles
from bot.listeners.agenda import cmd_agenda
from bot.listeners.announcements import cmd_announce
from bot.listeners.calls import cmd_calls, cmd_schedule
from bot.listeners.common import CommandRequest, parse_channel, parse_mentions
from bot.listeners.evidence import cmd_evidence
from bot.listeners.guard import Interaction, on_action
from bot.listeners.onsite import cmd_onsite
from bot.listeners.plan import cmd_plan
from bot.listeners.polls import cmd_poll
from bot.listeners.profile import cmd_edit
from bot.listeners.reminders import cmd_remind
from bot.listeners.report import cmd_report
from bot.listeners.resources import cmd_resources
from bot.listeners.routes import Routes
from bot.listeners.shares import cmd_share
from bot.listeners.year import cmd_year
from bot.services import CopError, people
from bot.services import communities as svc
from bot.services.permissions import Action, can, who_can
from bot.slack_client import post_message
from storage.db import session_scope
from storage.models import Community, Role

route = Routes()

log = logging.getLogger(__name__)
USER_ID = re.compile(r"[UW][A-Z0-9]{1,20}")


Handler = Callable[[CommandRequest], None]


@route.command("/cop")
def handle_cop(ack: Ack, body: dict[str, Any], client: WebClient, deps: Deps) -> None:
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
            f"This channel already has a community: *{escape(existing.name)}*. "
            "To start another, run `/cop new` in the channel it should live in."
        )
    view = community_blocks.new_community_modal(
        req.channel_id, req.user_id, staff=can(actor, Action.CREATE_FOR_OTHERS)
    )
    req.open_view(view)


def cmd_leaders(req: CommandRequest) -> None:
    """Show the leaders, or set them. Each person named is checked with users.info while
    the command waits (see `slack_checks`): only real, active people can lead."""
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
    if not req.may(Action.SET_LEADERS, community):
        raise CopError(
            f"Only {who_can(Action.SET_LEADERS)} can set the leaders of *{escape(community.name)}*."
        )
    ids = svc.leader_ids(ids)
    checked = _check_leaders(req, ids)
    try:
        change = svc.set_leaders(req.session, community, ids, actor=req.user_id)
    except svc.NeedsConfirmation as e:
        req.reply(community_blocks.leaders_confirm_message(community, ids, str(e)))
        return
    # profiles after the community's lock, in the order every roster change takes them
    for user in checked:
        people.store_profile(req.session, user, req.deps.clock.now())
    _announce_leaders(req, community, change)
    # former leaders stay on as members, so their registrations stand
    req.later(
        registration_flows.register_newcomers,
        req.deps,
        req.client,
        community.id,
        list(change.added),
    )


def _check_leaders(req: CommandRequest, ids: list[str]) -> list[dict[str, Any]]:
    """users.info's answer for each id; CopError naming the first who cannot lead, and why."""
    found = []
    for check in slack_checks.check_people(req.client, ids):
        if check.problem:
            raise CopError(check.problem + " Nothing changed.")
        if check.user is not None:
            found.append(check.user)
    return found


def _announce_leaders(req: CommandRequest, community: Community, change) -> None:
    if not change.changed:
        req.say_ephemeral("Those are already the leaders; nothing changed.")
        return
    req.say_ephemeral(
        f"Done: {community_blocks.leaders_sentence(community, change.leaders)}. "
        "I've told the channel."
    )
    announcement = community_blocks.leaders_changed_announcement(
        community, change.leaders, req.user_id
    )
    req.later(post_message, req.client, community.slack_channel_id, announcement)


@route.action(community_blocks.LEADERS_CONFIRM_ACTION)
@on_action
def handle_leaders_confirm(i: Interaction) -> None:
    """The "Step down" button: ack at once; check and apply after the ack."""
    try:
        value = json.loads(i.value)
        community_id = int(value["community"])
        ids = [str(u) for u in value["leaders"]]
        if not 1 <= len(ids) <= svc.MAX_LEADERS or not all(USER_ID.fullmatch(u) for u in ids):
            raise ValueError
    except (ValueError, TypeError, KeyError, IndexError):
        raise CopError("That button is not one I made; nothing changed.") from None
    i.later(
        community_flows.confirm_leaders,
        i.client,
        i.deps,
        community_id,
        ids,
        i.user_id,
        i.response_url,
    )


def _target_community(req: CommandRequest) -> Community:
    """The community named by a #channel argument, else the one of this channel."""
    channel, _ = parse_channel(req.args)
    return req.community(channel)


def cmd_join(req: CommandRequest) -> None:
    community = _target_community(req)
    name = escape(community.name)
    if not svc.join(req.session, community, req.user_id):
        role = svc.role_of(req.session, community.id, req.user_id)
        word = "a leader" if role == Role.LEADER else "a member"
        req.say_ephemeral(f"You are already {word} of *{name}*.")
        return
    where = (
        ""
        if community.slack_channel_id == req.channel_id
        else f" Its channel is <#{community.slack_channel_id}>."
    )
    req.say_ephemeral(
        f"Welcome to *{name}*! You'll get its call reminders and polls.{where} "
        "`/cop leave` undoes this."
    )
    req.later(refresh_profiles, req.client, req.deps, [req.user_id])
    req.later(
        registration_flows.register_newcomers, req.deps, req.client, community.id, [req.user_id]
    )


def cmd_leave(req: CommandRequest) -> None:
    community = _target_community(req)
    svc.leave(req.session, community, req.user_id)
    req.say_ephemeral(f"You have left *{escape(community.name)}*. `/cop join` brings you back.")
    req.later(registration_flows.cancel_leaver, req.deps, community.id, req.user_id)


def cmd_members(req: CommandRequest) -> None:
    community = _target_community(req)
    entries = svc.cached_roster(req.session, community)
    req.reply(community_blocks.roster_message(community, entries))


HANDLERS: dict[str, Handler] = {
    "help": cmd_help,
    "new": cmd_new,
    "plan": cmd_plan,
    "leaders": cmd_leaders,
    "join": cmd_join,
    "leave": cmd_leave,
    "members": cmd_members,
    "schedule": cmd_schedule,
    "calls": cmd_calls,
    "year": cmd_year,
    "remind": cmd_remind,
    "poll": cmd_poll,
    "announce": cmd_announce,
    "edit": cmd_edit,
    "onsite": cmd_onsite,
    "agenda": cmd_agenda,
    "evidence": cmd_evidence,
    "report": cmd_report,
    "resources": cmd_resources,
    "share": cmd_share,
}


register = route.register
