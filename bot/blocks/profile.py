"""Block Kit for `/cop edit`: the profile modal, pre-filled, and the channel's notice."""

from __future__ import annotations

import json
from typing import Any

from bot.blocks import (
    Block,
    escape,
    form,
    input_block,
    join_words,
    mention,
    message,
    plain,
    section,
)
from bot.blocks.community import AREAS, DESCRIPTION, MISSION, NAME
from bot.services.profile import ProfileChange
from storage.models import (
    MAX_NAME_LENGTH,
    MAX_TEXT_LENGTH,
    PURPOSE_AREA_LABELS,
    Community,
    PurposeArea,
)

EDIT_CALLBACK = "community_edit"


def _text(initial: str, *, multiline: bool, limit: int) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "max_length": limit}
    if multiline:
        element["multiline"] = True
    if initial:
        element["initial_value"] = initial
    return element


def edit_modal(community: Community) -> dict[str, Any]:
    """The profile with today's values filled in."""
    options = {a: {"text": plain(PURPOSE_AREA_LABELS[a]), "value": a.value} for a in PurposeArea}
    areas: dict[str, Any] = {"type": "checkboxes", "options": list(options.values())}
    if community.areas:
        areas["initial_options"] = [options[a] for a in community.areas]
    blocks: list[Block] = [
        input_block(
            NAME, "Community name", _text(community.name, multiline=False, limit=MAX_NAME_LENGTH)
        ),
        input_block(
            MISSION,
            "Mission statement",
            _text(community.mission, multiline=True, limit=MAX_TEXT_LENGTH),
            optional=True,
            hint="Why this community exists, in a sentence or two.",
        ),
        input_block(
            DESCRIPTION,
            "Description",
            _text(community.description, multiline=True, limit=MAX_TEXT_LENGTH),
            optional=True,
            hint="Who it is for and what members do together.",
        ),
        input_block(AREAS, "Purpose areas", areas, optional=True),
    ]
    return form(
        EDIT_CALLBACK, "Community profile", "Save", blocks, json.dumps({"community": community.id})
    )


def read_metadata(view: dict[str, Any]) -> int | None:
    try:
        value = json.loads(view.get("private_metadata") or "{}").get("community")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _shown(value: str, limit: int = 600) -> str:
    value = value if len(value) <= limit else value[: limit - 1] + "…"
    return escape(value) if value else "_(empty)_"


def changed_announcement(community: Community, change: ProfileChange, by: str) -> dict[str, Any]:
    """Tells the channel what changed and who changed it."""
    lines = [f":pencil2: {mention(by)} updated the profile of *{escape(community.name)}*:"]
    for label, old, new in change.changes:
        if label in ("name", "purpose areas"):
            lines.append(f"• {label.capitalize()}: {_shown(new)} (was {_shown(old)})")
        else:
            quoted = _shown(new).replace("\n", "\n>")
            lines.append(f"• {label.capitalize()} is now:\n>{quoted}")
    fields = join_words(change.fields)
    text = f"{mention(by)} updated the {fields} of {escape(community.name)}."
    return message(text, [section("\n".join(lines))])
