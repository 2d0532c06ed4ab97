"""Polls: `/cop poll` (the modal, or the one-line form), the poll modal, and the Vote,
Take back, Close, Show votes and Add an option buttons.

A vote is counted in the request itself (the database decides, in milliseconds), then
acked; the voter's confirmation goes through the action's response_url (so it names no
user in any Slack call) and the channel's message is refreshed after the ack. A vote
click is remembered in the vote's own transaction by a key of the poll and the click's
trigger_id and action_ts (`voting.click_key`), never by who clicked or what they chose:
Slack's retry of it is answered with the same empty ack and changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import shlex
import threading
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.blocks import polls as blocks
from bot.deps import Deps
from bot.flows import polls as flows
from bot.listeners.common import CommandRequest
from bot.listeners.guard import Interaction, on_action, on_submission
from bot.listeners.routes import Routes
from bot.services import CopError
from bot.services import communities as svc
from bot.services import poll_closing as closing
from bot.services import poll_voting as voting
from bot.services import polls as rules
from bot.services.ids import object_id
from bot.services.permissions import Action, can, who_can
from bot.slack_client import respond
from storage.models import Community

route = Routes()

log = logging.getLogger(__name__)


# Slack's clients often turn typed quotes into typographic ones
_SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})


# ---- /cop poll -------------------------------------------------------------------------------
def cmd_poll(req: CommandRequest) -> None:
    staff = can(req.actor, Action.ASK_POLL, None)
    community = svc.by_channel(req.session, req.team_id, req.channel_id)
    if community is None and not (staff and not req.args):
        community = req.community()  # NoCommunity, with its message
    if community is not None and not req.may(Action.ASK_POLL, community):
        raise CopError(f"Only {who_can(Action.ASK_POLL)} can ask polls in *{community.name}*.")
    if not req.args:
        choices = None
        if staff:
            choices = [
                (c.id, c.name) for c in svc.all_by_name(req.session) if c.team_id == req.team_id
            ]
        view = blocks.poll_modal(community.id if community else None, choices)
        req.open_view(view)
        return
    try:
        parts = shlex.split(req.args.translate(_SMART_QUOTES))
    except ValueError:
        raise CopError(
            f"The quotes don't pair up. Write it like this: {blocks.USAGE}, "
            "or `/cop poll` alone for the form with every setting."
        ) from None
    question, options = (parts[0], parts[1:]) if parts else ("", [])
    draft, errors = rules.validate(rules.PollForm(question, options), now=req.deps.clock.now())
    if errors:
        raise CopError(" ".join(errors.values()) + f" Write it like this: {blocks.USAGE}.")
    polls = rules.create(
        req.session, [community], draft, req.user_id, key=req.deps.settings.voter_key
    )
    req.say_ephemeral(
        "Your poll is going up in this channel (one choice, anonymous, results live). "
        "`/cop poll` alone opens the form with every setting."
    )
    req.later(flows.post_polls, req.client, req.deps, [p.id for p in polls], req.user_id)


# ---- the modal -------------------------------------------------------------------------------
def _form(values: dict[str, Any]) -> rules.PollForm:
    settings = values.get(rules.SETTINGS) or []
    closes = values.get(rules.CLOSES)
    closes_at = datetime.fromtimestamp(int(closes), UTC) if closes else None
    return rules.PollForm(
        question=values.get(rules.QUESTION) or "",
        options=(values.get(rules.OPTIONS) or "").splitlines(),
        multiple=values.get(rules.CHOICE) == "multiple",
        max_choices=str(values.get(rules.LIMIT) or ""),
        anonymous="anonymous" in settings,
        live_results="hidden" not in settings,
        members_add_options="add" in settings,
        closes_at=closes_at,
    )


def _targets(i: Interaction, values: dict, meta: dict) -> list[Community]:
    """The communities the poll goes to, each checked against the person's role there."""
    if rules.TARGETS in values:
        if not can(i.actor, Action.ASK_POLL, None):
            raise CopError("Only staff can ask in several communities at once.")
        ids = values[rules.TARGETS]
    elif meta.get("community"):
        ids = [meta["community"]]
    else:
        raise CopError("Pick at least one community.")
    try:
        ids = sorted({int(i) for i in ids})
    except (TypeError, ValueError):
        raise CopError("That community is not one copbot knows.") from None
    return [i.community_allowing(cid, Action.ASK_POLL, "ask polls there") for cid in ids]


def _create_refused(i: Interaction, error: CopError) -> None:
    where = rules.TARGETS if rules.TARGETS in i.values() else rules.QUESTION
    i.ack(response_action="errors", errors={where: str(error)})


def _created_already(i: Interaction, _error: IntegrityError) -> None:
    i.ack()  # the same form submitted again: its polls exist already


@route.view(blocks.CREATE_CALLBACK)
@on_submission(_create_refused, conflict=_created_already)
def handle_create(i: Interaction) -> None:
    """The poll form: the polls are stored in the request and posted after the ack."""
    values = i.values()
    try:
        meta = json.loads(i.view.get("private_metadata") or "{}")
        form = _form(values)
    except (ValueError, TypeError, OverflowError):
        damaged = "The form came back damaged; try again."
        i.ack(response_action="errors", errors={rules.QUESTION: damaged})
        return
    draft, errors = rules.validate(form, now=i.deps.clock.now())
    if i.form_errors(errors):
        return
    polls = rules.create(
        i.session,
        _targets(i, values, meta),
        draft,
        i.user_id,
        source=f"view:{i.view.get('id')}",
        key=i.deps.settings.voter_key,
    )
    i.ack()
    i.later(flows.post_polls, i.client, i.deps, [p.id for p in polls], i.user_id)


def _option_taken(i: Interaction, _error: IntegrityError) -> None:
    shown = rules.clean_label(i.values().get(blocks.ADD_OPTION) or "")
    i.ack(response_action="errors", errors={blocks.ADD_OPTION: f"“{shown}” is an option already."})


@route.view(blocks.ADD_OPTION_CALLBACK)
@on_submission(blocks.ADD_OPTION, conflict=_option_taken)
def handle_add_option(i: Interaction) -> None:
    """Add an option: the form opened from the poll's message."""
    try:
        meta = json.loads(i.view.get("private_metadata") or "{}")
        poll_id, tag = int(meta["poll"]), str(meta.get("tag") or "")
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
        raise CopError("This form is not one copbot knows.") from None
    if not _may_see(i, rules.load(i.session, poll_id), tag):
        raise CopError(NOT_YOURS)
    voting.add_option(
        i.session, poll_id, i.values().get(blocks.ADD_OPTION) or "", i.deps.clock.now()
    )
    i.ack()
    i.later(flows.refresh, i.client, i.deps, poll_id)


# ---- buttons ---------------------------------------------------------------------------------
_PAIR = re.compile(r"^(\d{1,12}):(\d{1,12})$")
NOT_YOURS = "That poll is not one you can see from here."
NOT_A_POLL = "That button is not a poll copbot knows."


def _team(body: dict[str, Any]) -> str | None:
    team = body.get("team")
    return team.get("id") if isinstance(team, dict) else None


def _channel(body: dict[str, Any]) -> str | None:
    channel = body.get("channel")
    container = body.get("container")
    if isinstance(channel, dict) and channel.get("id"):
        return str(channel["id"])
    return str(container.get("channel_id") or "") if isinstance(container, dict) else None


def _may_see(i: Interaction, poll, tag: str = "") -> bool:
    """Whether the person may act on `poll` from this request: its workspace, and either
    the poll's own channel (where everyone sees it), a role in the poll's own community,
    staff, or a form copbot opened for them from the poll (`tag`)."""
    community = i.session.get(Community, poll.community_id)
    if community is None or _team(i.body) not in (None, community.team_id):
        return False
    channel = _channel(i.body)
    if channel and channel in (community.slack_channel_id, poll.message_channel):
        return True
    if tag and hmac.compare_digest(tag, _form_tag(i.deps, poll.id, i.user_id)):
        return True
    role = svc.role_of(i.session, community.id, i.user_id)
    return role is not None or can(i.actor, Action.ASK_POLL, None)


def _form_tag(deps: Deps, poll_id: int, user_id: str) -> str:
    """Marks an Add an option form copbot opened for `user_id` from the poll's message."""
    text = f"poll add option|{poll_id}|{user_id}".encode()
    return hmac.new(deps.settings.voter_key, text, hashlib.sha256).hexdigest()[:32]


def _seen_poll(i: Interaction):
    """The poll a button names, if the person may see it from here."""
    poll_id = object_id(i.value)
    if poll_id is None:
        raise CopError(NOT_A_POLL)
    poll = rules.load(i.session, poll_id)
    if not _may_see(i, poll):
        raise CopError(NOT_YOURS)
    return poll


def as_note(i: Interaction, error: CopError) -> None:
    """A poll's refusals: a note only the person sees, under the poll."""
    i.later(respond, i.response_url, blocks.note(str(error)))


def _click_key(i: Interaction, poll_id: int) -> str | None:
    """The key a Vote or Take back click is remembered by (None: no click ids to key)."""
    trigger, action_ts = i.body.get("trigger_id"), i.action.get("action_ts")
    if not (isinstance(trigger, str) and trigger and isinstance(action_ts, str) and action_ts):
        return None
    return voting.click_key(poll_id, trigger, action_ts, i.deps.settings.voter_key)


# SQLite has one writer at a time and makes the others poll for it with growing sleeps;
# votes in one process take turns here instead (the database still decides the count)
_SQLITE_VOTES = threading.Lock()


def _writing(deps: Deps) -> AbstractContextManager:
    return _SQLITE_VOTES if deps.engine.dialect.name == "sqlite" else nullcontext()


def _choose(i: Interaction, take_back: bool) -> None:
    """A vote or its taking back: checked, then counted in a unit of work of its own
    (taking turns on SQLite), then answered to the voter alone."""
    match = _PAIR.match(i.value)
    if match is None:
        raise CopError("That button is not a vote copbot knows.")
    poll_id, option_id = int(match.group(1)), int(match.group(2))
    deps = i.deps
    with i.unit_of_work():
        b = voting.ballot(i.session, poll_id)
        if not _may_see(i, b.poll):
            raise CopError(NOT_YOURS)
    act = voting.withdraw if take_back else voting.vote
    click = _click_key(i, poll_id)
    with _writing(deps), i.unit_of_work():
        result = act(
            i.session,
            b,
            option_id,
            i.user_id,
            deps.settings.voter_key,
            i.deps.clock.now(),
            click=click,
        )
    if result.outcome == "replay":  # Slack's retry of a counted click: answered already
        i.context["copbot_replay"] = True
        return
    i.later(respond, i.response_url, blocks.vote_answer(result, b.labels))
    if result.outcome in ("added", "withdrawn"):
        i.later(flows.refresh, i.client, deps, poll_id)


@route.action(blocks.VOTE_ACTION)
@on_action(refuse=as_note)
def handle_vote(i: Interaction) -> None:
    """Vote: counted in the request, answered to the voter, the poll refreshed after."""
    _choose(i, take_back=False)


@route.action(re.compile(f"^{blocks.WITHDRAW_ACTION}-"))
@on_action(refuse=as_note)
def handle_withdraw(i: Interaction) -> None:
    """Take back a vote."""
    _choose(i, take_back=True)


@route.action(blocks.CLOSE_ACTION)
@on_action(refuse=as_note)
def handle_close(i: Interaction) -> None:
    """Close: by the one who asked, the community's leaders or staff; the results are
    delivered after the ack."""
    poll_id = object_id(i.value)
    if poll_id is None:
        raise CopError(NOT_A_POLL)
    poll = rules.load(i.session, poll_id)
    role = svc.role_of(i.session, poll.community_id, i.user_id)
    if i.user_id != poll.created_by and not can(i.actor, Action.ASK_POLL, role):
        raise CopError(f"Only the one who asked, {who_can(Action.ASK_POLL)} can close this poll.")
    now = i.deps.clock.now()
    if not closing.close(i.session, poll_id, now):
        raise CopError("This poll was closed already.")
    i.later(flows.forget_on_disk, i.deps)
    i.later(flows.deliver_results, i.client, i.deps, poll_id, now)


@route.action(blocks.SHOW_VOTES_ACTION)
@on_action(refuse=as_note)
def handle_show_votes(i: Interaction) -> None:
    """Show votes: who voted for what, to the person alone, where the poll allows it."""
    poll = _seen_poll(i)
    t = rules.tally(i.session, poll.id, with_voters=True)
    if t.poll.anonymous:
        raise CopError("This poll is anonymous: no one can see who voted for what.")
    if not t.poll.live_results and t.poll.state != "closed":
        raise CopError("The votes show when the poll closes.")
    i.later(respond, i.response_url, blocks.votes_list(t))


@route.action(blocks.ADD_OPTION_ACTION)
@on_action(refuse=as_note)
def handle_add_option_open(i: Interaction) -> None:
    """Add an option: its form, marked as opened for this person from this poll."""
    poll = _seen_poll(i)
    if not poll.members_add_options or poll.state != "open":
        raise CopError("This poll does not take new options.")
    tag = _form_tag(i.deps, poll.id, i.user_id)
    i.open_view(blocks.add_option_modal(poll.id, poll.question, tag))


register = route.register
