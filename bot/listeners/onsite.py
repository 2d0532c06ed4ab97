"""`/cop onsite`: staff define the Annual Meeting and give each community a two-hour block
on a Friday or Saturday in a room; they move or free blocks, and the community's channel
is told each time. Others see their community's block.

`/cop onsite` (staff: the grid, or the meeting form when there is none yet) ·
`/cop onsite meeting` · `/cop onsite assign [#channel]` · `/cop onsite move #channel` ·
`/cop onsite free #channel`.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any

from sqlmodel import Session

from bot.blocks import onsite as blocks
from bot.blocks.home_year import BLOCK_MENU_ACTION
from bot.deps import Deps
from bot.flows import onsite as flows
from bot.listeners.common import CommandRequest, object_id, parse_channel
from bot.listeners.guard import Interaction, on_action, on_submission
from bot.listeners.routes import Routes
from bot.services import CopError, onsite, onsite_assignment, people
from bot.services import communities as svc
from bot.services.onsite import SlotError
from bot.services.permissions import Action, Actor, can, who_can
from storage.models import Community, OnsiteBlock, OnsiteMeeting, OnsiteRoom

route = Routes()

USAGE = (
    "`/cop onsite` shows the blocks · `/cop onsite meeting` sets up the Annual Meeting · "
    "`/cop onsite assign #channel` gives a community a block · `/cop onsite move #channel` "
    "moves it · `/cop onsite free #channel` frees it."
)


def ics_url(deps: Deps, block: OnsiteBlock) -> str | None:
    base = deps.settings.public_url
    return f"{base}/calendar/onsite/{block.uid}.ics" if base else None


def _today(deps: Deps) -> date:
    return deps.clock.now().astimezone(deps.settings.zone).date()


def cmd_onsite(req: CommandRequest) -> None:
    words, sub = req.words, req.sub
    staff = can(req.actor, Action.MANAGE_ONSITE)
    meeting = onsite.current_meeting(req.session, _today(req.deps))
    if not staff:
        if sub:
            raise CopError(f"Only {who_can(Action.MANAGE_ONSITE)} can {Action.MANAGE_ONSITE}.")
        community = req.community()
        block = onsite.block_of(req.session, meeting.id, community.id) if meeting else None
        room = req.session.get(OnsiteRoom, block.room_id) if block else None
        req.reply(blocks.community_block_message(community, meeting, block, room))
        return
    if sub == "meeting" or (sub == "" and meeting is None):
        person = people.get(req.session, req.user_id)
        zone = (person.tz if person and person.tz else None) or req.deps.settings.timezone
        rooms = onsite.rooms_of(req.session, meeting.id) if meeting else []
        view = blocks.meeting_modal(meeting, rooms, zone)
        req.open_view(view)
        return
    if meeting is None:
        raise CopError("Set up the Annual Meeting first with `/cop onsite meeting`.")
    if sub == "":
        req.reply(_grid(req.session, meeting))
        return
    if sub not in ("assign", "move", "free"):
        raise req.unknown("onsite", USAGE)
    channel, _ = parse_channel(" ".join(words[1:]))
    if sub == "free":
        if channel is None:
            raise CopError("Name the community's channel: `/cop onsite free #channel`.")
        community = req.community(channel)
        freed = onsite_assignment.free(req.session, meeting, community)
        if freed is None:
            req.say_ephemeral(f"*{community.name}* has no block to free; nothing changed.")
            return
        req.say_ephemeral(f"Freed the block of *{community.name}*; I've told its channel.")
        req.later(flows.announce_freed, req.client, community, meeting, freed, req.user_id)
        return
    block = None
    if sub == "move":
        if channel is None:
            raise CopError("Name the community's channel: `/cop onsite move #channel`.")
        community = req.community(channel)
        block = onsite.block_of(req.session, meeting.id, community.id)
        if block is None:
            raise CopError(
                f"*{community.name}* has no block yet; `/cop onsite assign #channel` gives one."
            )
    rooms = onsite.rooms_of(req.session, meeting.id)
    view = blocks.assign_modal(meeting, rooms, channel or req.channel_id, block)
    req.open_view(view)


def _grid(session: Session, meeting: OnsiteMeeting) -> dict[str, Any]:
    rooms = onsite.rooms_of(session, meeting.id)
    entries = onsite.grid(session, meeting)
    have = {e.community.id for e in entries}
    unassigned = [c for c in svc.all_by_name(session) if c.id not in have]
    return blocks.grid_message(meeting, rooms, entries, unassigned)


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _time(value: Any) -> time | None:
    """A timepicker's value, HH:MM as Slack sends it; anything else (seconds, fractions,
    offsets) is not a time of the form."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{2}:\d{2}", value):
        return None
    try:
        return time.fromisoformat(value)
    except ValueError:
        return None


def _staff_only(actor: Actor) -> None:
    if not can(actor, Action.MANAGE_ONSITE):
        raise SlotError("name", f"Only {who_can(Action.MANAGE_ONSITE)} can set up onsite blocks.")


@route.view(blocks.MEETING_CALLBACK)
@on_submission(lambda i, e: i.ack(response_action="errors", errors={_field(e): str(e)}))
def handle_meeting_submission(i: Interaction) -> None:
    """The Annual Meeting form (staff): its days and rooms."""
    values = i.values()
    start, end = _date(values.get(blocks.START)), _date(values.get(blocks.END))
    _staff_only(i.actor)
    if start is None:
        raise SlotError(blocks.START, "Choose the meeting's first day.")
    if end is None:
        raise SlotError(blocks.END, "Choose the meeting's last day.")
    rooms = onsite.parse_rooms(values.get(blocks.ROOMS) or "")
    meeting = onsite.save_meeting(
        i.session,
        name=values.get(blocks.NAME) or "",
        timezone=values.get(blocks.TIMEZONE) or "",
        start=start,
        end=end,
        rooms=rooms,
        user_id=i.user_id,
    )
    i.ack(
        response_action="update",
        view=blocks.meeting_saved_view(meeting, onsite.rooms_of(i.session, meeting.id)),
    )


def _slot(values: dict[str, Any]) -> tuple[date, time, time, int]:
    """The block's day, start, end and room; SlotError on the field that is wrong."""
    day = _date(values.get(blocks.DAY))
    start, end = _time(values.get(blocks.BLOCK_START)), _time(values.get(blocks.BLOCK_END))
    if day is None:
        raise SlotError(blocks.DAY, "Choose the day.")
    if start is None or end is None:
        raise SlotError(blocks.BLOCK_START, "Choose when the block starts and ends.")
    room_id = object_id(values.get(blocks.ROOM))
    if room_id is None:
        raise SlotError(blocks.ROOM, "Choose one of the meeting's rooms.")
    return day, start, end, room_id


@route.view(blocks.ASSIGN_CALLBACK)
@on_submission(lambda i, e: i.ack(response_action="errors", errors={_field(e): str(e)}))
def handle_assign_submission(i: Interaction) -> None:
    """Give a community its block, or move it (staff); its channel is told after."""
    values, meta = i.values(), blocks.read_metadata(i.view)
    _staff_only(i.actor)
    day, start, end, room_id = _slot(values)
    meeting = _meeting(i.session, meta.get("meeting"))
    community = svc.by_channel(i.session, i.team_id, values.get(blocks.COMMUNITY) or "")
    if community is None:
        raise SlotError(blocks.COMMUNITY, "That channel has no community.")
    moving = meta.get("block") is not None
    if moving:
        block = i.session.get(OnsiteBlock, meta["block"]) if _is_id(meta["block"]) else None
        if block is None or block.community_id != community.id:
            raise SlotError(
                blocks.COMMUNITY, "That block is no longer this community's; start again."
            )
    done = onsite_assignment.assign(
        i.session, meeting, community, room_id, day, start, end, i.user_id, move=moving
    )
    moved = done.moved_from is not None
    shown = blocks.assigned_view(
        community, meeting, done.block, done.room, changed=done.changed, moved=moved
    )
    i.ack(response_action="update", view=shown)
    i.later(flows.announce_block, i.client, ics_url(i.deps, done.block), community, meeting, done)


_FIELDS = {
    "day": blocks.DAY,
    "start": blocks.BLOCK_START,
    "end": blocks.BLOCK_END,
    "room": blocks.ROOM,
    "community": blocks.COMMUNITY,
}


def _field(error: CopError) -> str:
    name = getattr(error, "field", "name")
    return _FIELDS.get(name, name)


def _is_id(value: Any) -> bool:
    """A whole number from copbot's own metadata that a database id can be."""
    return isinstance(value, int) and not isinstance(value, bool) and object_id(value) is not None


def _meeting(session: Session, meeting_id: Any) -> OnsiteMeeting:
    meeting = session.get(OnsiteMeeting, meeting_id) if _is_id(meeting_id) else None
    if meeting is None:
        raise SlotError(blocks.COMMUNITY, "This meeting no longer exists; run `/cop onsite` again.")
    return meeting


def block_for(session: Session, community: Community, today: date):
    """(meeting, block, room) of the community's onsite meeting, each None if missing."""
    meeting = onsite.current_meeting(session, today)
    block = onsite.block_of(session, meeting.id, community.id) if meeting else None
    room = session.get(OnsiteRoom, block.room_id) if block else None
    return meeting, block, room


def _menu_refused(i: Interaction, error: CopError) -> None:
    pass  # a menu only staff see, on blocks that exist: a forged choice gets nothing


@route.action(BLOCK_MENU_ACTION)
@on_action(refuse=_menu_refused)
def handle_home_block_menu(i: Interaction) -> None:
    """Staff's Move/Free menu on a block in App Home."""
    kind, _, raw = ((i.action.get("selected_option") or {}).get("value") or "").partition(":")
    if not can(i.actor, Action.MANAGE_ONSITE) or object_id(raw) is None:
        return
    block = i.session.get(OnsiteBlock, object_id(raw))
    if block is not None:
        meeting = i.session.get(OnsiteMeeting, block.meeting_id)
        community = i.session.get(Community, block.community_id)
        if kind == "move":
            rooms = onsite.rooms_of(i.session, meeting.id)
            i.open_view(blocks.assign_modal(meeting, rooms, community.slack_channel_id, block))
            return
        if kind == "free":
            freed = onsite_assignment.free(i.session, meeting, community)
            if freed is not None:
                i.later(flows.announce_freed, i.client, community, meeting, freed, i.user_id)
    i.home_after()


register = route.register
