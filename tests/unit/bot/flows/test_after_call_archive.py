"""The archive of a community's calls where people read it (`/cop resources` through the
signed endpoint, and a leader's App Home): 20 calls with long share links are all listed,
in whole lines over as many sections as they need, none over Slack's 3,000 characters
and no link cut; what cannot fit says how many more there are."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient

from bot.blocks.limits import check_message, check_view
from bot.flows import home
from sandbox.slack_standin import TEAM_ID
from storage.db import session_scope
from storage.models import Call
from tests.helpers.records import new_community

CHANNEL = "CARCHIV1"
LINK = 300  # characters of each share link


def _url(kind: str, n: int) -> str:
    head = f"https://{kind}.example/share/{n:02d}/"
    return head + "x" * (LINK - len(head))


@pytest.fixture
def archived(session, engine):  # after `session`, which empties the database
    with session_scope(engine) as s:
        c = new_community(s, name="Survivorship", channel=CHANNEL, leader="U1", team=TEAM_ID)
        start = datetime.now(UTC) - timedelta(days=200)
        for n in range(20):
            s.add(
                Call(
                    community_id=c.id, start_at=start + timedelta(days=7 * n), timezone="UTC",
                    topic=f"Call number {n:02d}", host_user_id="U1", created_by="U1",
                    recording_url=_url("rec", n), slides_url=_url("slides", n),
                )
            )  # fmt: skip
    return list(range(20))


def _sections(blocks: list[dict]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b.get("type") == "section" and "text" in b]


def _assert_whole(texts: list[str], calls: list[int]) -> None:
    """Every call listed with both its links whole, no section over 3,000 characters."""
    joined = "\n".join(texts)
    for text in texts:
        assert len(text) <= 3000
        assert "…" not in text.replace("_…and", "")  # nothing clipped
        assert all("|" in inner for inner in re.findall(r"<([^<>]*)>", text))
        assert re.sub(r"<[^<>]*>", "", text).count("<") == 0  # no link left open
    for n in calls:
        assert f"Call number {n:02d}" in joined
        assert f"<{_url('rec', n)}|" in joined and f"<{_url('slides', n)}|" in joined


def test_cop_resources_lists_20_calls_with_long_links_whole(archived, as_user):
    body = as_user("U1", CHANNEL).reply("resources")
    assert check_message(body) == []
    texts = [t for t in _sections(body["blocks"]) if "Call number" in t]
    assert len(texts) > 1
    _assert_whole(texts, archived)
    assert "more call" not in json.dumps(body)


def test_a_leader_s_home_lists_20_calls_with_long_links_whole(archived, deps, slack):
    home.publish(WebClient(token="xoxb-test-token", base_url=slack.url), deps, "U1")
    view = slack.calls_to("views.publish")[-1].args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert check_view(view) == []
    texts = [t for t in _sections(view["blocks"]) if "Call number" in t]
    assert len(texts) > 1 and "*Archive of Survivorship*" in texts[0]
    _assert_whole(texts, archived[-5:])  # Home shows the 5 newest calls


def test_what_does_not_fit_the_room_is_told_as_n_more():
    from bot.blocks import pack_sections

    lines = [f"• <{_url('rec', n)}|recording>" for n in range(20)]
    blocks = pack_sections("*Archive*", lines, 2, "call")
    texts = _sections(blocks)
    assert len(blocks) == 2 and all(len(t) <= 3000 for t in texts)
    shown = sum(t.count("|recording>") for t in texts)
    assert shown == 18  # about 9 lines of 313 characters a section
    assert texts[-1].endswith(f"_…and {20 - shown} more calls_")
    # a line longer than a section is split between words, never inside a link
    long = "• " + " ".join(f"<{_url('slides', n)}|slides>" for n in range(12))
    texts = _sections(pack_sections("*Archive*", [long, *lines[:2]], 3, "call"))
    assert sum(t.count("|slides>") for t in texts) == 12 and "more" not in texts[-1]
    assert all(t.count("<") == t.count(">") for t in texts)
    assert pack_sections("*Archive*", lines, 0, "call") == []
    assert _sections(pack_sections("*A*", lines[:1], 1, "call")) == ["*A*\n" + lines[0]]
