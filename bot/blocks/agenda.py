"""Block Kit for the onsite agenda: the sessions modal, what staff are told when an agenda
comes in, the agenda shown in Slack, and staff's list of who has submitted."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks import (
    MAX_MESSAGE_BLOCKS,
    Block,
    channel_link,
    clip,
    context,
    divider,
    done_view,
    draft_or_submit_input,
    escape,
    form,
    header,
    input_block,
    mention,
    message,
    pack_sections,
    section,
)
from bot.blocks.onsite import venue_time
from bot.services.agenda import MAX_SESSIONS, SUBMITTED, Session_, field
from storage.models import Community, OnsiteAgenda, OnsiteBlock, OnsiteMeeting, OnsiteRoom

AGENDA_CALLBACK = "onsite_agenda"
ACTION = "action"
DRAFT_CHOICE, SUBMIT_CHOICE = "draft", "submit"


def _date(at: datetime) -> str:
    return f"<!date^{int(at.timestamp())}^{{date_long_pretty}}|{at:%Y-%m-%d}>"


def agenda_modal(
    community: Community,
    meeting: OnsiteMeeting,
    block: OnsiteBlock,
    room: OnsiteRoom,
    sessions: Sequence[Session_],
    *,
    state: str,
    deadline: datetime,
) -> dict[str, Any]:
    rows = min(MAX_SESSIONS, max(4, len(sessions) + 2))
    blocks: list[Block] = [section(_agenda_intro(community, meeting, block, room, state, deadline))]
    for n in range(1, rows + 1):
        blocks += _session_inputs(n, sessions[n - 1] if n <= len(sessions) else None)
    if state != SUBMITTED:
        blocks.append(draft_or_submit_input(ACTION, DRAFT_CHOICE, SUBMIT_CHOICE))
    return form(
        AGENDA_CALLBACK,
        "Onsite agenda",
        "Save",
        blocks,
        json.dumps({"community": community.id, "year": meeting.year}),
    )


def _agenda_intro(
    community: Community,
    meeting: OnsiteMeeting,
    block: OnsiteBlock,
    room: OnsiteRoom,
    state: str,
    deadline: datetime,
) -> str:
    """Where and when the block is, the rules of a session, and until when to change it."""
    intro = (
        f"*{escape(community.name)}* at *{escape(meeting.name)}*: "
        f"{venue_time(block.start_at, block.end_at, meeting.timezone)}, {escape(room.name)}. "
        "Sessions use the venue's time, fit inside the two hours and do not overlap. "
        f"Leaders can change the agenda until {_date(deadline)}."
    )
    if state == SUBMITTED:
        intro += "\n:white_check_mark: Submitted; what you save now updates it."
    return intro


def _session_inputs(n: int, s: Session_ | None) -> list[Block]:
    """Session `n`'s start, length, title, speakers and description, filled in from `s`."""
    start: dict[str, Any] = {"type": "timepicker"}
    minutes: dict[str, Any] = {"type": "number_input", "is_decimal_allowed": False}
    title: dict[str, Any] = {"type": "plain_text_input", "max_length": 150}
    speakers: dict[str, Any] = {"type": "plain_text_input", "max_length": 300}
    description: dict[str, Any] = {
        "type": "plain_text_input",
        "multiline": True,
        "max_length": 1000,
    }
    if s is not None:
        start["initial_time"] = s.start
        minutes["initial_value"] = str(s.minutes)
        title["initial_value"] = s.title
        if s.speakers:
            speakers["initial_value"] = s.speakers
        if s.description:
            description["initial_value"] = s.description
    return [
        context(f"*Session {n}*"),
        input_block(field("start", n), "Starts", start, optional=True),
        input_block(field("minutes", n), "Length (minutes)", minutes, optional=True),
        input_block(field("title", n), "Title", title, optional=True),
        input_block(field("speakers", n), "Speakers", speakers, optional=True),
        input_block(field("description", n), "Description", description, optional=True),
    ]


def saved_view(
    community: Community,
    meeting: OnsiteMeeting,
    count: int,
    *,
    state: str,
    newly_submitted: bool,
    deadline: datetime,
) -> dict[str, Any]:
    """What the agenda modal turns into once saved: as a draft, submitted, or updated."""
    name, sessions = escape(community.name), f"{count} session{'s' if count != 1 else ''}"
    if newly_submitted:
        done = (
            f":inbox_tray: Submitted the onsite agenda of *{name}* for {escape(meeting.name)} "
            f"to staff ({sessions}); staff have been told."
        )
    elif state == SUBMITTED:
        done = (
            f":white_check_mark: Updated the submitted onsite agenda of *{name}* ({sessions}); "
            "staff see this version."
        )
    else:
        done = (
            f":memo: Saved the onsite agenda of *{name}* as a draft ({sessions}). "
            "Staff do not see it yet: choose *Submit to staff* when it is ready."
        )
    where = (
        f"`/cop agenda show` in {channel_link(community.slack_channel_id)} shows it; "
        f"`/cop agenda` there changes it until {_date(deadline)}."
    )
    return done_view("Onsite agenda", done, where)


def read_metadata(view: dict[str, Any]) -> tuple[int, int] | None:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
        cid, year = meta["community"], meta["year"]
    except (ValueError, KeyError, TypeError):
        return None
    if all(isinstance(v, int) and not isinstance(v, bool) for v in (cid, year)):
        return cid, year
    return None


def _session_lines(sessions: Sequence[Session_]) -> list[str]:
    lines = []
    for s in sessions:
        end = s.window()[1]
        line = f"• *{s.start}-{end // 60:02d}:{end % 60:02d}* {escape(s.title)}"
        if s.speakers:
            line += f" ({escape(s.speakers)})"
        if s.description:
            line += f"\n   {clip(escape(s.description), 400)}"
        lines.append(line)
    return lines


def venue_note(meeting: OnsiteMeeting, block: OnsiteBlock | None) -> str:
    """The one zone an agenda is shown in, named: the venue's (with its abbreviation on
    the block's day, when there is a block)."""
    zone = escape(meeting.timezone)
    if block is None:
        return f":clock1: All times are the venue's: {zone}."
    abbr = block.start_at.astimezone(ZoneInfo(meeting.timezone)).tzname()
    return f":clock1: All times are the venue's: {zone} ({abbr})."


def agenda_message(
    community: Community,
    meeting: OnsiteMeeting,
    block: OnsiteBlock | None,
    agenda: OnsiteAgenda | None,
    sessions: Sequence[Session_],
    note: str | None = None,
) -> dict[str, Any]:
    name = escape(community.name)
    where = (
        venue_time(block.start_at, block.end_at, meeting.timezone) if block else "(no block yet)"
    )
    state = "no agenda yet" if agenda is None else agenda.state
    blocks: list[Block] = []
    if note:
        blocks.append(section(note))
    blocks.append(section(f"*Onsite agenda of {name}* at {escape(meeting.name)}, {where}: {state}"))
    lines = _session_lines(sessions) or ["_No sessions yet._"]
    blocks += pack_sections("", lines, MAX_MESSAGE_BLOCKS - len(blocks) - 1, "session")
    blocks.append(context(venue_note(meeting, block)))
    text = (note + " " if note else "") + f"Onsite agenda of {name}: {state}."
    return {"response_type": "ephemeral", **message(text, blocks)}


def submitted_notice(
    community: Community,
    meeting: OnsiteMeeting,
    block: OnsiteBlock | None,
    sessions: Sequence[Session_],
    by: str,
) -> dict[str, Any]:
    text = (
        f"{mention(by)} submitted the onsite agenda of {escape(community.name)} for "
        f"{escape(meeting.name)} ({len(sessions)} session{'s' if len(sessions) != 1 else ''})."
    )
    head = f":inbox_tray: {text}"
    if block is not None:
        head += f"\nIts block: {venue_time(block.start_at, block.end_at, meeting.timezone)}."
    blocks = [section(head)]
    blocks += pack_sections("", _session_lines(sessions), MAX_MESSAGE_BLOCKS - 2, "session")
    return message(text, [*blocks, context(venue_note(meeting, block))])


def status_message(
    meeting: OnsiteMeeting,
    rows: Sequence[tuple[Community, OnsiteAgenda | None, OnsiteBlock | None]],
) -> dict[str, Any]:
    """Staff: every community's agenda state for the meeting."""
    done = sum(1 for _c, a, _b in rows if a is not None and a.state == SUBMITTED)
    blocks: list[Block] = [
        header(f"Onsite agendas: {meeting.name}"),
        section(f"{done} of {len(rows)} communities have submitted."),
        divider(),
    ]
    lines = []
    for c, a, b in rows:
        state = "submitted" if a and a.state == SUBMITTED else ("draft" if a else "not started")
        mark = ":white_check_mark:" if state == "submitted" else ":hourglass:"
        lines.append(f"{mark} *{escape(c.name)}*: {state}" + ("" if b else " · _no onsite block_"))
    room = MAX_MESSAGE_BLOCKS - len(blocks)
    blocks += pack_sections("", lines, room, "community", "communities")
    text = f"Onsite agendas for {escape(meeting.name)}: {done} of {len(rows)} submitted."
    return {"response_type": "ephemeral", **message(text, blocks)}
