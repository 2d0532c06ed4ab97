"""Polls: `/cop poll` (the modal, or the one-line form), the poll modal, and the Vote,
Take back, Close, Show votes and Add an option buttons.

A vote is counted in the request itself (the database decides, in milliseconds), then
acked; the voter's confirmation goes through the action's response_url (so it names no
user in any Slack call) and the channel's message is refreshed after the ack. A vote
click is remembered in the vote's own transaction by a key of the poll and the click's
trigger_id and action_ts (`rules.click_key`), never by who clicked or what they chose:
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

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy.exc import IntegrityError

from bot.blocks import polls as blocks
from bot.deps import Deps
from bot.flows import polls as flows
from bot.listeners.common import CommandRequest, community_allowing, modal_values
from bot.services import CopError
from bot.services import communities as svc
from bot.services import poll_closing as closing
from bot.services import polls as rules
from bot.services.ids import object_id
from bot.services.permissions import Action, can, who_can
from bot.slack_client import respond
from storage.db import session_scope
from storage.models import Community, utcnow

log = logging.getLogger(__name__)


# Slack's clients often turn typed quotes into typographic ones
_SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})


# ---- /cop poll -------------------------------------------------------------------------------
def cmd_poll(req: CommandRequest) -> None:
    staff = can(req.actor, Action.ASK_POLL, None)
    community = svc.by_channel(req.session, req.team_id, req.channel_id)
    if community is None and not (staff and not req.args):
        community = req.community()  # NoCommunity, with its message
    if community is not None:
        role = svc.role_of(req.session, community.id, req.user_id)
        if not can(req.actor, Action.ASK_POLL, role):
            raise CopError(f"Only {who_can(Action.ASK_POLL)} can ask polls in *{community.name}*.")
    if not req.args:
        choices = None
        if staff:
            choices = [
                (c.id, c.name) for c in svc.all_by_name(req.session) if c.team_id == req.team_id
            ]
        view = blocks.poll_modal(community.id if community else None, choices)
        req.ack()
        req.deps.open_view(req.client, req.trigger_id, view)
        return
    try:
        parts = shlex.split(req.args.translate(_SMART_QUOTES))
    except ValueError:
        raise CopError(
            f"The quotes don't pair up. Write it like this: {blocks.USAGE}, "
            "or `/cop poll` alone for the form with every setting."
        ) from None
    question, options = (parts[0], parts[1:]) if parts else ("", [])
    draft, errors = rules.validate(rules.PollForm(question, options), now=utcnow())
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


def _targets(deps: Deps, session, values: dict, meta: dict, user_id: str) -> list[Community]:
    """The communities the poll goes to, each checked against the person's role there."""
    if rules.TARGETS in values:
        if not can(deps.actor(user_id), Action.ASK_POLL, None):
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
    return [
        community_allowing(deps, session, cid, user_id, Action.ASK_POLL, "ask polls there")
        for cid in ids
    ]


def handle_create(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    deps: Deps = context["copbot"]
    view = body["view"]
    user_id = body["user"]["id"]
    values = modal_values(view)
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
        form = _form(values)
    except (ValueError, TypeError, OverflowError):
        ack(
            response_action="errors",
            errors={rules.QUESTION: "The form came back damaged; try again."},
        )
        return
    draft, errors = rules.validate(form, now=utcnow())
    if errors:
        ack(response_action="errors", errors=errors)
        return
    where = rules.TARGETS if rules.TARGETS in values else rules.QUESTION
    try:
        with session_scope(deps.engine) as session:
            communities = _targets(deps, session, values, meta, user_id)
            polls = rules.create(
                session,
                communities,
                draft,
                user_id,
                source=f"view:{view.get('id')}",
                key=deps.settings.voter_key,
            )
            poll_ids = [p.id for p in polls]
    except CopError as e:
        ack(response_action="errors", errors={where: str(e)})
        return
    except IntegrityError:
        ack()  # the same form submitted again: its polls exist already
        return
    ack()
    deps.later(flows.post_polls, client, deps, poll_ids, user_id)


def handle_add_option(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    deps: Deps = context["copbot"]
    view = body["view"]
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
        poll_id, tag = int(meta["poll"]), str(meta.get("tag") or "")
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
        ack(
            response_action="errors",
            errors={blocks.ADD_OPTION: "This form is not one copbot knows."},
        )
        return
    label = modal_values(view).get(blocks.ADD_OPTION) or ""
    try:
        with session_scope(deps.engine) as session:
            poll = rules.load(session, poll_id)
            if not _may_see(deps, session, poll, body["user"]["id"], body, tag):
                raise CopError(NOT_YOURS)
        with session_scope(deps.engine) as session:
            rules.add_option(session, poll_id, label, utcnow())
    except CopError as e:
        ack(response_action="errors", errors={blocks.ADD_OPTION: str(e)})
        return
    except IntegrityError:
        shown = rules.clean_label(label)
        ack(
            response_action="errors", errors={blocks.ADD_OPTION: f"“{shown}” is an option already."}
        )
        return
    ack()
    deps.later(flows.refresh, client, deps, poll_id)


# ---- buttons ---------------------------------------------------------------------------------
_PAIR = re.compile(r"^(\d{1,12}):(\d{1,12})$")


def _ids(body: dict[str, Any]) -> tuple[int, int] | None:
    """(poll id, option id) of a Vote or Take back button; None when malformed."""
    match = _PAIR.match(str((body.get("actions") or [{}])[0].get("value", "")))
    return (int(match.group(1)), int(match.group(2))) if match else None


def _team(body: dict[str, Any]) -> str | None:
    team = body.get("team")
    return team.get("id") if isinstance(team, dict) else None


def _channel(body: dict[str, Any]) -> str | None:
    channel = body.get("channel")
    container = body.get("container")
    if isinstance(channel, dict) and channel.get("id"):
        return str(channel["id"])
    return str(container.get("channel_id") or "") if isinstance(container, dict) else None


def _may_see(deps: Deps, session, poll, user_id: str, body: dict[str, Any], tag: str = "") -> bool:
    """Whether `user_id` may act on `poll` from this request: its workspace, and either
    the poll's own channel (where everyone sees it), a role in the poll's own community,
    staff, or a form copbot opened for them from the poll (`tag`)."""
    community = session.get(Community, poll.community_id)
    if community is None or _team(body) not in (None, community.team_id):
        return False
    if _channel(body) and _channel(body) in (community.slack_channel_id, poll.message_channel):
        return True
    if tag and hmac.compare_digest(tag, _form_tag(deps, poll.id, user_id)):
        return True
    role = svc.role_of(session, community.id, user_id)
    return role is not None or can(deps.actor(user_id), Action.ASK_POLL, None)


def _form_tag(deps: Deps, poll_id: int, user_id: str) -> str:
    """Marks an Add an option form copbot opened for `user_id` from the poll's message."""
    text = f"poll add option|{poll_id}|{user_id}".encode()
    return hmac.new(deps.settings.voter_key, text, hashlib.sha256).hexdigest()[:32]


NOT_YOURS = "That poll is not one you can see from here."


def _poll_id(body: dict[str, Any]) -> int | None:
    return object_id((body.get("actions") or [{}])[0].get("value", ""))


def _answer(deps: Deps, body: dict[str, Any], payload: dict[str, Any]) -> None:
    deps.later(respond, body.get("response_url", ""), payload)


def _click_key(deps: Deps, body: dict[str, Any], poll_id: int) -> str | None:
    """The key a Vote or Take back click is remembered by (None: no click ids to key)."""
    action = (body.get("actions") or [{}])[0]
    trigger, action_ts = body.get("trigger_id"), action.get("action_ts")
    if not (isinstance(trigger, str) and trigger and isinstance(action_ts, str) and action_ts):
        return None
    return rules.click_key(poll_id, trigger, action_ts, deps.settings.voter_key)


# SQLite has one writer at a time and makes the others poll for it with growing sleeps;
# votes in one process take turns here instead (the database still decides the count)
_SQLITE_VOTES = threading.Lock()


def _writing(deps: Deps) -> AbstractContextManager:
    return _SQLITE_VOTES if deps.engine.dialect.name == "sqlite" else nullcontext()


def _choose(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any], take_back: bool
) -> None:
    deps: Deps = context["copbot"]
    ids = _ids(body)
    if ids is None:
        ack()
        _answer(deps, body, blocks.note("That button is not a vote copbot knows."))
        return
    poll_id, option_id = ids
    user_id = body["user"]["id"]
    act = rules.withdraw if take_back else rules.vote
    click = _click_key(deps, body, poll_id)
    try:
        with session_scope(deps.engine) as session:
            b = rules.ballot(session, poll_id)
            if not _may_see(deps, session, b.poll, user_id, body):
                raise CopError(NOT_YOURS)
        with _writing(deps), session_scope(deps.engine) as session:
            result = act(
                session, b, option_id, user_id, deps.settings.voter_key, utcnow(), click=click
            )
        labels = b.labels
    except CopError as e:
        ack()
        _answer(deps, body, blocks.note(str(e)))
        return
    ack()
    if result.outcome == "replay":  # Slack's retry of a counted click: answered already
        context["copbot_replay"] = True
        return
    _answer(deps, body, blocks.vote_answer(result, labels))
    if result.outcome in ("added", "withdrawn"):
        deps.later(flows.refresh, client, deps, poll_id)


def handle_vote(ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
    _choose(ack, body, client, context, take_back=False)


def handle_withdraw(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    _choose(ack, body, client, context, take_back=True)


def handle_close(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    ack()
    deps: Deps = context["copbot"]
    poll_id, user_id = _poll_id(body), body["user"]["id"]
    try:
        if poll_id is None:
            raise CopError("That button is not a poll copbot knows.")
        with session_scope(deps.engine) as session:
            poll = rules.load(session, poll_id)
            role = svc.role_of(session, poll.community_id, user_id)
            if user_id != poll.created_by and not can(deps.actor(user_id), Action.ASK_POLL, role):
                raise CopError(
                    f"Only the one who asked, {who_can(Action.ASK_POLL)} can close this poll."
                )
            now = utcnow()
            closed = closing.close(session, poll_id, now)
    except CopError as e:
        _answer(deps, body, blocks.note(str(e)))
        return
    if not closed:
        _answer(deps, body, blocks.note("This poll was closed already."))
        return
    deps.later(flows.forget_on_disk, deps)
    deps.later(flows.deliver_results, client, deps, poll_id, now)


def handle_show_votes(ack: Ack, body: dict[str, Any], context: dict[str, Any]) -> None:
    ack()
    deps: Deps = context["copbot"]
    poll_id = _poll_id(body)
    try:
        if poll_id is None:
            raise CopError("That button is not a poll copbot knows.")
        with session_scope(deps.engine) as session:
            if not _may_see(deps, session, rules.load(session, poll_id), body["user"]["id"], body):
                raise CopError(NOT_YOURS)
            t = rules.tally(session, poll_id, with_voters=True)
        if t.poll.anonymous:
            raise CopError("This poll is anonymous: no one can see who voted for what.")
        if not t.poll.live_results and t.poll.state != "closed":
            raise CopError("The votes show when the poll closes.")
    except CopError as e:
        _answer(deps, body, blocks.note(str(e)))
        return
    _answer(deps, body, blocks.votes_list(t))


def handle_add_option_open(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    ack()
    deps: Deps = context["copbot"]
    poll_id = _poll_id(body)
    try:
        if poll_id is None:
            raise CopError("That button is not a poll copbot knows.")
        with session_scope(deps.engine) as session:
            poll = rules.load(session, poll_id)
            if not _may_see(deps, session, poll, body["user"]["id"], body):
                raise CopError(NOT_YOURS)
        if not poll.members_add_options or poll.state != "open":
            raise CopError("This poll does not take new options.")
    except CopError as e:
        _answer(deps, body, blocks.note(str(e)))
        return
    tag = _form_tag(deps, poll.id, body["user"]["id"])
    view = blocks.add_option_modal(poll.id, poll.question, tag)
    deps.open_view(client, body.get("trigger_id", ""), view)


def register(app: App) -> None:
    app.view(blocks.CREATE_CALLBACK)(handle_create)
    app.view(blocks.ADD_OPTION_CALLBACK)(handle_add_option)
    app.action(blocks.VOTE_ACTION)(handle_vote)
    app.action(re.compile(f"^{blocks.WITHDRAW_ACTION}-"))(handle_withdraw)
    app.action(blocks.CLOSE_ACTION)(handle_close)
    app.action(blocks.SHOW_VOTES_ACTION)(handle_show_votes)
    app.action(blocks.ADD_OPTION_ACTION)(handle_add_option_open)
