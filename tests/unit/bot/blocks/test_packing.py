"""One packer for Slack's section limits: whole lines in as many sections as they need,
within the message's or view's blocks, "…and N more" when even that is not enough, and
never a cut inside a link, a mention, a date or an entity. Each builder that used to cut
at 2,900 characters shows everything it was given."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

from bot.blocks import (
    MAX_FALLBACK_TEXT,
    MAX_HOME_BLOCKS,
    MAX_MESSAGE_BLOCKS,
    MAX_MODAL_BLOCKS,
    MAX_SECTION_TEXT,
    divider,
    home_year,
    message,
    onsite,
    pack_sections,
    report,
    resources,
    section,
    shares,
    text_pieces,
    text_sections,
)
from bot.blocks import agenda as agenda_blocks
from bot.blocks import announcements as announce_blocks
from bot.blocks.limits import check_blocks, check_message, check_view
from bot.services.agenda import Session_
from storage.models import Community, OnsiteAgenda, OnsiteMeeting, Share
from tests.helpers.slack import mrkdwn_texts

TOKEN = re.compile(r"<[^<>]*>")


def _whole_tokens(text: str) -> bool:
    """Every `<` in mrkdwn opens a token that closes in the same text, and no entity is
    cut (`&amp;`, `&lt;`, `&gt;` whole); `>` opening a line is a quote."""
    bare = TOKEN.sub("", re.sub(r"(?m)^>", "", text))
    return "<" not in bare and ">" not in bare and not re.search(r"&(?!amp;|lt;|gt;|#\d+;)", bare)


def _texts(payload) -> list[str]:
    return mrkdwn_texts(payload)


def test_pieces_keep_links_mentions_and_entities_whole():
    words = " ".join(
        ["<@U0123ABCD>", "<https://x.example/a?b=1&amp;c=2|a link>", "&amp;", "word"] * 300
    )
    pieces = text_pieces(words)
    assert len(pieces) > 1 and all(len(p) <= MAX_SECTION_TEXT for p in pieces)
    assert all(_whole_tokens(p) for p in pieces)
    assert " ".join(pieces).split() == words.split()  # nothing lost, nothing added


def test_a_link_longer_than_a_section_shows_its_label():
    url = "https://x.example/" + "a" * 3100
    pieces = text_pieces(f"before <{url}|the guide> after")
    assert pieces == ["before the guide after"] or all(len(p) <= 3000 for p in pieces)
    assert "the guide" in " ".join(pieces) and all(_whole_tokens(p) for p in pieces)


def test_packing_respects_the_room_and_says_how_many_more():
    lines = [f"• line {n} " + "x" * 990 for n in range(20)]
    out = pack_sections("*Head*", lines, 3, "session")
    assert len(out) == 3
    text = "\n".join(b["text"]["text"] for b in out)
    assert all(len(b["text"]["text"]) <= MAX_SECTION_TEXT for b in out)
    shown = [n for n in range(20) if f"line {n} " in text]
    # three lines of 999 fill a section; the last gives one back to say how many more
    assert shown == list(range(len(shown))) and len(shown) == 7
    assert text.endswith("_…and 13 more sessions_")
    every = pack_sections("", lines, 10, "session")
    every_text = "\n".join(b["text"]["text"] for b in every)
    assert "more" not in every_text and all(f"line {n} " in every_text for n in range(20))
    assert pack_sections("", lines, 0, "session") == []


def _community(name: str = "Rural Care", cid: int = 1) -> Community:
    return Community(
        id=cid, name=name, name_key=name.lower(), slack_channel_id="C1", created_by="U1"
    )


def _sessions(n: int = 8) -> list[Session_]:
    return [
        Session_(
            f"{9 + k:02d}:00",
            45,
            f"Session {k + 1} <@U0BAD> & friends",
            "Dr. Ana García, Ben O'Neil",
            "A long description of what we will do together. " * 8,
        )
        for k in range(n)
    ]


MEETING = OnsiteMeeting(
    id=1,
    year=2030,
    name="Annual Meeting",
    timezone="America/Chicago",
    start_date=date(2030, 5, 2),
    end_date=date(2030, 5, 4),
    created_by="U1",
)


def test_a_full_agenda_shows_every_session():
    sessions = _sessions(8)
    agenda = OnsiteAgenda(community_id=1, year=2030, state="submitted", updated_by="U1")
    for payload in (
        agenda_blocks.agenda_message(_community(), MEETING, None, agenda, sessions),
        agenda_blocks.submitted_notice(_community(), MEETING, None, sessions, "U1"),
    ):
        text = "\n".join(_texts(payload))
        assert [k for k in range(1, 9) if f"Session {k} " in text] == list(range(1, 9))
        assert check_message(payload) == []
        assert all(_whole_tokens(t) for t in _texts(payload))


def test_a_long_share_link_is_never_cut():
    url = "https://learn.example/course?" + "&".join(f"p{n}=v{n}" for n in range(250))
    assert 2000 < len(url) < 3000
    card = shares.share_card(
        Share(id=1, community_id=1, url=url, note="Worth it & free", shared_by="U1")
    )
    texts = _texts(card)
    assert check_message(card) == []
    assert all(_whole_tokens(t) for t in texts)
    # too long to be a link in a section: shown shortened, opened by a button
    [button] = [e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert button["url"] == url and button["action_id"] == shares.OPEN_ACTION
    assert all(len(t) <= MAX_SECTION_TEXT for t in texts)
    short = "https://learn.example/course?p0=v0"
    linked = shares.share_card(Share(id=2, community_id=1, url=short, shared_by="U1"))
    assert f"<{short}|{short}>" in _texts(linked)[1]


def test_the_monthly_digest_keeps_every_link():
    found = [
        Share(
            id=n,
            community_id=1,
            url=f"https://site{n}.example/" + "p" * 150 + f"?id={n}",
            note=f"Opportunity {n}: " + "details " * 20,
            shared_by=f"U{n:04d}",
            shared_at=datetime(2030, 3, 1, tzinfo=UTC) + timedelta(days=n),
        )
        for n in range(25)
    ]
    payload = shares.digest(_community(), "March 2030", found)
    texts = _texts(payload)
    assert check_message(payload) == []
    assert all(_whole_tokens(t) for t in texts)
    shown = {n for n in range(25) for t in texts if f"https://site{n}.example/" in t}
    assert shown == set(range(25))
    assert "(25 links)" in texts[1]


def test_a_digest_of_more_links_than_a_message_holds_says_how_many_more():
    found = [
        Share(id=n, community_id=1, url=f"https://s{n}.example/" + "q" * 1400, shared_by="U1")
        for n in range(200)
    ]
    payload = shares.digest(_community(), "March 2030", found)
    assert check_message(payload) == []
    assert re.search(r"…and \d+ more links", _texts(payload)[-1])


@pytest.mark.parametrize("count", [5, 600])
def test_staff_lists_show_every_community_or_say_how_many_more(count):
    rows = [(_community(f"Community {n:03d} " + "n" * 300, n), None) for n in range(count)]
    payloads = [
        report.status_message("2029-30", rows),
        resources.ack_status("2029-30", rows),
        agenda_blocks.status_message(MEETING, [(c, None, None) for c, _ in rows]),
    ]
    for payload in payloads:
        assert check_message(payload) == []
        text = "\n".join(_texts(payload))
        shown = sum(1 for n in range(count) if f"Community {n:03d} " in text)
        if count == 5:
            assert shown == 5 and "more" not in text
        else:
            assert 300 < shown < count and f"…and {count - shown} more communities" in text


def test_the_home_to_do_list_shows_all_or_says_how_many_more():
    todo = [
        SimpleNamespace(community=_community(f"C{n}"), what="Write the plan " * 30, due=None)
        for n in range(60)
    ]
    out = home_year.todo_blocks(todo)
    text = "\n".join(b["text"]["text"] for b in out[1:])
    shown = sum(1 for n in range(60) if f"*C{n}*" in text)
    assert 0 < shown < 60 and f"…and {60 - shown} more to-dos" in text


def test_the_onsite_grid_names_every_community_without_a_block():
    waiting = [_community(f"Waiting {n:03d}", n) for n in range(300)]
    payload = onsite.grid_message(MEETING, [], [], waiting)
    assert check_message(payload) == []
    text = "\n".join(_texts(payload))
    shown = sum(1 for n in range(300) if f"Waiting {n:03d}" in text)
    assert shown == 300 or f"…and {300 - shown} more communities" in text


def test_an_announcement_is_split_between_words_never_inside_an_escape():
    text = ("Tom & Jerry <b> " * 400).strip()
    message = announce_blocks.announcement_message(text, "none", "U1")
    parts = [b["text"]["text"] for b in message["blocks"][1:]]
    assert len(parts) > 1 and all(len(p) <= MAX_SECTION_TEXT for p in parts)
    assert all(_whole_tokens(p) for p in parts)
    assert " ".join(parts).split() == announce_blocks.neutralise(text).split()


HOSTILE_NAME = "<!channel> <@UHOSTILE> <http://evil.example|Zoom> & co"


def test_what_the_packer_and_the_new_messages_show_stays_inert():
    from tests.helpers.slack import assert_inert

    hostile = _community(HOSTILE_NAME)
    share = Share(
        id=3, community_id=1, url="https://ok.example/x", note=HOSTILE_NAME, shared_by="U1"
    )
    long_share = Share(
        id=4, community_id=1, url="https://ok.example/" + "z" * 2000, note=HOSTILE_NAME,
        shared_by="U1",
    )  # fmt: skip
    payloads = [
        onsite.agenda_reopened_notice(hostile, MEETING, freed=True),
        onsite.agenda_reopened_notice(hostile, MEETING, freed=False),
        onsite.grid_message(MEETING, [], [], [hostile] * 80),
        shares.share_card(share),
        shares.share_card(long_share),
        shares.digest(hostile, "March 2030", [share] * 30),
        report.status_message("2029-30", [(hostile, None)] * 200),
        agenda_blocks.status_message(MEETING, [(hostile, None, None)] * 200),
        {"blocks": home_year.todo_blocks([SimpleNamespace(community=hostile, what="x", due=None)])},
    ]
    for payload in payloads:
        assert_inert(payload)
    assert "&lt;!channel&gt;" in json.dumps(payloads[0])


# ---- at the limits ---------------------------------------------------------------------------
def test_a_section_holds_exactly_its_limit_and_clips_one_over():
    assert section("x" * MAX_SECTION_TEXT)["text"]["text"] == "x" * MAX_SECTION_TEXT
    over = section("x" * (MAX_SECTION_TEXT + 1))["text"]["text"]
    assert len(over) == MAX_SECTION_TEXT and over.endswith("…")
    assert check_blocks([section("x" * (MAX_SECTION_TEXT + 1))], "message") == []


def test_the_packer_fills_a_section_to_exactly_its_limit():
    line = "y" * 1000  # three lines and two line breaks: 3,000 characters
    exact = pack_sections("", [line, line, line[:998]], 5)
    assert [len(b["text"]["text"]) for b in exact] == [MAX_SECTION_TEXT]
    one_over = pack_sections("", [line, line, line[:999]], 5)
    assert [len(b["text"]["text"]) for b in one_over] == [2001, 999]
    assert [len(b["text"]["text"]) for b in text_sections("z" * MAX_SECTION_TEXT)] == [3000]
    assert len(text_sections("z " * 1500 + "z")) == 2  # 3,001 characters, split between words


def test_fifty_blocks_fill_a_message_and_a_hundred_a_view():
    lines = [f"• line {n} " + "x" * 2990 for n in range(120)]  # one section each
    blocks = pack_sections("", lines, MAX_MESSAGE_BLOCKS, "line")
    assert len(blocks) == MAX_MESSAGE_BLOCKS == 50
    assert blocks[-1]["text"]["text"].endswith("_…and 71 more lines_")
    payload = message("fallback", [*blocks, divider()])
    assert len(payload["blocks"]) == 50 and check_message(payload) == []
    assert check_blocks([divider()] * 51, "message") == ["message: 51 blocks, limit 50"]
    view_blocks = pack_sections("", lines, MAX_HOME_BLOCKS, "line")
    assert len(view_blocks) == MAX_HOME_BLOCKS == MAX_MODAL_BLOCKS == 100
    assert check_view({"type": "home", "blocks": view_blocks}) == []
    assert check_view({"type": "home", "blocks": [*view_blocks, divider()]}) == [
        "home: 101 blocks, limit 100"
    ]


def test_a_fallback_is_clipped_to_its_limit():
    text = "word " * (MAX_FALLBACK_TEXT // 2)
    payload = announce_blocks.announcement_message(text, "none", "U1")
    assert len(payload["text"]) == MAX_FALLBACK_TEXT and payload["text"].endswith("…")
    assert all(len(b["text"]["text"]) <= MAX_SECTION_TEXT for b in payload["blocks"])
    shown = " ".join(b["text"]["text"] for b in payload["blocks"][1:])
    assert shown.split() == text.split()  # the message itself shows every word
