"""Block Kit for reminders and nudges. Times use `<!date^…>` so each reader sees their
own zone; every message has a plain-text fallback; nudges carry Snooze and Done."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.blocks import (
    MAX_MESSAGE_BLOCKS,
    channel_link,
    context,
    escape,
    form,
    join_words,
    link,
    mention,
    message,
    plain,
    plural,
    safe_url,
    section,
)
from bot.blocks.calls import join_button, when
from bot.services.registrations import personal_links
from bot.services.reminders.kinds import LATE_AFTER
from storage.models import Call, Community, Milestone, Reminder

SNOOZE_ACTION = "reminder_snooze"
LINKS_ACTION = "call_links_open"
LINKS_CALLBACK = "call_links"
DONE_ACTION = "reminder_done"

CALL_EMOJI = {"call_week": ":calendar:", "call_day": ":alarm_clock:", "call_hour": ":bell:"}


def time_left(start: datetime, now: datetime) -> str:
    """How long until `start`, as a person would say it at `now`: "In a week",
    "Tomorrow", "In 5 hours", "Starting in an hour", "Starting in 5 minutes". A reminder
    sent late (after downtime) says the real time left, never the time it was planned for.
    """
    minutes = round((start - now).total_seconds() / 60)
    if minutes < 1:
        return "Starting now"
    if minutes < 55:
        return f"Starting in {plural(minutes, 'minute')}"
    if minutes <= 65:
        return "Starting in an hour"
    hours = round(minutes / 60)
    if 23 <= hours <= 25:
        return "Tomorrow"
    if hours < 36:
        return f"In {plural(hours, 'hour')}"
    days = round(hours / 24)
    return "In a week" if days == 7 else f"In {plural(days, 'day')}"


def _date(at: datetime) -> str:
    ts = int(at.timestamp())
    return f"<!date^{ts}^{{date_long_pretty}} at {{time}}|{at:%Y-%m-%d %H:%M} UTC>"


def call_reminder(
    kind: str,
    call: Call,
    community: Community,
    now: datetime,
    *,
    own_link: str | None = None,
) -> dict[str, Any]:
    """A call reminder, worded by the time left at `now` (when it is sent). When people
    join with links of their own, a direct reminder carries the recipient's `own_link`
    and one in the channel a Join button that answers each person privately."""
    lead = time_left(call.start_at, now)
    topic, name = escape(call.topic), escape(community.name)
    host = f"host {mention(call.host_user_id)}"
    if call.alternate_user_id:
        host += f", alternate {mention(call.alternate_user_id)}"
    lines = [
        f"{CALL_EMOJI.get(kind, ':bell:')} {lead}: *{topic}*, {name}",
        f"{when(call.start_at, call.timezone)} · {call.duration_minutes} min · {host}",
    ]
    if call.agenda and kind != "call_hour":
        lines.append(f"*Agenda:* {escape(call.agenda[:1500])}")
    personal = personal_links(call)
    join = safe_url(own_link) if personal else safe_url(call.join_url)
    if join:
        lines.append(
            f":link: {link(join, 'Join the meeting' + (' (your own link)' if personal else ''))}"
            + (f" · passcode `{escape(call.passcode)}`" if call.passcode and not personal else "")
        )
    text = f"{lead}: {topic} ({name})" + (f", join at {escape(join)}" if join else "")
    shown: list[dict[str, Any]] = [section("\n".join(lines))]
    if personal and not join:
        shown.append(
            {
                "type": "actions",
                "block_id": f"reminder-join-{call.id}",
                "elements": [join_button(call)],
            }
        )
    shown.append(
        context("Times show in your own time zone. `/cop remind dm` sends these to you directly.")
    )
    return message(text, shown)


def followup(call: Call, community: Community) -> dict[str, Any]:
    """To the host after the call: a prompt, and a button that records the links."""
    topic = escape(call.topic)
    text = (
        f"How did “{topic}” go? Add the recording and the slides so members of "
        f"{escape(community.name)} who missed it can catch up."
    )
    body = (
        f":movie_camera: How did *{topic}* go? Add the recording and the "
        f"slides so members of {channel_link(community.slack_channel_id)} who missed it "
        "can catch up."
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
        "block_id": f"{NUDGE_BLOCK_PREFIX}{reminder.id}",
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


NUDGE_BLOCK_PREFIX = "nudge-"


def answered_nudge(original: dict[str, Any] | None, state: str) -> dict[str, Any]:
    """A nudge once answered: what it said (its blocks as Slack holds them, without its
    Snooze and Done buttons) and, under it, `state` ("Done", "Snoozed until …"). Without
    the original (an ephemeral message has none), `state` alone."""
    original = original or {}
    kept = [
        b
        for b in original.get("blocks") or []
        if isinstance(b, dict)
        and not str(b.get("block_id") or "").startswith(NUDGE_BLOCK_PREFIX)
        and b.get("type") != "actions"
    ]
    if not kept:
        return message(state, [section(state)])
    about = str(original.get("text") or "").strip()
    text = f"{about} ({state})" if about else state
    return message(text, [*kept[: MAX_MESSAGE_BLOCKS - 1], context(state)])


def due_in(deadline: datetime, now: datetime) -> str:
    """ "in 3 days", "in 5 hours", "within the hour": what is left until a deadline."""
    hours = (deadline - now).total_seconds() / 3600
    if hours >= 36:
        return f"in {plural(round(hours / 24), 'day')}"
    if hours >= 1.5:
        return f"in {plural(round(hours), 'hour')}"
    return "within the hour"


def late_by(due: datetime, now: datetime) -> str:
    """How long after `due` it is at `now`, as a person would say it: "5 minutes",
    "3 hours", "2 days"."""
    minutes = max(1, round((now - due).total_seconds() / 60))
    if minutes < 90:
        return plural(minutes, "minute")
    hours = round(minutes / 60)
    return plural(hours, "hour") if hours < 36 else plural(round(hours / 24), "day")


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
        late = late_by(deadline, now)
        body = f":warning: {what.capitalize()} of *{name}* was due {_date(deadline)}, {late} ago."
        text = f"{what.capitalize()} of {name} is overdue by {late}."
    else:
        left = due_in(deadline, now)
        body = f":memo: {what.capitalize()} of *{name}* is due {_date(deadline)} ({left})."
        text = f"{what.capitalize()} of {name} is due {left}."
    command = "/cop agenda" if reminder.kind == "agenda_due" else "/cop report"
    body += (
        f"\n`{command}` in {channel_link(community.slack_channel_id)} writes and submits it; "
        "these reminders stop once it is submitted. *Snooze a week* to be reminded later."
    )
    return message(text, [section(body), _nudge_buttons(reminder)])


def plan_nudge(reminder: Reminder, community: Community, missing: list[str]) -> dict[str, Any]:
    """`missing`: the sections still to write, as their titles."""
    sections = escape(join_words(missing))
    count = plural(len(missing), "section")
    name = escape(community.name)
    text = (
        f"The plan of {name} has {count} still to write: {sections}. "
        "/cop plan picks up where you left off."
    )
    body = (
        f":compass: The plan of *{name}* has {count} still to write: {sections}. "
        f"`/cop plan` in {channel_link(community.slack_channel_id)} picks up where you "
        "left off."
    )
    return message(text, [section(body), _nudge_buttons(reminder)])


def milestone_nudge(
    reminder: Reminder, community: Community, milestone: Milestone, now: datetime
) -> dict[str, Any]:
    """A step of the plan that has come due. Sent on time (within `LATE_AFTER` of the
    step's time) it says when the step is due; sent late, how late."""
    name, title, due = escape(community.name), escape(milestone.title), milestone.due_at
    if now - due > LATE_AFTER:
        late = late_by(due, now)
        text = f"{name}: {title} (was due {due:%Y-%m-%d %H:%M} UTC, {late} ago)."
        body = f":pushpin: *{name}*: {title}, was due {_date(due)}, {late} ago."
    else:
        text = f"{name}: {title} (due {due:%Y-%m-%d %H:%M} UTC)."
        body = f":pushpin: *{name}*: {title}, due {_date(due)}."
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

    return form(
        LINKS_CALLBACK,
        "Recording & slides",
        "Save",
        [
            section(
                f"Links for *{escape(call.topic)}*: they are kept with the call and "
                "posted in the channel."
            ),
            url_input("recording", "Recording", call.recording_url),
            url_input("slides", "Slides", call.slides_url),
        ],
        str(call.id),
    )
