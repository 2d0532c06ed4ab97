"""Block Kit for reminders and nudges. Times use `<!date^…>` so each reader sees their
own zone; every message has a plain-text fallback; nudges carry Snooze and Done."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.blocks import context, escape, mention, message, plain, section
from bot.blocks.calls import when
from storage.models import Call, Community, Milestone, Reminder

SNOOZE_ACTION = "reminder_snooze"
LINKS_ACTION = "call_links_open"
LINKS_CALLBACK = "call_links"
DONE_ACTION = "reminder_done"

CALL_LEADS = {
    "call_week": ":calendar: In a week",
    "call_day": ":alarm_clock: Tomorrow",
    "call_hour": ":bell: Starting in an hour",
}


def _date(at: datetime) -> str:
    ts = int(at.timestamp())
    return f"<!date^{ts}^{{date_long_pretty}} at {{time}}|{at:%Y-%m-%d %H:%M} UTC>"


def call_reminder(kind: str, call: Call, community: Community) -> dict[str, Any]:
    lead = CALL_LEADS[kind]
    host = f"host {mention(call.host_user_id)}"
    if call.alternate_user_id:
        host += f", alternate {mention(call.alternate_user_id)}"
    lines = [
        f"{lead}: *{escape(call.topic)}*, {escape(community.name)}",
        f"{when(call.start_at, call.timezone)} · {call.duration_minutes} min · {host}",
    ]
    if call.agenda and kind != "call_hour":
        lines.append(f"*Agenda:* {escape(call.agenda)[:1500]}")
    if call.join_url:
        lines.append(
            f":link: <{call.join_url}|Join the meeting>"
            + (f" · passcode `{call.passcode}`" if call.passcode else "")
        )
    text = f"{lead.split(' ', 1)[1]}: {call.topic} ({community.name})" + (
        f", join at {call.join_url}" if call.join_url else ""
    )
    return message(
        text,
        [
            section("\n".join(lines)),
            context(
                "Times show in your own time zone. `/cop remind dm` sends these to you directly."
            ),
        ],
    )


def followup(call: Call, community: Community) -> dict[str, Any]:
    """To the host after the call: a prompt, and a button that records the links."""
    text = (
        f"How did “{call.topic}” go? Add the recording and the slides so members of "
        f"{community.name} who missed it can catch up."
    )
    body = (
        f":movie_camera: How did *{escape(call.topic)}* go? Add the recording and the "
        f"slides so members of <#{community.slack_channel_id}> who missed it can catch up."
    )
    button = {
        "type": "actions",
        "block_id": f"links-{call.id}",
        "elements": [
            {
                "type": "button",
                "action_id": LINKS_ACTION,
                "text": plain("Add recording & slides"),
                "style": "primary",
                "value": str(call.id),
            }
        ],
    }
    return message(text, [section(body), button])


def _nudge_buttons(reminder: Reminder) -> dict[str, Any]:
    return {
        "type": "actions",
        "block_id": f"nudge-{reminder.id}",
        "elements": [
            {
                "type": "button",
                "action_id": SNOOZE_ACTION,
                "text": plain("Snooze a week"),
                "value": str(reminder.id),
            },
            {
                "type": "button",
                "action_id": DONE_ACTION,
                "text": plain("Done"),
                "style": "primary",
                "value": str(reminder.id),
            },
        ],
    }


def deadline_nudge(
    reminder: Reminder, community: Community, deadline: datetime, now: datetime
) -> dict[str, Any]:
    what = (
        "the onsite meeting agenda"
        if reminder.kind == "agenda_due"
        else "the annual progress report"
    )
    name = escape(community.name)
    if now > deadline:
        body = f":warning: {what.capitalize()} of *{name}* was due {_date(deadline)}."
        text = f"{what.capitalize()} of {community.name} is overdue."
    else:
        days = max(1, round((deadline - now).total_seconds() / 86400))
        body = f":memo: {what.capitalize()} of *{name}* is due {_date(deadline)} (in {days} days)."
        text = f"{what.capitalize()} of {community.name} is due in {days} days."
    command = "/cop agenda" if reminder.kind == "agenda_due" else "/cop report"
    body += (
        f"\n`{command}` in <#{community.slack_channel_id}> writes and submits it; these "
        "reminders stop once it is submitted. *Snooze a week* to be reminded later."
    )
    return message(text, [section(body), _nudge_buttons(reminder)])


def plan_nudge(reminder: Reminder, community: Community, missing: list[int]) -> dict[str, Any]:
    sections = ", ".join(str(n) for n in missing)
    text = (
        f"The plan of {community.name} has {len(missing)} section(s) to write "
        f"({sections}). /cop plan picks up where you left off."
    )
    body = (
        f":compass: The plan of *{escape(community.name)}* has {len(missing)} section(s) "
        f"still to write ({sections}). `/cop plan` in <#{community.slack_channel_id}> "
        "picks up where you left off."
    )
    return message(text, [section(body), _nudge_buttons(reminder)])


def milestone_nudge(
    reminder: Reminder, community: Community, milestone: Milestone
) -> dict[str, Any]:
    text = f"{community.name}: {milestone.title} (due {milestone.due_at:%Y-%m-%d %H:%M} UTC)."
    body = (
        f":pushpin: *{escape(community.name)}*: {escape(milestone.title)}, "
        f"due {_date(milestone.due_at)}."
    )
    return message(text, [section(body), _nudge_buttons(reminder)])


def links_modal(call: Call) -> dict[str, Any]:
    def url_input(block_id: str, label: str, current: str | None) -> dict[str, Any]:
        element: dict[str, Any] = {"type": "url_text_input", "action_id": "value"}
        if current:
            element["initial_value"] = current
        return {
            "type": "input",
            "block_id": block_id,
            "optional": True,
            "label": plain(label),
            "element": element,
        }

    return {
        "type": "modal",
        "callback_id": LINKS_CALLBACK,
        "title": plain("Recording & slides", 24),
        "submit": plain("Save", 24),
        "close": plain("Cancel", 24),
        "private_metadata": str(call.id),
        "blocks": [
            section(
                f"Links for *{escape(call.topic)}*: they are kept with the call and "
                "posted in the channel."
            ),
            url_input("recording", "Recording", call.recording_url),
            url_input("slides", "Slides", call.slides_url),
        ],
    }
