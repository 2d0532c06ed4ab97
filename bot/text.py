"""People's text on its way into files staff open elsewhere: one function per rule.

- `csv_cell` / `csv_uncell`: a spreadsheet never reads a cell as a formula (OWASP's
  CSV-injection guidance: a text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage
  return gets a leading `'`), and the prefix comes off again when copbot reads its own CSV.
- `md_inline` / `md_block`: what a person typed, placed in a Markdown document, cannot
  open a heading (and so forge another section), raw HTML or a link; their lists and
  emphasis stay as written.

Slack's own mrkdwn escaping (`escape`, `link`) lives with the Block Kit builders.
"""

from __future__ import annotations

import re
from typing import Any

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


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_LINK_BRACKETS = str.maketrans({"[": r"\[", "]": r"\]"})
# A line that would open an ATX heading, or underline the line above into a setext heading.
_HEADING = re.compile(r"^( {0,3})(#|=+\s*$|-+\s*$)")


def md_inline(text: str | None) -> str:
    """A person's text on one line of Markdown (a heading, a list item): line breaks
    become spaces, HTML and link brackets show as typed, and it cannot start a heading."""
    one_line = " ".join((text or "").split())
    out = _html(one_line).translate(_LINK_BRACKETS)
    return "\\" + out if out.startswith("#") else out


def md_block(text: str | None) -> str:
    """A person's multi-line answer as a Markdown block: each line kept, but none opens a
    heading, and HTML and link brackets show as typed."""
    lines = []
    for line in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = _html(line).translate(_LINK_BRACKETS)
        lines.append(_HEADING.sub(r"\1\\\2", line))
    return "\n".join(lines)
