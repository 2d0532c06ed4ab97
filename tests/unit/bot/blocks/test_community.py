"""Every modal, message and home view stays within Block Kit's limits, even when full."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.blocks import community as cb
from bot.blocks import escape
from bot.blocks.help import SUBCOMMANDS, help_message
from bot.blocks.limits import check_blocks, check_message, check_view
from bot.services.communities import CommunitySummary, RosterEntry
from storage.models import Community, Role
from tests.helpers.slack import HOSTILE, assert_inert


def community(i: int = 1, **kw) -> Community:
    fields = dict(
        id=i,
        team_id="T",
        name=f"Community {i}",
        name_key=f"community {i}",
        slack_channel_id=f"C{i:08d}",
        mission="",
        description="",
        purpose_areas="",
        created_by="U1",
        created_at=datetime(2026, 9, 1, tzinfo=UTC),
    )
    fields.update(kw)
    return Community(**fields)


def test_the_checker_catches_what_it_should():
    assert check_blocks([{"type": "divider"}] * 51, "message") == ["message: 51 blocks, limit 50"]
    long_section = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    assert check_blocks([long_section], "message")
    assert check_message({"blocks": [{"type": "divider"}]}) == [
        "message has blocks but no plain-text fallback `text`"
    ]
    assert check_view(
        {"type": "modal", "title": {"type": "plain_text", "text": "t" * 25}, "blocks": []}
    ) == ["modal title over 24 characters"]
    dup = [{"type": "divider", "block_id": "a"}, {"type": "divider", "block_id": "a"}]
    assert check_blocks(dup, "modal") == ["modal block 1 (divider): duplicate block_id 'a'"]


@pytest.mark.parametrize("staff", [False, True])
def test_new_community_modal(staff):
    view = cb.new_community_modal("C1", "U1", staff=staff)
    assert check_view(view) == []


def test_help_fits_and_has_a_line_per_subcommand():
    message = help_message(["help"], intro="I don't know `/cop x`.")
    assert check_message(message) == []
    assert len(message["text"].splitlines()) >= len(SUBCOMMANDS)


def test_a_roster_of_a_thousand_members_fits():
    entries = [RosterEntry("U1", Role.LEADER), RosterEntry("U2", Role.LEADER)]
    entries += [RosterEntry(f"UM{i:07d}", Role.MEMBER) for i in range(1000)]
    message = cb.roster_message(community(), entries)
    assert check_message(message) == []
    text = "".join(b["text"]["text"] for b in message["blocks"] if b["type"] == "section")
    assert text.count("<@UM") == 1000  # nobody is dropped


def test_long_names_and_missions_are_clipped_not_rejected():
    c = community(name="N" * 80, mission="M" * 3000)
    for payload in (
        cb.welcome_announcement(c, "U1"),
        cb.leaders_changed_announcement(c, ["U1", "U2"], "U3"),
        cb.leaders_message(c, ["U1"]),
    ):
        assert check_message(payload) == []


def test_mrkdwn_in_names_is_escaped():
    c = community(name="<!channel> & friends")
    text = cb.welcome_announcement(c, "U1")["text"]
    assert "<!channel>" not in text and escape("<!channel>") in text


def test_home_for_staff_with_three_hundred_communities_shows_them_all():
    summaries = [CommunitySummary(community(i), None, i % 3, 10) for i in range(300)]
    view = cb.home_view("U9", summaries[:5], summaries)
    assert check_view(view) == []
    assert str(view).count(":warning: no leader") == 100


def test_home_for_staff_with_more_communities_than_fit_says_how_many_more():
    summaries = [CommunitySummary(community(i, name="N" * 80), None, 1, 10) for i in range(5000)]
    view = cb.home_view("U9", [], summaries)
    assert check_view(view) == []
    last = view["blocks"][-2]["text"]["text"]
    shown = sum(
        b["text"]["text"].count("\n• ") + 1
        for b in view["blocks"]
        if b["type"] == "section" and b["text"]["text"].startswith("• ")
    )
    assert last.endswith(f"\n_…and {5000 - shown} more communities_")


def test_empty_home():
    view = cb.home_view("U1", [], None)
    assert check_view(view) == []
    assert "not in a community yet" in str(view)


# ---- people's text never acts (a hostile name, mission, answer) ----------------------------
def _hostile_community() -> Community:
    return community(name=HOSTILE[:80], mission=HOSTILE, description=HOSTILE)


def test_every_community_builder_escapes_what_people_typed():
    c = _hostile_community()
    summary = CommunitySummary(c, Role.LEADER, 1, 3)
    payloads = [
        cb.welcome_announcement(c, "U1"),
        cb.roster_message(c, [RosterEntry("U1", Role.LEADER), RosterEntry("U2", Role.MEMBER)]),
        cb.leaders_message(c, ["U1"]),
        cb.leaders_changed_announcement(c, ["U1", "U2"], "U1"),
        cb.leaders_confirm_message(c, ["U2"], "This makes you a member."),
        cb.home_view("U1", [summary], [summary], call_counts={1: 2}, year="2026–27"),
        cb.message_for(f"*{escape(c.name)}* is created."),
    ]
    for payload in payloads:
        assert_inert(payload)
    text = cb.welcome_announcement(c, "U1")["text"]
    assert "&lt;!channel&gt;" in text and "&amp;" in text


def test_every_plan_builder_escapes_what_people_typed():
    from bot.blocks import plan as pb
    from bot.services.planning_tool import SECTIONS
    from bot.services.plans import Answer, PlanSnapshot

    c = _hostile_community()
    when = datetime(2026, 10, 1, tzinfo=UTC)
    answers = {
        q.key: Answer("relationships" if q.kind == "areas" else HOSTILE, "U1", when)
        for s in SECTIONS
        for q in s.questions
    }
    plan = PlanSnapshot(community=c, answers=answers, last_section=1)
    for message in pb.plan_messages(plan, include_unanswered=True):
        assert_inert(message)
        assert check_message(message) == []
    for view in (pb.section_modal(plan, 1), pb.review_view(plan), pb.saved_view(plan, 2)):
        assert_inert(view)
    intro = pb.readonly_intro(plan, ["U1"])
    assert "<!channel>" not in intro and escape("<!channel>") in intro


# ---- wording ---------------------------------------------------------------------------------
def test_counts_read_as_sentences():
    c = community()
    one = cb.roster_message(c, [RosterEntry("U1", Role.LEADER)])
    assert one["text"] == "Community 1: 1 leader and 0 members. Led by <@U1>."
    assert one["blocks"][0]["text"]["text"] == "Community 1: 1 person"
    many = cb.roster_message(
        c,
        [RosterEntry("U1", Role.LEADER), RosterEntry("U2", Role.LEADER)]
        + [RosterEntry(f"U{i}", Role.MEMBER) for i in range(3, 6)],
    )
    assert many["text"] == "Community 1: 2 leaders and 3 members. Led by <@U1> and <@U2>."
    assert cb.leaders_sentence(c, ["U1"]) == "<@U1> is now the leader of *Community 1*"
    assert cb.leaders_sentence(c, ["U1", "U2"]) == (
        "<@U1> and <@U2> are now the leaders of *Community 1*"
    )
    assert cb.leaders_message(c, ["U1"])["text"] == "Community 1 is led by <@U1>."
    assert cb.leaders_message(c, [])["text"] == "Community 1 has no leader yet."
    home = str(
        cb.home_view(
            "U1",
            [CommunitySummary(c, Role.LEADER, 1, 1)],
            [CommunitySummary(c, Role.LEADER, 1, 1)],
            call_counts={1: 1},
            year="2026–27",
        )
    )
    assert "Leader · 1 leader, 1 person in all · 1 community call in 2026–27 :warning:" in home
    assert "1 leader (at most 2), 1 person in all" in home
    for wrong in ("(s)", "1 people", "of 3–6", "1 leaders", "1 persons"):
        assert wrong not in home
