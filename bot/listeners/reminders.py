"""Reminder preferences (`/cop remind dm|channel|off`) and the Snooze and Done buttons of
nudges."""

from __future__ import annotations

from datetime import timedelta

from bot.blocks import escape, safe_url
from bot.blocks import reminders as blocks
from bot.flows import call_edits
from bot.listeners.common import CommandRequest
from bot.listeners.guard import Interaction, on_action, on_submission
from bot.listeners.routes import Routes
from bot.services import CopError, access
from bot.services import communities as svc
from bot.services import reminders as rules
from bot.services.permissions import Action, who_can
from bot.slack_client import respond
from storage.models import Call, Community, Reminder

route = Routes()

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
        if not req.may(Action.SCHEDULE_CALL, community):
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


def _own_nudge(i: Interaction) -> Reminder:
    """The nudge a button names, if the person may answer it (its recipient, a leader of
    its own community, or staff)."""
    gone = "That reminder no longer exists."
    reminder = access.load(i.session, Reminder, i.value, missing=gone)
    if reminder.series_id is None:
        raise CopError(gone)
    is_leader = i.user_id in svc.leaders(i.session, reminder.community_id)
    if reminder.recipient != i.user_id and not is_leader and not i.actor.is_staff:
        raise CopError("Only the community's leaders can answer this reminder.")
    return reminder


def _answered(i: Interaction, text: str) -> None:
    """Replace the nudge with what it said and, under it, `text`."""
    answered = blocks.answered_nudge(i.body.get("message"), text)
    i.later(respond, i.response_url, answered | {"replace_original": True})


@route.action(blocks.SNOOZE_ACTION)
@on_action
def handle_snooze(i: Interaction) -> None:
    """Snooze: the nudge comes back in a week."""
    until = i.deps.clock.now() + timedelta(days=7)
    rules.snooze(i.session, _own_nudge(i), until, i.user_id)
    _answered(
        i,
        ":zzz: Snoozed: I'll remind you again "
        f"<!date^{int(until.timestamp())}^{{date_long_pretty}}|in a week>.",
    )


@route.action(blocks.DONE_ACTION)
@on_action
def handle_done(i: Interaction) -> None:
    """Done: no more nudges of this series."""
    rules.done(i.session, _own_nudge(i).series_id, i.user_id, i.deps.clock.now())
    _answered(i, ":white_check_mark: Done: no more reminders about this.")


def _call_for_links(i: Interaction, raw: str) -> Call:
    """The call a button or form names, if the person may add its links (its host or
    alternate, a leader of the call's own community, or staff)."""
    call = access.load(i.session, Call, raw, missing="That call no longer exists.")
    allowed = (
        i.user_id in (call.host_user_id, call.alternate_user_id)
        or i.user_id in svc.leaders(i.session, call.community_id)
        or i.actor.is_staff
    )
    if not allowed:
        raise CopError("Only the call's host, its alternate and the leaders can add its links.")
    return call


@route.action(blocks.LINKS_ACTION)
@on_action
def handle_links_open(i: Interaction) -> None:
    """Add links: the recording and slides form."""
    i.open_view(blocks.links_modal(_call_for_links(i, i.value)))


@route.view(blocks.LINKS_CALLBACK)
@on_submission("recording")
def handle_links_submission(i: Interaction) -> None:
    """The links are kept in the request and posted in the call's thread after."""
    values = i.values()
    links = {k: str(values.get(k) or "").strip() for k in ("recording", "slides")}
    errors = {
        k: "Give a web address starting with https:// (or http://)."
        for k, v in links.items()
        if v and safe_url(v) is None
    }
    errors |= {
        k: "Keep the address under 2,000 characters." for k, v in links.items() if len(v) > 2000
    }
    if i.form_errors(errors):
        return
    call = _call_for_links(i, str(i.view.get("private_metadata") or ""))
    call.recording_url = links["recording"] or None
    call.slides_url = links["slides"] or None
    i.session.add(call)
    community = i.session.get(Community, call.community_id)
    i.ack()
    i.later(call_edits.post_links, i.client, call, community)


register = route.register
