"""Block Kit for announcements: the form, its preview, the posted message (split into
sections that fit Slack's limits) and staff's list in App Home. No I/O.

The text staff typed is escaped, and a typed @channel, @here or @everyone is broken with
a zero-width space, so only the form's mention choice can notify a whole channel.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.blocks import (
    MAX_FALLBACK_TEXT,
    MAX_MESSAGE_BLOCKS,
    MAX_MODAL_BLOCKS,
    MAX_OPTION_TEXT,
    Block,
    choice,
    clip,
    context,
    divider,
    escape,
    form,
    input_block,
    mention,
    message,
    pack_sections,
    plain,
    radio_input,
    section,
    text_sections,
    unmarked,
)
from bot.blocks.polls import when
from bot.services import announcements as rules
from storage.models import PURPOSE_AREA_LABELS, Announcement

CREATE_CALLBACK = "announce_create"
PREVIEW_CALLBACK = "announce_preview"
EDIT_ACTION = "announce_edit"
DELETE_ACTION = "announce_delete"
RETRY_ACTION = "announce_retry"

_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)


def neutralise(text: str) -> str:
    """The text, escaped, with typed broadcast mentions made inert."""
    return _BROADCAST.sub(lambda m: "@\u200b" + m.group(1), escape(text))


def announcement_message(
    text: str, mention_kind: str, sender: str, edited: bool = False
) -> dict[str, Any]:
    """The message every channel gets: who sent it, then the text."""
    ping = f"<!{mention_kind}> " if mention_kind in ("here", "channel") else ""
    head = f"{ping}:mega: *Announcement* from {mention(sender)}, CoP program staff"
    if edited:
        head += " _(edited)_"
    blocks = [section(head), *text_sections(neutralise(text))]
    if len(blocks) > MAX_MESSAGE_BLOCKS:  # cannot happen within MAX_TEXT; refuse loudly
        raise ValueError("announcement too long for one message")
    fallback = f"{ping}Announcement from {mention(sender)}: {neutralise(text)}"
    fallback = clip(fallback, MAX_FALLBACK_TEXT)
    return message(fallback, blocks)


# ---- the form ------------------------------------------------------------------------------
def announce_modal(
    choices: list[tuple[int, str]],
    announcement: Announcement | None = None,
    picked: list[int] | None = None,
) -> dict[str, Any]:
    sent = announcement is not None and announcement.state != "scheduled"
    blocks = [_text_input(announcement)]
    if not sent:
        blocks += _audience_inputs(choices, picked)
    blocks.append(_mention_input((announcement.mention if announcement else "") or "none"))
    if not sent:
        blocks += _sending_inputs(announcement)
    meta = {"announcement": announcement.id} if announcement is not None else {}
    return form(
        CREATE_CALLBACK,
        "Edit announcement" if announcement else "Announce",
        "Save" if announcement else "Preview",
        blocks,
        json.dumps(meta),
    )


def _text_input(announcement: Announcement | None) -> Block:
    text: dict[str, Any] = {"type": "plain_text_input", "multiline": True}
    text["max_length"] = rules.MAX_TEXT
    if announcement is not None:
        text["initial_value"] = announcement.text
    return input_block(rules.TEXT, "Announcement (Slack formatting: *bold*, _italic_)", text)


def _audience_inputs(choices: list[tuple[int, str]], picked: list[int] | None) -> list[Block]:
    """The communities it goes to (`picked` chosen at first), and a purpose area whose
    communities it also goes to."""
    options = [choice("Every community", rules.ALL)] + [
        choice(name, str(cid)) for cid, name in choices[:99]
    ]
    targets: dict[str, Any] = {
        "type": "multi_static_select",
        "options": options,
        "placeholder": plain("Communities"),
    }
    initial = [o for o in options if picked and o["value"] in {str(p) for p in picked}]
    if initial:
        targets["initial_options"] = initial
    areas = [choice(label, a.value) for a, label in PURPOSE_AREA_LABELS.items()]
    return [
        input_block(rules.TARGETS, "Send to", targets, optional=True),
        input_block(
            rules.AREA,
            "…and every community whose purpose includes",
            {"type": "static_select", "options": areas, "placeholder": plain("Purpose area")},
            optional=True,
        ),
    ]


def _mention_input(chosen: str) -> Block:
    """Whom the announcement notifies: no one, who is online, or the whole channel."""
    mentions = [
        {"text": plain("No mention"), "value": "none"},
        {"text": plain("@here: notify who is online"), "value": "here"},
        {"text": plain("@channel: notify everyone in the channel"), "value": "channel"},
    ]
    return radio_input(
        rules.MENTION,
        "Notify",
        mentions,
        chosen,
        hint="Mentions typed in the text never notify anyone.",
    )


def _sending_inputs(announcement: Announcement | None) -> list[Block]:
    """When it is sent (empty: now), and whether it is pinned."""
    when_element: dict[str, Any] = {"type": "datetimepicker"}
    if announcement is not None and announcement.send_at:
        when_element["initial_date_time"] = int(announcement.send_at.timestamp())
    return [
        input_block(
            rules.SEND_AT,
            "Send at (your time zone; empty: now)",
            when_element,
            optional=True,
        ),
        input_block(
            rules.OPTIONS,
            "Options",
            {
                "type": "checkboxes",
                "options": [{"text": plain("Pin it in each channel"), "value": "pin"}],
            },
            optional=True,
        ),
    ]


def preview_view(announcement: Announcement, names: list[str]) -> dict[str, Any]:
    payload = announcement_message(announcement.text, announcement.mention, announcement.created_by)
    where = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
    where = escape(clip(where, 1500))
    if announcement.send_at:
        going = f"Goes to {where} at {when(announcement.send_at)}."
    else:
        going = f"Goes to {where} when you press Send."
    blocks = [
        context(going),
        divider(),
        *payload["blocks"][: MAX_MODAL_BLOCKS - 4],
        divider(),
        context(
            "Back to change it; Send when it reads right. You can edit or delete every "
            "copy later from copbot's Home tab."
        ),
    ]
    return form(
        PREVIEW_CALLBACK,
        "Preview",
        "Schedule" if announcement.send_at else "Send",
        blocks,
        json.dumps({"announcement": announcement.id}),
        close="Back",
    )


# ---- App Home --------------------------------------------------------------------------------
def home_blocks(
    rows: list[tuple[Announcement, str, bool]], poll_lines: list[str] | None
) -> list[dict[str, Any]]:
    """Staff's announcements (each with its delivery line; Retry when some failed), and
    the open polls of the person's communities."""
    blocks: list[dict[str, Any]] = []
    if poll_lines:
        blocks += [
            divider(),
            *pack_sections("*Open polls in your communities*", poll_lines, 1, "poll"),
        ]
    if rows:
        blocks += [divider(), section("*Announcements*")]
    for announcement, delivery, failed in rows:
        first = announcement.text.strip().split("\n", 1)[0]
        if announcement.state == "scheduled":
            status = f"scheduled for {when(announcement.send_at)}"
        elif announcement.state == "sending":
            status = f"sending: {delivery}"
        else:
            status = f"sent {delivery}"
        title = neutralise(clip(unmarked(first), 120)).strip() or "(no text)"
        blocks.append(section(f"*{title}*\n{clip(status, 2500)}"))
        buttons = [
            {
                "type": "button",
                "action_id": EDIT_ACTION,
                "text": plain("Edit", MAX_OPTION_TEXT),
                "value": str(announcement.id),
            },
            {
                "type": "button",
                "action_id": DELETE_ACTION,
                "text": plain(
                    "Cancel" if announcement.state == "scheduled" else "Delete", MAX_OPTION_TEXT
                ),
                "style": "danger",
                "value": str(announcement.id),
            },
        ]
        if failed:
            buttons.append(
                {
                    "type": "button",
                    "action_id": RETRY_ACTION,
                    "text": plain("Retry the failed", MAX_OPTION_TEXT),
                    "value": str(announcement.id),
                }
            )
        blocks.append(
            {"type": "actions", "block_id": f"announce-{announcement.id}", "elements": buttons}
        )
    return blocks
