"""The shared helpers that keep people's text from acting: escaping, safe links, plurals,
and the one way modal values are read."""

from __future__ import annotations

import pytest

from bot.blocks import escape, link, plural, safe_url
from bot.listeners.common import modal_values

HOSTILE = "<!channel> <@U123> <http://evil.example|Zoom> a & b"


def test_escape_turns_every_control_sequence_into_text():
    out = escape(HOSTILE)
    assert "<" not in out and ">" not in out
    assert out.startswith("&lt;!channel&gt;")
    assert "a &amp; b" in out


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://example.org/x",
        "http://",
        "https://a.example/x|fake",
        "https://a.example/<!channel>",
        "https://a.example/ space",
        "example.org",
        "",
        None,
    ],
)
def test_safe_url_refuses_what_is_not_plain_http(url):
    assert safe_url(url) is None


def test_safe_url_keeps_http_and_https():
    assert safe_url(" https://zoom.example/j/1?pwd=a&b=c ") == "https://zoom.example/j/1?pwd=a&b=c"
    assert safe_url("http://example.org") == "http://example.org"


def test_link_escapes_the_label_and_drops_unsafe_urls():
    assert link("https://ok.example/a&b", "x|<!here>") == (
        "<https://ok.example/a&amp;b|x\N{FULLWIDTH VERTICAL LINE}&lt;!here&gt;>"
    )
    assert link("javascript:alert(1)", "<b>") == "&lt;b&gt;"


def test_plural():
    assert plural(1, "leader") == "1 leader"
    assert plural(0, "member") == "0 members"
    assert plural(2, "person", "people") == "2 people"


def test_modal_values_reads_every_element_kind():
    view = {
        "state": {
            "values": {
                "a": {"v": {"type": "plain_text_input", "value": "text"}},
                "b": {"v": {"type": "users_select", "selected_user": "U1"}},
                "c": {"v": {"type": "conversations_select", "selected_conversation": "C1"}},
                "d": {"v": {"type": "datepicker", "selected_date": "2027-01-02"}},
                "e": {"v": {"type": "timepicker", "selected_time": "09:30"}},
                "f": {"v": {"type": "static_select", "selected_option": {"value": "x"}}},
                "g": {"v": {"type": "checkboxes", "selected_options": [{"value": "p"}]}},
                "h": {"v": {"type": "plain_text_input", "value": None}},
                "i": {"v": {"type": "static_select", "selected_option": None}},
                "j": {"v": {"type": "multi_users_select", "selected_users": ["U1", "U2"]}},
            }
        }
    }
    assert modal_values(view) == {
        "a": "text",
        "b": "U1",
        "c": "C1",
        "d": "2027-01-02",
        "e": "09:30",
        "f": "x",
        "g": ["p"],
        "j": ["U1", "U2"],
    }
