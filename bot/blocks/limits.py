"""Block Kit's documented limits, checked: block counts per surface, text lengths,
`block_id`/`action_id` lengths. Slack has no official schema; these are the numbers of
its reference pages. Returns a list of problems (empty when the payload fits).
"""

from __future__ import annotations

import re
from typing import Any

MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}
MAX_MESSAGE_BLOCKS = MAX_BLOCKS["message"]
MAX_MODAL_BLOCKS = MAX_BLOCKS["modal"]
MAX_HOME_BLOCKS = MAX_BLOCKS["home"]
MAX_ID = 255
# A section's mrkdwn, measured as sent (escapes included): the builders pack and clip
# the escaped text, so they use all of it (`bot.blocks.pack_sections`, `section`).
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_LABEL = 2000
MAX_HINT = 2000
MAX_OPTION_TEXT = 75  # an option's or a button's text
MAX_CONFIRM_TITLE, MAX_CONFIRM_TEXT, MAX_CONFIRM_BUTTON = 100, 300, 30  # a confirm dialog
MAX_CONTEXT_ELEMENTS = 10
MAX_FIELDS = 10
MAX_MODAL_TITLE = 24
MAX_PRIVATE_METADATA = 3000
MAX_MESSAGE_TEXT = 40000
MAX_INPUT_TEXT = 3000  # a plain_text_input's max_length
MAX_BUTTON_URL = 3000
# copbot's own cut of a message's plain-text fallback (what a notification shows): a
# section's length, well within Slack's MAX_MESSAGE_TEXT
MAX_FALLBACK_TEXT = MAX_SECTION_TEXT


def _text_len(obj: Any) -> int:
    return len(obj.get("text", "")) if isinstance(obj, dict) else 0


def check_blocks(blocks: list[dict[str, Any]], surface: str) -> list[str]:
    problems = []
    limit = MAX_BLOCKS[surface]
    if len(blocks) > limit:
        problems.append(f"{surface}: {len(blocks)} blocks, limit {limit}")
    seen_ids: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"{surface} block {i} ({block.get('type')})"
        block_id = block.get("block_id")
        if block_id is not None:
            if len(block_id) > MAX_ID:
                problems.append(f"{where}: block_id longer than {MAX_ID}")
            if block_id in seen_ids:
                problems.append(f"{where}: duplicate block_id {block_id!r}")
            seen_ids.add(block_id)
        kind = block.get("type")
        if kind == "section":
            if _text_len(block.get("text")) > MAX_SECTION_TEXT:
                problems.append(f"{where}: text over {MAX_SECTION_TEXT} characters")
            if "text" not in block and "fields" not in block:
                problems.append(f"{where}: a section needs text or fields")
            fields = block.get("fields") or []
            if len(fields) > MAX_FIELDS:
                problems.append(f"{where}: more than {MAX_FIELDS} fields")
            problems += [
                f"{where}: field over 2000 characters" for f in fields if _text_len(f) > 2000
            ]
        elif kind == "header":
            if _text_len(block.get("text")) > MAX_HEADER_TEXT:
                problems.append(f"{where}: header over {MAX_HEADER_TEXT} characters")
            if block.get("text", {}).get("type") != "plain_text":
                problems.append(f"{where}: header text must be plain_text")
        elif kind == "context":
            if len(block.get("elements", [])) > MAX_CONTEXT_ELEMENTS:
                problems.append(f"{where}: more than {MAX_CONTEXT_ELEMENTS} elements")
        elif kind == "input":
            if _text_len(block.get("label")) > MAX_LABEL:
                problems.append(f"{where}: label over {MAX_LABEL} characters")
            if surface == "message":
                problems.append(f"{where}: input blocks belong in modals")
        for element in _elements(block):
            action_id = element.get("action_id")
            if action_id is not None and len(action_id) > MAX_ID:
                problems.append(f"{where}: action_id longer than {MAX_ID}")
    return problems


def _elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    if isinstance(block.get("element"), dict):
        found.append(block["element"])
    if isinstance(block.get("accessory"), dict):
        found.append(block["accessory"])
    found += [e for e in block.get("elements", []) if isinstance(e, dict)]
    return found


def check_view(view: dict[str, Any]) -> list[str]:
    surface = view.get("type")
    if surface not in ("modal", "home"):
        return [f"view type {surface!r} is not modal or home"]
    problems = check_blocks(view.get("blocks", []), surface)
    if surface == "modal":
        for key in ("title", "submit", "close"):
            if key in view and _text_len(view[key]) > MAX_MODAL_TITLE:
                problems.append(f"modal {key} over {MAX_MODAL_TITLE} characters")
        if "title" not in view:
            problems.append("modal has no title")
    if len(view.get("private_metadata", "")) > MAX_PRIVATE_METADATA:
        problems.append(f"private_metadata over {MAX_PRIVATE_METADATA} characters")
    for key in ("callback_id", "external_id"):
        if len(view.get(key, "")) > MAX_ID:
            problems.append(f"{key} longer than {MAX_ID}")
    return problems


def check_message(payload: dict[str, Any]) -> list[str]:
    """A chat message or a slash command's ack: needs a plain-text fallback with blocks."""
    problems = []
    blocks = payload.get("blocks") or []
    if blocks and not payload.get("text"):
        problems.append("message has blocks but no plain-text fallback `text`")
    if len(payload.get("text") or "") > MAX_MESSAGE_TEXT:
        problems.append(f"message text over {MAX_MESSAGE_TEXT} characters")
    return problems + check_blocks(blocks, "message")


# ---- mrkdwn markers ------------------------------------------------------------------------
# Slack's mrkdwn formats *bold*, _italic_ and ~strike~ between a pair of markers on one line:
# an opening marker after a space, punctuation or the line's start, before a non-space; a
# closing one after a non-space, before a space, punctuation or the line's end. A marker
# left over shows as typed ("**Save* the date*"): that is what these checks find. Markers
# inside a word (snake_case, 5*3) or standing alone ("5 * 3") are text, as in Slack.
_MARKERS = "*_~"
_TOKEN = re.compile(r"<[^<>\n]*>")  # links, mentions, dates: never formatting inside
_FENCE = re.compile(r"```.*?```", re.S)
_CODE = re.compile(r"`[^`\n]+`")


def _edge(ch: str) -> bool:
    """A character a marker may sit against on its outer side: none, space, punctuation."""
    return ch == "" or not (ch.isalnum() or ch in _MARKERS)


def marker_problems(text: str) -> list[str]:
    """The formatting markers of one mrkdwn text that Slack would show as typed."""
    problems = []
    text = _FENCE.sub("X", text)
    for line in text.split("\n"):
        if line.startswith("&gt;"):
            line = line[4:]
        line = _CODE.sub("X", _TOKEN.sub("X", line))
        if line.count("`") % 2:
            problems.append(f"an unpaired ` in {line[:80]!r}")
        for mark in _MARKERS:
            opened = None
            for i, ch in enumerate(line):
                if ch != mark:
                    continue
                before = line[i - 1] if i else ""
                after = line[i + 1] if i + 1 < len(line) else ""
                if before == mark or after == mark:
                    problems.append(f"a doubled {mark} in {line[:80]!r}")
                    break
                opens = _edge(before) and after != "" and not after.isspace()
                closes = before != "" and not before.isspace() and _edge(after)
                if opened is not None and closes:
                    opened = None
                elif opens:
                    opened = i
                elif closes:
                    problems.append(f"a {mark} that closes nothing in {line[:80]!r}")
            if opened is not None:
                problems.append(f"a {mark} that is never closed in {line[:80]!r}")
    return problems


def _texts(node: Any) -> list[tuple[str, str]]:
    """Every text object in a payload, as (type, text)."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
            found.append((node["type"], node["text"]))
        for value in node.values():
            found += _texts(value)
    elif isinstance(node, list):
        for value in node:
            found += _texts(value)
    return found


_CODE_IN_PLAIN = re.compile(r"`[^`\n]+`")


def markup_problems(payload: Any) -> list[str]:
    """Formatting that would show as typed: unbalanced markers in mrkdwn, and `code` in
    plain text (a hint, a label), which Slack shows with its backticks. (Plain text that
    teaches the syntax, "formatting: *bold*", is left alone.)"""
    problems = []
    for kind, text in _texts(payload):
        if kind == "mrkdwn":
            problems += marker_problems(text)
        elif _CODE_IN_PLAIN.search(text):
            problems.append(f"mrkdwn in plain text: {text[:80]!r}")
    return problems
