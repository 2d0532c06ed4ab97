"""Block Kit after the call: the call message's Add slides and Attendance buttons, the
add-slides form, what is posted in the call's thread, attendance as leaders and members
see it, the value questions (DM and form), and the App Home's health and archive."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from bot.blocks import (
    Block,
    context,
    divider,
    escape,
    form,
    header,
    input_block,
    join_words,
    link,
    mention,
    message,
    pack_sections,
    plain,
    plural,
    radio_input,
    section,
)
from bot.services.health import HealthRow, flags
from bot.services.recordings import ArchivedCall, ArchivedItem
from storage.models import Call, CallAttendance, CallStatus, Community, ValueQuestion

ADD_RESOURCE_ACTION = "after_call_add"
ATTENDANCE_ACTION = "after_call_attendance"
RESOURCE_CALLBACK = "after_call_resource"
VALUE_ANSWER_ACTION = "value_answer"
VALUE_STOP_ACTION = "value_stop"
VALUE_CALLBACK = "value_form"
VALUE_COMMUNITY_ACTION = "value_community"
# the form's fields
URL, TITLE, KIND = "url", "title", "kind"
ANSWER, CONSENT = "answer", "consent"
EVIDENCE_OK, MAY_NAME = "evidence", "name"

KIND_LABELS = {"recording": "Recording", "slides": "Slides", "reading": "Reading"}


def call_buttons(call: Call) -> list[dict[str, Any]]:
    """Buttons for the call's message: add slides or readings, and see attendance."""
    if call.status == CallStatus.CANCELLED.value:
        return []
    value = str(call.id)
    return [
        {
            "type": "button",
            "action_id": ADD_RESOURCE_ACTION,
            "text": plain("Add slides"),
            "value": value,
        },
        {
            "type": "button",
            "action_id": ATTENDANCE_ACTION,
            "text": plain("Attendance"),
            "value": value,
        },
    ]


def resource_modal(call: Call) -> dict[str, Any]:
    kinds = [
        {"text": plain("Slides"), "value": "slides"},
        {"text": plain("A reading"), "value": "reading"},
    ]
    return form(
        RESOURCE_CALLBACK,
        "Add slides",
        "Add",
        [
            section(
                f"Slides or a reading for *{escape(call.topic)}*: kept in the community's "
                "archive with the call and posted in its thread."
            ),
            input_block(
                URL,
                "Link",
                {"type": "url_text_input"},
                hint="A web address, or the link of a file shared in Slack "
                "(on the file: More actions > Copy link).",
            ),
            input_block(
                TITLE,
                "Title",
                {"type": "plain_text_input", "max_length": 200},
                optional=True,
            ),
            radio_input(KIND, "What it is", kinds),
        ],
        json.dumps({"call": call.id}),
    )


def deletion_note(item: ArchivedItem) -> str:
    """Beside an archived recording's link: the day Zoom deletes it, if it will."""
    if item.deletes_on is None:
        return ""
    return f" _(Zoom deletes it on {item.deletes_on:%b %-d, %Y})_"


def thread_post(
    call: Call,
    kind: str,
    title: str,
    url: str,
    passcode: str | None,
    deletes_on: date | None = None,
) -> dict:
    """The message in the call's thread when its recording or slides are archived."""
    label = KIND_LABELS.get(kind, "Link")
    shown = title if title and title != label else label
    code = f" · passcode `{escape(passcode)}`" if passcode else ""
    icon = ":movie_camera:" if kind == "recording" else ":page_facing_up:"
    note = deletion_note(ArchivedItem(kind, title, url, deletes_on))
    text = f"{icon} {link(url, shown)}{code}{note} of *{escape(call.topic)}*"
    return message(f"{label} of {escape(call.topic)}", [section(text)])


def attendance_text(
    call: Call,
    counted: CallAttendance | None,
    members_present: Sequence[str],
    unavailable: str | None,
    *,
    ended: bool,
) -> str:
    """Attendance as leaders and staff see it."""
    topic = escape(call.topic)
    if not ended:
        return f"*{topic}* has not ended yet: attendance is read after the call."
    if counted is None:
        if unavailable:
            return f"Attendance unavailable for *{topic}*: {escape(unavailable)}"
        return f"Attendance for *{topic}* is not read yet: it comes shortly after the call."
    lines = [
        f"*{topic}*: {plural(counted.came, 'person', 'people')} came, "
        f"{plural(counted.members, 'member')} of the community among them, "
        f"{plural(counted.first_timers, 'first-timer')}, "
        f"{plural(counted.minutes, 'minute')} attended in all.",
    ]
    if counted.guests:
        lines.append(f"{plural(counted.guests, 'person', 'people')} not found in Slack.")
    if members_present:
        shown = [mention(u) for u in members_present[:60]]
        more = len(members_present) - len(shown)
        lines.append(
            "Members there: " + join_words(shown) + (f" and {more} more" if more > 0 else "")
        )
    return "\n".join(lines)


def own_attendance_text(
    call: Call, minutes: int | None, *, ended: bool, read: bool, unavailable: bool = False
) -> str:
    topic = escape(call.topic)
    if unavailable and not read:
        return f"copbot could not read who came to *{topic}*."
    if not ended or not read:
        return f"Attendance for *{topic}* is read after the call; ask again later."
    if minutes is None:
        return f"copbot did not find you among those who came to *{topic}*."
    return f"You attended *{topic}* for {plural(minutes, 'minute')}."


# ---- the value questions --------------------------------------------------------------------
def value_dm(
    q: ValueQuestion, call: Call, community: Community, question: str, earlier: str | None
) -> dict[str, Any]:
    lines = [f":seedling: After *{escape(call.topic)}* with *{escape(community.name)}*:"]
    if earlier:
        lines.append(f"You said you would try: _{escape(earlier)}_")
    lines.append(f"*{escape(question)}* (optional: answer only if you like)")
    buttons = {
        "type": "actions",
        "block_id": f"value-{q.id}",
        "elements": [
            {
                "type": "button",
                "action_id": VALUE_ANSWER_ACTION,
                "text": plain("Answer"),
                "value": str(q.id),
                "style": "primary",
            },
            {
                "type": "button",
                "action_id": VALUE_STOP_ACTION,
                "text": plain("Don't ask me again"),
                "value": str(q.id),
            },
        ],
    }
    return message(
        f"After {escape(call.topic)}: {escape(question)}",
        [section("\n".join(lines)), buttons],
    )


def value_modal(q: ValueQuestion, call: Call, question: str, earlier: str | None) -> dict:
    intro = f"About *{escape(call.topic)}*."
    if earlier:
        intro += f" You said you would try: _{escape(earlier)}_"
    options = [
        {
            "text": plain("Add my answer to the community's evidence log"),
            "description": plain(
                "Leaders and staff see it, and it may be quoted in the community's "
                "progress report, without your name unless you tick the next box."
            ),
            "value": EVIDENCE_OK,
        },
        {"text": plain("You may name me"), "value": MAY_NAME},
    ]
    return form(
        VALUE_CALLBACK,
        "After the call",
        "Send",
        [
            section(intro),
            input_block(
                ANSWER,
                question,
                {"type": "plain_text_input", "multiline": True, "max_length": 2000},
            ),
            input_block(
                CONSENT,
                "Your consent",
                {"type": "checkboxes", "options": options},
                optional=True,
            ),
        ],
        json.dumps({"question": q.id}),
    )


# ---- App Home ----------------------------------------------------------------------------------
def health_text(row: HealthRow) -> str:
    """A community's health without its name (a line of staff's table)."""
    parts = [
        f"{row.calls_held} of {plural(row.calls_planned, 'call')} held"
        if row.calls_planned
        else "no calls planned this year yet"
    ]
    if row.attendance:
        parts.append("attendance " + " → ".join(str(n) for n in row.attendance[-6:]))
    elif row.calls_held:
        parts.append("attendance not recorded yet")
    parts.append(f"{plural(row.active_90_days, 'active member')} in 90 days of {row.members}")
    warn = flags(row)
    return " · ".join(parts) + (f" · :warning: {', '.join(warn)}" if warn else "")


def health_line(row: HealthRow) -> str:
    return f"*{escape(row.name)}*: {health_text(row)}"


def home_blocks(
    own_rows: Sequence[HealthRow],
    archives: Sequence[tuple[Community, Sequence[ArchivedCall]]],
    value_switches: Sequence[tuple[Community, bool]],
    room: int,
) -> list[Block]:
    """A leader's health lines of their own communities, the switch of value questions
    for them, and the archive by call; at most `room` blocks. (Staff see every
    community's health in the table of all communities.)"""
    blocks: list[Block] = []
    if own_rows:
        blocks += [divider(), header("Community health")]
        lines = [health_line(row) for row in own_rows]
        blocks += pack_sections("", lines, room - len(blocks) - 1, "community", "communities")
        blocks.append(
            context(
                "Calls held of planned this program year; attendance per call; "
                "members who came or answered in the last 90 days."
            )
        )
    for community, on in value_switches:
        state = "on" if on else "off"
        blocks.append(
            section(
                f"After-call question for *{escape(community.name)}* members: {state}.",
                accessory={
                    "type": "button",
                    "action_id": VALUE_COMMUNITY_ACTION,
                    "text": plain("Turn off" if on else "Turn on"),
                    "value": json.dumps({"community": community.id, "on": not on}),
                },
            )
        )
    for community, calls in archives:
        if not calls:
            continue
        lines: list[str] = []
        for archived in calls:
            links = " · ".join(
                link(item.url, item.title or KIND_LABELS.get(item.kind, item.kind))
                + deletion_note(item)
                for item in archived.items
            )
            lines.append(
                f"• {escape(archived.call.topic)} ({archived.call.start_at:%b %-d, %Y}): {links}"
            )
        blocks += pack_sections(
            f"*Archive of {escape(community.name)}*", lines, room - len(blocks), "call"
        )
    return blocks[: max(0, room)]
