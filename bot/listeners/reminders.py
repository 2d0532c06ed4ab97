"""Reminder preferences (`/cop remind dm|channel|off`) and the Snooze and Done buttons of
nudges."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks import community as community_blocks
from bot.blocks import escape, link, safe_url
from bot.blocks import reminders as blocks
from bot.deps import Deps
from bot.listeners.common import CommandRequest, modal_values, object_id
from bot.services import CopError
from bot.services import communities as svc
from bot.services import reminders as rules
from bot.services.permissions import Action, can, who_can
from bot.slack_client import respond, tell
from storage.db import session_scope
from storage.models import Call, Community, Reminder, utcnow

MODES = {
    "dm": "You'll get this community's call reminders as direct messages too.",
    "channel": "You'll see this community's call reminders in its channel only.",
    "off": "No direct reminders for you; the channel still gets them.",
}


USAGE = (
    "`/cop remind dm` sends call reminders to you directly too, `/cop remind channel` keeps "
    "them in the channel, `/cop remind off` stops direct ones. Leaders choose which the "
    "channel gets: `/cop remind community week day hour` (any of them, or `none`)."
)


def cmd_remind(req: CommandRequest) -> None:
    words = req.args.lower().replace(",", " ").split()
    community = req.community()
    if not words:
        chosen = community.call_reminders.replace(",", ", ") or "none"
        req.say_ephemeral(f"*{escape(community.name)}* posts call reminders: {chosen}. {USAGE}")
        return
    if words[0] == "community":
        role = svc.role_of(req.session, community.id, req.user_id)
        if not can(req.actor, Action.SCHEDULE_CALL, role):
            raise CopError(f"Only {who_can(Action.SCHEDULE_CALL)} choose the channel's reminders.")
        chosen = [w for w in words[1:] if w != "none"]
        unknown = [w for w in chosen if w not in ("week", "day", "hour")]
        if unknown or not words[1:]:
            raise CopError(f"Choose among week, day and hour (or none). {USAGE}")
        result = rules.set_call_reminders(req.session, community, chosen)
        req.say_ephemeral(
            f"*{escape(community.name)}* now posts call reminders: "
            f"{result.replace(',', ', ') or 'none'}."
        )
        return
    mode = words[0]
    if mode not in MODES or len(words) > 1:
        raise CopError(USAGE)
    if not rules.set_preference(req.session, community, req.user_id, mode):
        raise CopError(f"Join *{escape(community.name)}* first with `/cop join`.")
    req.say_ephemeral(MODES[mode])


def _own_nudge(deps: Deps, session, value: str, user_id: str) -> Reminder:
    """The nudge a button names, if `user_id` may answer it (its recipient, a leader of
    its own community, or staff)."""
    reminder_id = object_id(value)
    reminder = session.get(Reminder, reminder_id) if reminder_id is not None else None
    if reminder is None or reminder.series_id is None:
        raise CopError("That reminder no longer exists.")
    is_leader = user_id in svc.leaders(session, reminder.community_id)
    if reminder.recipient != user_id and not is_leader and not deps.settings.is_staff(user_id):
        raise CopError("Only the community's leaders can answer this reminder.")
    return reminder


def _answer_nudge(deps: Deps, body: dict[str, Any], act) -> None:
    """Check the one who pressed may answer the nudge, then `act(session, reminder, user)`
    and replace the nudge with what it said and, under it, the state `act` returns."""
    user_id = body["user"]["id"]
    try:
        with session_scope(deps.engine) as session:
            value = str(body["actions"][0].get("value") or "")
            reminder = _own_nudge(deps, session, value, user_id)
            text = act(session, reminder, user_id)
    except CopError as e:
        deps.later(tell, body.get("response_url", ""), str(e))
        return
    answered = blocks.answered_nudge(body.get("message"), text)
    deps.later(respond, body.get("response_url", ""), answered | {"replace_original": True})


def handle_snooze(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    ack()
    until = utcnow() + timedelta(days=7)

    def snooze(session, reminder: Reminder, user_id: str) -> str:
        rules.snooze(session, reminder, until, user_id)
        return (
            ":zzz: Snoozed: I'll remind you again "
            f"<!date^{int(until.timestamp())}^{{date_long_pretty}}|in a week>."
        )

    _answer_nudge(context["copbot"], body, snooze)


def handle_done(ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
    ack()

    def done(session, reminder: Reminder, user_id: str) -> str:
        rules.done(session, reminder.series_id, user_id, utcnow())
        return ":white_check_mark: Done: no more reminders about this."

    _answer_nudge(context["copbot"], body, done)


def _call_for_links(deps: Deps, session, value: str, user_id: str) -> Call:
    """The call a button or form names, if `user_id` may add its links (its host or
    alternate, a leader of the call's own community, or staff)."""
    call_id = object_id(value)
    call = session.get(Call, call_id) if call_id is not None else None
    if call is None:
        raise CopError("That call no longer exists.")
    allowed = (
        user_id in (call.host_user_id, call.alternate_user_id)
        or user_id in svc.leaders(session, call.community_id)
        or deps.settings.is_staff(user_id)
    )
    if not allowed:
        raise CopError("Only the call's host, its alternate and the leaders can add its links.")
    return call


def handle_links_open(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    ack()
    deps: Deps = context["copbot"]
    try:
        with session_scope(deps.engine) as session:
            call = _call_for_links(
                deps, session, str(body["actions"][0].get("value") or ""), body["user"]["id"]
            )
    except CopError as e:
        deps.later(tell, body.get("response_url", ""), str(e))
        return
    deps.open_view(client, body["trigger_id"], blocks.links_modal(call))


def handle_links_submission(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    deps: Deps = context["copbot"]
    values = modal_values(body["view"])
    links = {k: str(values.get(k) or "").strip() for k in ("recording", "slides")}
    errors = {
        k: "Give a web address starting with https:// (or http://)."
        for k, v in links.items()
        if v and safe_url(v) is None
    }
    errors |= {
        k: "Keep the address under 2,000 characters." for k, v in links.items() if len(v) > 2000
    }
    if errors:
        ack(response_action="errors", errors=errors)
        return
    try:
        with session_scope(deps.engine) as session:
            call = _call_for_links(
                deps, session, str(body["view"].get("private_metadata") or ""), body["user"]["id"]
            )
            call.recording_url = links["recording"] or None
            call.slides_url = links["slides"] or None
            session.add(call)
            community = session.get(Community, call.community_id)
    except CopError as e:
        ack(response_action="errors", errors={"recording": str(e)})
        return
    ack()
    parts = [
        link(url, name)
        for name, url in (("Recording", call.recording_url), ("Slides", call.slides_url))
        if url
    ]
    if parts:
        text = f":movie_camera: {' · '.join(parts)} of *{escape(call.topic)}*"
        channel = call.message_channel or community.slack_channel_id
        payload = community_blocks.message_for(text)
        if call.message_ts:
            payload |= {"thread_ts": call.message_ts, "reply_broadcast": True}
        deps.later(client.chat_postMessage, channel=channel, **payload)


def register(app: App) -> None:
    app.action(blocks.SNOOZE_ACTION)(handle_snooze)
    app.action(blocks.DONE_ACTION)(handle_done)
    app.action(blocks.LINKS_ACTION)(handle_links_open)
    app.view(blocks.LINKS_CALLBACK)(handle_links_submission)
