"""Block Kit builders: plain values in, dicts out, no I/O.

Block Kit's limits (block counts, text lengths) are in `bot.blocks.limits`, which the
builders build to and the tests check every payload against. Text is packed into
sections by one packer: `pack_sections` for lines, `text_sections` for one long text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.blocks.limits import (  # noqa: F401 - the limits the builders use
    MAX_BUTTON_URL,
    MAX_CONFIRM_BUTTON,
    MAX_CONFIRM_TEXT,
    MAX_CONFIRM_TITLE,
    MAX_FALLBACK_TEXT,
    MAX_HEADER_TEXT,
    MAX_HINT,
    MAX_HOME_BLOCKS,
    MAX_INPUT_TEXT,
    MAX_LABEL,
    MAX_MESSAGE_BLOCKS,
    MAX_MODAL_BLOCKS,
    MAX_MODAL_TITLE,
    MAX_OPTION_TEXT,
    MAX_SECTION_TEXT,
)
from bot.text import escape, link, plural, safe_url, unmarked  # noqa: F401 - for the builders

Block = dict[str, Any]


def clip(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, ending in "…" when cut. A cut never leaves a
    *bold*, _italic_, ~strike~ or `code` open: the line is cut before the marker whose
    closing half fell away, so Slack shows no marker as typed."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    line_start = cut.rfind("\n") + 1
    opened = first_unclosed_marker(cut[line_start:] + "…")  # as it will be shown
    if opened is not None:
        cut = cut[: line_start + opened].rstrip()
    return cut + "…"


def first_unclosed_marker(line: str) -> int | None:
    """Where the first marker of `line` opens that nothing closes (Slack's rule: an
    opener after a space or punctuation, a closer before one), or None."""
    first: int | None = None
    code = [i for i, ch in enumerate(line) if ch == "`"]
    if len(code) % 2:
        first = code[-1]
    for mark in "*_~":
        opened = None
        for i, ch in enumerate(line):
            if ch != mark:
                continue
            before = line[i - 1] if i else " "
            after = line[i + 1] if i + 1 < len(line) else " "
            if opened is not None and not before.isspace() and not after.isalnum():
                opened = None
            elif not before.isalnum() and not after.isspace():
                opened = i
        if opened is not None and (first is None or opened < first):
            first = opened
    return first


def plain(text: str, limit: int = MAX_HEADER_TEXT) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def input_block(
    block_id: str,
    label: str,
    element: dict[str, Any],
    *,
    optional: bool = False,
    hint: str | None = None,
) -> Block:
    """A modal input; its element's action_id is always "value"."""
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, MAX_LABEL),
        "element": {**element, "action_id": "value"},
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, MAX_HINT)
    return block


def choice(text: str, value: str) -> dict[str, Any]:
    """An option of a select, checkboxes or radio buttons."""
    return {"text": plain(text, MAX_OPTION_TEXT), "value": value}


def radio_input(
    block_id: str,
    label: str,
    options: list[dict[str, Any]],
    chosen: str | None = None,
    **extra: Any,
) -> Block:
    """Radio buttons in a modal, the option of value `chosen` (else the first) picked."""
    initial = options[0] if chosen is None else next(o for o in options if o["value"] == chosen)
    element = {"type": "radio_buttons", "options": options, "initial_option": initial}
    return input_block(block_id, label, element, **extra)


def form(
    callback_id: str,
    title: str,
    submit: str,
    blocks: list[Block],
    private_metadata: str,
    *,
    close: str | None = "Cancel",
) -> dict[str, Any]:
    """A modal with a form: the words of its title and buttons, its blocks, and what its
    submission is read with (`callback_id`, `private_metadata`)."""
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, MAX_MODAL_TITLE),
        "submit": plain(submit, MAX_MODAL_TITLE),
    }
    if close is not None:
        view["close"] = plain(close, MAX_MODAL_TITLE)
    return {**view, "private_metadata": private_metadata, "blocks": blocks}


def draft_or_submit_input(block_id: str, draft: str, submit: str) -> Block:
    """Whether saving a form keeps it as a draft (picked at first) or submits it to staff."""
    options = [choice("Save as a draft", draft), choice("Submit to staff", submit)]
    return radio_input(block_id, "When you save", options)


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text)}


def section(text: str, **extra: Any) -> Block:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT)},
        **extra,
    }


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, 2000)}]}


def divider() -> Block:
    return {"type": "divider"}


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def channel_link(channel_id: str) -> str:
    return f"<#{channel_id}>"


def join_words(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def done_view(title: str, what_happened: str, where_to_see: str) -> dict[str, Any]:
    """What a modal turns into once its form is accepted (`response_action: update`):
    what happened, then where to see it. Shown to the one who submitted, once."""
    return {
        "type": "modal",
        "title": plain(title, MAX_MODAL_TITLE),
        "close": plain("Done", MAX_MODAL_TITLE),
        "blocks": [section(what_happened), context(where_to_see)],
    }


def message(text: str, blocks: list[Block]) -> dict[str, Any]:
    """A message payload: blocks plus the plain-text fallback Slack shows in notifications."""
    return {"text": text, "blocks": blocks[:MAX_MESSAGE_BLOCKS]}


# ---- packing text into sections ------------------------------------------------------------
# a token of mrkdwn that must never be cut: a link, mention or date `<…>`, an entity `&amp;`
_TOKEN = re.compile(r"<[^<>\n]*>|&[#a-zA-Z0-9]{1,8};|[^\s<&]+|[<&]|[^\S\n]+")
_LINK_LABEL = re.compile(r"<[^|<>]*\|([^<>]*)>")


def _short_token(token: str, limit: int) -> str:
    """A token longer than a section, made to fit: a link shows its label alone, other
    text is shortened (never inside an entity)."""
    label = _LINK_LABEL.fullmatch(token)
    if label and len(label.group(1)) <= limit:
        return label.group(1)
    if token.startswith("<"):
        return "(a link too long to show)"
    return clip(token, limit)


def text_pieces(text: str, limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Escaped mrkdwn `text` in pieces of at most `limit` characters: whole lines while
    they fit, a longer line split between words, never inside a link, a mention, a date
    or an entity, and never leaving a *bold* or _italic_ phrase open."""
    pieces: list[str] = []
    current: str | None = None
    for line in text.split("\n"):
        joined = line if current is None else f"{current}\n{line}"
        if len(joined) <= limit:
            current = joined
            continue
        if current is not None:
            pieces.append(current)
        if len(line) <= limit:
            current = line
            continue
        current = ""
        for word in _words(line, limit):
            if len(current) + len(word) > limit and current.strip():
                # a formatted phrase the cut would leave open moves whole to the next piece
                opened = first_unclosed_marker(current.rstrip())
                carry = current[opened:] if opened and len(current) - opened < limit // 2 else ""
                pieces.append(current[: len(current) - len(carry)].rstrip())
                current = (carry + word).lstrip()
            else:
                current += word
    pieces.append(current or "")
    return pieces


def text_sections(text: str) -> list[Block]:
    """Escaped mrkdwn `text` in as many sections as it needs (`text_pieces`); no empty
    section, which Slack refuses."""
    return [section(piece) for piece in text_pieces(text) if piece]


def _words(line: str, limit: int) -> list[str]:
    """`line` as words and the spaces between them; a word longer than `limit` in tokens
    that each fit (a link or mention is never split)."""
    words: list[str] = []
    word = ""
    for token in _TOKEN.findall(line):
        if len(token) > limit:
            token = _short_token(token, limit)
        if token.isspace() or len(word) + len(token) > limit:
            words += [word] if word else []
            word = ""
        if token.isspace():
            words.append(token)
        else:
            word += token
    return words + ([word] if word else [])


def pack_sections(
    heading: str,
    lines: Sequence[str],
    room: int,
    noun: str = "item",
    nouns: str | None = None,
    limit: int = MAX_SECTION_TEXT,
) -> list[Block]:
    """`heading` (when not empty) and whole `lines` in as many sections of at most
    `limit` characters as they need, at most `room` of them. A line longer than a section
    is split between words (`text_pieces`), never inside a link or mention; lines that
    do not fit in `room` are told as "…and N more" (`noun`, `nouns` as in `plural`)."""
    if room <= 0:
        return []
    chunks: list[list[str]] = [[heading] if heading else []]
    size = len(heading) if heading else -1  # a line costs its length and a line break
    shown: list[tuple[int, int, int]] = []  # where each shown line began, to take it back

    def add(piece: str) -> bool:
        nonlocal size
        if size + 1 + len(piece) <= limit:
            chunks[-1].append(piece)
            size += 1 + len(piece)
        elif len(chunks) < room:
            chunks.append([piece])
            size = len(piece)
        else:
            return False
        return True

    def take_back(mark: tuple[int, int, int]) -> None:
        nonlocal size
        del chunks[mark[0] :]
        del chunks[-1][mark[1] :]
        size = mark[2]

    for line in lines:
        mark = (len(chunks), len(chunks[-1]), size)
        if all(add(piece) for piece in text_pieces(line, limit)):
            shown.append(mark)
        else:
            take_back(mark)
            break
    left = len(lines) - len(shown)
    while left:
        tail = f"_…and {plural(left, 'more ' + noun, 'more ' + (nouns or noun + 's'))}_"
        if add(tail) or not shown:
            if not chunks[-1] or chunks[-1][-1] != tail:
                chunks[-1].append(tail)
            break
        take_back(shown.pop())
        left += 1
    return [section("\n".join(chunk)) for chunk in chunks if chunk]
