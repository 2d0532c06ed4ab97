"""Block Kit builders: plain values in, dicts out, no I/O.

Block Kit's limits (block counts, text lengths) are in `bot.blocks.limits`, which
the tests also use to check every payload.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.blocks.limits import MAX_BLOCKS, MAX_HEADER_TEXT, MAX_SECTION_TEXT
from bot.text import escape, link, plural, safe_url, unmarked  # noqa: F401 - for the builders

Block = dict[str, Any]

MAX_MESSAGE_BLOCKS = MAX_BLOCKS["message"]
MAX_HOME_BLOCKS = MAX_BLOCKS["home"]


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
        "label": plain(label, 2000),
        "element": {**element, "action_id": "value"},
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


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
        "title": plain(title, 24),
        "close": plain("Done", 24),
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


def packed_sections(
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
