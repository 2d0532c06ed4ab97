"""Block Kit for calls: the scheduling modal, the call's message in the channel and the
`/cop calls` list. Times are written with Slack's `<!date^…>` so each reader sees their
own zone, with a fallback in the zone the call was set in."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from bot.blocks import (
    MAX_CONFIRM_TEXT,
    Block,
    context,
    escape,
    form,
    input_block,
    link,
    mention,
    message,
    plain,
    plural,
    radio_input,
    safe_url,
    section,
)
from bot.blocks.after_call import call_buttons as after_call_buttons
from bot.services import calls as rules
from bot.services.registrations import personal_links
from storage.models import Call, CallKind, CallStatus, Community, MeetingState

SCHEDULE_CALLBACK = "call_schedule"
RESCHEDULE_CALLBACK = "call_reschedule"
RETRY_ACTION = "call_retry"
CANCEL_ACTION = "call_cancel"
RESCHEDULE_ACTION = "call_reschedule_open"
CALENDAR_ACTION = "call_calendar"
JOIN_ACTION = "call_join"


def when(start: datetime, zone: str) -> str:
    """`<!date^…>` in the reader's zone, falling back to the call's own zone."""
    local = start.astimezone(ZoneInfo(zone))
    fallback = f"{local:%a %b %-d, %Y %H:%M} {local.tzname()}"
    return f"<!date^{int(start.timestamp())}^{{date_long_pretty}} at {{time}}|{fallback}>"


def schedule_modal(
    community: Community, *, host: str, zone: str, day: str, call: Call | None = None
) -> dict[str, Any]:
    """The `/cop schedule` modal (first offer: `day` at noon in `zone`), or the reschedule
    modal when `call` is given."""
    opening = _opening(call, host=host, zone=zone, day=day)
    blocks = [
        _topic_input(opening.topic),
        *_time_inputs(opening),
        _agenda_input(opening.agenda),
        *_people_inputs(opening.host, opening.alternate),
        _kind_input(opening.kind),
    ]
    return form(
        RESCHEDULE_CALLBACK if call is not None else SCHEDULE_CALLBACK,
        "Reschedule the call" if call is not None else "Schedule a call",
        "Save" if call is not None else "Schedule",
        blocks,
        json.dumps({"community": community.id, "call": call.id if call is not None else None}),
    )


class _Opening(NamedTuple):
    """What the schedule modal opens with."""

    day: str
    at: str
    zone: str
    duration: str
    topic: str
    agenda: str
    host: str
    alternate: str | None
    kind: str


def _opening(call: Call | None, *, host: str, zone: str, day: str) -> _Opening:
    """A new call's first offer (`day` at noon in `zone`, an hour), or the call's own."""
    if call is None:
        return _Opening(day, "12:00", zone, "60", "", "", host, None, CallKind.COMMUNITY.value)
    local = call.start_at.astimezone(ZoneInfo(call.timezone))
    return _Opening(
        local.date().isoformat(),
        f"{local:%H:%M}",
        call.timezone,
        str(call.duration_minutes),
        call.topic,
        call.agenda,
        call.host_user_id,
        call.alternate_user_id,
        call.kind,
    )


def _topic_input(topic: str) -> Block:
    element: dict[str, Any] = {"type": "plain_text_input", "max_length": rules.MAX_TOPIC}
    if topic:
        element["initial_value"] = topic
    return input_block(rules.TOPIC, "Topic", element)


def _time_inputs(opening: _Opening) -> list[Block]:
    """Date, start time, time zone and length."""
    return [
        input_block(rules.DATE, "Date", {"type": "datepicker", "initial_date": opening.day}),
        input_block(rules.TIME, "Start time", {"type": "timepicker", "initial_time": opening.at}),
        input_block(
            rules.ZONE,
            "Time zone",
            {"type": "plain_text_input", "initial_value": opening.zone},
            hint="A zone name such as America/Chicago or Europe/Paris; a near miss gets "
            "suggestions. Members see the time in their own zone.",
        ),
        duration_input(opening.duration),
    ]


def duration_input(initial: str) -> Block:
    """A call's length in whole minutes, up to the longest a call may be."""
    return input_block(
        rules.DURATION,
        "Length (minutes)",
        {
            "type": "number_input",
            "is_decimal_allowed": False,
            "initial_value": initial,
            "min_value": "1",
            "max_value": str(rules.MAX_DURATION_MINUTES),
        },
    )


def _agenda_input(agenda: str) -> Block:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "multiline": True,
        "max_length": rules.MAX_AGENDA,
    }
    if agenda:
        element["initial_value"] = agenda
    return input_block(rules.AGENDA, "Agenda", element, optional=True)


def _people_inputs(host: str, alternate: str | None) -> list[Block]:
    """The host and, optionally, an alternate who leads the call if the host cannot."""
    alternate_element: dict[str, Any] = {"type": "users_select"}
    if alternate:
        alternate_element["initial_user"] = alternate
    return [
        input_block(rules.HOST, "Host", {"type": "users_select", "initial_user": host}),
        input_block(
            rules.ALTERNATE,
            "Alternate",
            alternate_element,
            optional=True,
            hint="Leads the call if the host cannot.",
        ),
    ]


def _kind_input(kind: str) -> Block:
    """A community call (one of the year's 3 to 6) or an additional one."""
    kinds = [
        {
            "text": plain("Community call"),
            "value": CallKind.COMMUNITY.value,
            "description": plain("One of the 3 to 6 calls of the program year"),
        },
        {
            "text": plain("Additional call"),
            "value": CallKind.ADDITIONAL.value,
            "description": plain("Beyond those, as the leaders wish"),
        },
    ]
    return radio_input(rules.KIND, "Kind of call", kinds, kind)


def _meeting_line(call: Call, conferencing: str, own: str | None = None) -> str:
    if call.status == CallStatus.CANCELLED.value:
        return ""
    if call.meeting_state == MeetingState.READY.value and personal_links(call) and safe_url(own):
        return f":link: {link(own, f'Join on {conferencing}')} (your own link: keep it to yourself)"
    if call.meeting_state == MeetingState.READY.value and personal_links(call):
        return (
            f":link: *Join* gives you your own {conferencing} link, shown only to you "
            "(that is how copbot knows you came)."
        )
    if call.meeting_state == MeetingState.READY.value and safe_url(call.join_url):
        code = f" · passcode `{escape(call.passcode)}`" if call.passcode else ""
        return f":link: {link(call.join_url, f'Join on {conferencing}')}{code}"
    if call.meeting_state == MeetingState.NONE.value:
        return ":information_source: No video meeting: Zoom is not set up for copbot."
    if call.meeting_error:
        return (
            f":warning: The {conferencing} meeting is not made yet ({escape(call.meeting_error)})."
        )
    return f":hourglass: Making the {conferencing} meeting…"


def call_message(
    call: Call, community: Community, *, conferencing: str = "Zoom", calendar_url: str | None = None
) -> dict[str, Any]:
    """The call as posted in the channel, with its buttons."""
    cancelled = call.status == CallStatus.CANCELLED.value
    kind = "Community call" if call.kind == CallKind.COMMUNITY.value else "Additional call"
    title = f"~{escape(call.topic)}~ *cancelled*" if cancelled else f"*{escape(call.topic)}*"
    host = f"Host {mention(call.host_user_id)}"
    if call.alternate_user_id:
        host += f", alternate {mention(call.alternate_user_id)}"
    lines = [
        f":calendar: {kind} of *{escape(community.name)}*: {title}",
        f"{when(call.start_at, call.timezone)} · {call.duration_minutes} min · {host}",
    ]
    meeting = _meeting_line(call, conferencing)
    if meeting:
        lines.append(meeting)
    blocks: list[Block] = [section("\n".join(lines))]
    if call.agenda and not cancelled:
        blocks.append(section(f"*Agenda*\n{escape(call.agenda)}"))
    if not cancelled:
        buttons: list[dict[str, Any]] = []
        if call.meeting_state == MeetingState.READY.value and personal_links(call):
            buttons.append(join_button(call))
        if calendar_url:
            buttons.append(_calendar_button(CALENDAR_ACTION, calendar_url))
        buttons += _manage_buttons(call) + after_call_buttons(call)
        blocks.append({"type": "actions", "block_id": f"call-{call.id}", "elements": buttons})
        blocks.append(context("Times show in your own time zone."))
    local = call.start_at.astimezone(ZoneInfo(call.timezone))
    join = None if personal_links(call) else safe_url(call.join_url)
    fallback = (
        f"{'Cancelled: ' if cancelled else ''}{escape(community.name)} call "
        f"“{escape(call.topic)}” on {local:%a %b %-d, %Y %H:%M} {local.tzname()}"
        + (f", join at {escape(join)}" if join and not cancelled else "")
    )
    return message(fallback, blocks)


def join_button(call: Call) -> dict[str, Any]:
    """Join: answers each person privately with their own link."""
    return {
        "type": "button",
        "action_id": JOIN_ACTION,
        "text": plain("Join"),
        "style": "primary",
        "value": str(call.id),
    }


def _manage_buttons(call: Call) -> list[dict[str, Any]]:
    value = str(call.id)
    buttons = [
        {
            "type": "button",
            "action_id": RESCHEDULE_ACTION,
            "text": plain("Reschedule"),
            "value": value,
        },
        {
            "type": "button",
            "action_id": CANCEL_ACTION,
            "text": plain("Cancel call"),
            "style": "danger",
            "value": value,
            "confirm": {
                "title": plain("Cancel this call?"),
                "text": plain(
                    f"“{call.topic[:150]}” will be cancelled and its meeting "
                    "deleted. The channel is told.",
                    MAX_CONFIRM_TEXT,
                ),
                "confirm": plain("Cancel the call"),
                "deny": plain("Keep it"),
                "style": "danger",
            },
        },
    ]
    if call.meeting_state == MeetingState.PENDING.value:
        buttons.insert(
            0,
            {
                "type": "button",
                "action_id": RETRY_ACTION,
                "text": plain("Retry the meeting"),
                "value": value,
                "style": "primary",
            },
        )
    return buttons


def _calendar_button(action_id: str, url: str) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": plain("Add to calendar"), "url": url}


LISTED_CALLS = 12  # calls `/cop calls` shows; it says how many more


def calls_list(
    community: Community,
    calls: Sequence[Call],
    *,
    note: str | None,
    may_manage: bool,
    conferencing: str = "Zoom",
    calendar_url: str | None = None,
    call_calendar_url: Any = None,
    own_links: dict[int, str] | None = None,
) -> dict[str, Any]:
    """`/cop calls`: upcoming calls with join links, soonest first (`own_links`: the
    asker's own link per call id, where people join with links of their own)."""
    own_links = own_links or {}
    blocks: list[Block] = [section(f"*Upcoming calls of {escape(community.name)}*")]
    if not calls:
        blocks.append(
            section(
                "No calls are scheduled." + (" `/cop schedule` sets one up." if may_manage else "")
            )
        )
    for call in calls[:LISTED_CALLS]:
        own = own_links.get(call.id or 0)
        blocks += _listed_call(call, conferencing, own, call_calendar_url, may_manage=may_manage)
    if len(calls) > LISTED_CALLS:
        blocks.append(context(f"…and {len(calls) - LISTED_CALLS} more."))
    if note:
        blocks.append(context(f":warning: {escape(note)}"))
    if calendar_url:
        blocks.append(
            context(
                f"Subscribe to every call of the community: {link(calendar_url, 'calendar feed')}"
            )
        )
    blocks.append(context("Times show in your own time zone."))
    return {"response_type": "ephemeral", **message(_calls_list_text(community, calls), blocks)}


def _listed_call(
    call: Call, conferencing: str, own: str | None, calendar_url: Any, *, may_manage: bool
) -> list[Block]:
    """One call of the list: its line, how to join, and its buttons (Join for a personal
    link not yet given, the calendar, and the leaders' own)."""
    lines = [
        f"*{escape(call.topic)}* · {when(call.start_at, call.timezone)} · "
        f"{call.duration_minutes} min · host {mention(call.host_user_id)}"
    ]
    meeting = _meeting_line(call, conferencing, own)
    if meeting:
        lines.append(meeting)
    blocks: list[Block] = [section("\n".join(lines))]
    buttons: list[dict[str, Any]] = []
    ready = call.meeting_state == MeetingState.READY.value
    if ready and personal_links(call) and not own:
        buttons.append(join_button(call))
    if calendar_url is not None:
        buttons.append(_calendar_button(f"{CALENDAR_ACTION}-{call.id}", calendar_url(call)))
    if may_manage:
        buttons += _manage_buttons(call) + after_call_buttons(call)
    if buttons:
        blocks.append({"type": "actions", "block_id": f"calls-{call.id}", "elements": buttons})
    return blocks


def _calls_list_text(community: Community, calls: Sequence[Call]) -> str:
    """The list's plain-text fallback: how many, and the first five."""
    name = escape(community.name)
    if not calls:
        return f"No upcoming calls of {name}"
    return f"{plural(len(calls), 'upcoming call')} of {name}: " + "; ".join(
        f"{escape(c.topic)} on {c.start_at.astimezone(ZoneInfo(c.timezone)):%b %-d %H:%M %Z}"
        for c in calls[:5]
    )


def ends_at(call: Call) -> datetime:
    return call.start_at + timedelta(minutes=call.duration_minutes)
