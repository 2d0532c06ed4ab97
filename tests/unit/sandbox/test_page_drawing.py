"""The sandbox page knows everything copbot writes: every Block Kit block and element type
in bot/ is one the page draws (what it cannot draw fails the browser tests loudly; this
catches it without a browser, the moment a builder starts using a new type), and every
emoji shortcode copbot writes is in the page's table, so none shows as `:name:`."""

from __future__ import annotations

import re

from tests.helpers.paths import REPO_ROOT

STATIC = REPO_ROOT / "sandbox" / "static"
# "type" values in bot/ that are not blocks or elements: views, text objects, a call kind
NOT_BLOCK_KIT = {"home", "modal", "mrkdwn", "plain_text", "scheduled"}


def _sources() -> list[str]:
    return [p.read_text() for p in sorted((REPO_ROOT / "bot").rglob("*.py"))]


def test_every_block_and_element_type_copbot_writes_is_drawn_by_the_page():
    used = set()
    for text in _sources():
        used |= set(re.findall(r'"type":\s*"([a-z_]+)"', text))
    used -= NOT_BLOCK_KIT
    assert {"section", "actions", "multi_static_select", "datetimepicker"} <= used  # the scan
    drawn = set(re.findall(r'"([a-z_]+)"', (STATIC / "blockkit.js").read_text()))
    assert used <= drawn, f"types copbot writes that the page does not draw: {used - drawn}"


def test_every_emoji_copbot_writes_is_in_the_pages_table():
    table = (STATIC / "mrkdwn.js").read_text()
    table = table[table.index("const EMOJI = {") : table.index("};", table.index("const EMOJI"))]
    known = set(re.findall(r'([a-z0-9_]+|"\+1"): "', table))
    used = set()
    for text in _sources():
        used |= set(re.findall(r":([a-z][a-z0-9_]*):", text))
    used -= {"read", "memory"}  # "groups:read:" in a comment; SQLite's ":memory:" database
    assert {"mega", "bar_chart", "lock"} <= used  # the scan found copbot's emoji
    assert used <= known, f"emoji copbot writes that the page would show as text: {used - known}"
