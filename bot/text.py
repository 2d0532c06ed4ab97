"""People's text on its way into Slack's mrkdwn and into files staff open elsewhere: one
function per rule, below every other module of copbot.

- `escape`, `safe_url`, `link`, `unmarked`, `plural`: what a person typed, shown in Slack's
  mrkdwn or a message's fallback text, never acts (no `<!channel>`, no forged link, no
  marker pairing with copbot's own bold), and links are http(s) only.
- `csv_cell` / `csv_uncell`: a spreadsheet never reads a cell as a formula (OWASP's
  CSV-injection guidance: a text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage
  return gets a leading `'`), and the prefix comes off again when copbot reads its own CSV.
- `md_inline` / `md_block`: what a person typed, placed in a Markdown document, cannot
  open a heading (and so forge another section), raw HTML or a link; their lists and
  emphasis stay as written.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A cell that already starts with the apostrophe gets one more, so reading it back is exact
# (a spreadsheet shows `'90s` for `''90s`, as typed).
_PREFIXED = (*FORMULA_STARTS, "'")


def csv_cell(value: Any) -> Any:
    """`value` as a CSV cell: text that a spreadsheet would run as a formula is prefixed
    with `'`; numbers, booleans and None pass unchanged (they are never formulas)."""
    if isinstance(value, str) and value.startswith(_PREFIXED):
        return "'" + value
    return value


def csv_row(values: Any) -> list[Any]:
    """Every cell of a row through `csv_cell`."""
    return [csv_cell(v) for v in values]


def csv_uncell(text: str) -> str:
    """The text `csv_cell` was given, from the cell it wrote."""
    return text[1:] if text.startswith("'") and text[1:].startswith(_PREFIXED) else text


_LINK_BRACKETS = str.maketrans({"[": r"\[", "]": r"\]"})
# A line that would open an ATX heading, or underline the line above into a setext heading.
_HEADING = re.compile(r"^( {0,3})(#|=+\s*$|-+\s*$)")


def md_inline(text: str | None) -> str:
    """A person's text on one line of Markdown (a heading, a list item): line breaks
    become spaces, HTML and link brackets show as typed, and it cannot start a heading."""
    one_line = " ".join((text or "").split())
    out = escape(one_line).translate(_LINK_BRACKETS)
    return "\\" + out if out.startswith("#") else out


def md_block(text: str | None) -> str:
    """A person's multi-line answer as a Markdown block: each line kept, but none opens a
    heading, and HTML and link brackets show as typed."""
    lines = []
    for line in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = escape(line).translate(_LINK_BRACKETS)
        lines.append(_HEADING.sub(r"\1\\\2", line))
    return "\n".join(lines)


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters.

    Every piece of text a person typed (names, topics, answers, URLs) goes through this
    before it lands in mrkdwn or in a message's fallback `text`, so `<!channel>`,
    `<@U…>` or `<http://evil|nice>` show as typed and never act."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_URL_UNSAFE = re.compile(r"[\s<>|]")


def safe_url(url: str | None) -> str | None:
    """`url` if it is an absolute http(s) URL with a host and nothing that could break
    out of a `<url|label>` link; None otherwise."""
    if not url:
        return None
    url = url.strip()
    if _URL_UNSAFE.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def link(url: str | None, label: str) -> str:
    """A mrkdwn link to a safe http(s) `url` with an escaped `label`; the label alone
    (escaped) when the URL is not safe."""
    safe = safe_url(url)
    shown = escape(label).replace("|", "\N{FULLWIDTH VERTICAL LINE}")
    return f"<{escape(safe)}|{shown}>" if safe else shown


_EDGE_MARK = re.compile(r"(?<![0-9A-Za-z])[*_~`]+|[*_~`]+(?![0-9A-Za-z])")


def unmarked(text: str) -> str:
    """People's text to set inside copbot's own formatting (a bold title): the mrkdwn
    markers they typed at word edges removed ("*Save* the date" -> "Save the date"), so
    theirs cannot pair with ours; markers inside words (snake_case) stay. Not escaped."""
    return _EDGE_MARK.sub("", text)


def plural(count: int, word: str, words: str | None = None) -> str:
    """A count and its noun: "1 leader", "2 leaders"; `words` for irregular plurals
    (plural(2, "person", "people"))."""
    return f"{count} {word if count == 1 else (words or word + 's')}"
