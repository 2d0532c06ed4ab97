"""Reminder preferences (`/cop remind dm|channel|off`) and the Snooze and Done buttons of
nudges."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks import community as community_blocks
from bot.blocks import reminders as blocks
from bot.deps import Deps
from bot.listeners.common import CommandRequest, respond
from bot.services import CopError
from bot.services import communities as svc
from bot.services import reminders as rules
from storage.db import session_scope
from storage.models import Reminder, utcnow

MODES = {
    "dm": "You'll get this community's call reminders as direct messages too.",
    "channel": "You'll see this community's call reminders in its channel only.",
    "off": "No direct reminders for you; the channel still gets them.",
}


def cmd_remind(req: CommandRequest) -> None:
    mode = req.args.strip().lower()
    community = req.community()
    if mode not in MODES:
        raise CopError(
            "`/cop remind dm` sends call reminders to you directly, `/cop remind channel` "
            "keeps them in the channel, `/cop remind off` stops direct ones."
        )
    if not rules.set_preference(req.session, community, req.user_id, mode):
        raise CopError(f"Join *{community.name}* first with `/cop join`.")
    req.say_ephemeral(MODES[mode])


def _own_nudge(deps: Deps, session, reminder_id: int, user_id: str) -> Reminder:
    reminder = session.get(Reminder, reminder_id)
    if reminder is None or rules.series_of(reminder) is None:
        raise CopError("That reminder no longer exists.")
    is_leader = user_id in svc.leaders(session, reminder.community_id)
    if reminder.recipient != user_id and not is_leader and not deps.settings.is_staff(user_id):
        raise CopError("Only the community's leaders can answer this reminder.")
    return reminder


def handle_snooze(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    ack()
    deps: Deps = context["copbot"]
    user_id = body["user"]["id"]
    now = utcnow()
    until = now + timedelta(days=7)
    try:
        with session_scope(deps.engine) as session:
            reminder = _own_nudge(deps, session, int(body["actions"][0]["value"]), user_id)
            rules.snooze(session, reminder, until, user_id)
        text = (
            f":zzz: Snoozed: I'll remind you again "
            f"<!date^{int(until.timestamp())}^{{date_long_pretty}}|in a week>."
        )
        payload = community_blocks.message_for(text) | {"replace_original": True}
    except CopError as e:
        payload = community_blocks.message_for(str(e)) | {"replace_original": False}
    deps.later(respond, body.get("response_url", ""), payload)


def handle_done(ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
    ack()
    deps: Deps = context["copbot"]
    user_id = body["user"]["id"]
    try:
        with session_scope(deps.engine) as session:
            reminder = _own_nudge(deps, session, int(body["actions"][0]["value"]), user_id)
            rules.done(session, rules.series_of(reminder), user_id, utcnow())
        payload = community_blocks.message_for(
            ":white_check_mark: Done: no more reminders about this."
        ) | {"replace_original": True}
    except CopError as e:
        payload = community_blocks.message_for(str(e)) | {"replace_original": False}
    deps.later(respond, body.get("response_url", ""), payload)


def register(app: App) -> None:
    app.action(blocks.SNOOZE_ACTION)(handle_snooze)
    app.action(blocks.DONE_ACTION)(handle_done)
