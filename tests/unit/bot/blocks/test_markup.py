"""Formatting that reaches people as Slack draws it: the mrkdwn markers copbot writes pair
up, people's text cannot break them, and plain-text fields carry no mrkdwn. The builders
of bot/blocks run here with realistic and hostile text; every payload the Slack stand-in
receives in any test is checked the same way (tests/conftest.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

import bot.blocks as blocks_pkg
from bot.blocks import (
    after_call,
    agenda,
    announcements,
    calls,
    community,
    evidence,
    help,
    home_year,
    onsite,
    profile,
    reminders,
    report,
    resources,
    shares,
)
from bot.blocks.limits import marker_problems, markup_problems
from bot.services.agenda import Session_
from bot.services.communities import RosterEntry
from bot.services.onsite import GridEntry
from bot.services.overview import Row, Todo
from bot.services.reports import Facts
from bot.services.summaries import CommunitySummary
from storage.models import (
    Announcement,
    Call,
    Community,
    Evidence,
    Milestone,
    OnsiteAgenda,
    OnsiteBlock,
    OnsiteMeeting,
    OnsiteRoom,
    ProgressReport,
    Reminder,
    Role,
    Share,
)

CASES = [
    # (mrkdwn, shows a marker as typed)
    ("*Save the date* for the meeting", False),
    ("**Save the date* for the meeting*", True),  # the Home title of a typed *bold*
    ("_added by <@U1> <!date^1^{date}|2026-01-01>_", False),
    (":white_check_mark: snake_case 5*3 and 5 * 3", False),
    ("`/cop agenda` *bold* _it_ ~gone~", False),
    ("*Room A* (40 seats): _free_", False),
    ("*bold", True),
    ("bold*", True),
    ("```a * b```", False),
    ("<https://a.example/x_y|label_z> fine", False),
    ("&gt; *quoted*", False),
    ("*Leaders*\n0 of 2", False),
    ("*Intro to *Bayesian* stats*", True),
]


@pytest.mark.parametrize(("text", "broken"), CASES)
def test_the_marker_check_finds_what_slack_would_show_as_typed(text, broken):
    assert bool(marker_problems(text)) is broken, marker_problems(text)


def test_mrkdwn_in_plain_text_is_found():
    hint = {"type": "plain_text", "text": "One a line, with its capacity: `Room A: 40`."}
    assert markup_problems({"hint": hint})
    assert (
        markup_problems({"text": {"type": "plain_text", "text": "Formatting: *bold* 5 * 3"}}) == []
    )


# ---- the builders, with realistic and hostile text -----------------------------------------
NOW = datetime(2027, 3, 4, 15, 0, tzinfo=UTC)
REALISTIC = "Design Systems Guild"
HOSTILE = (
    'Tom & Jerry <!channel> <@U1> <http://evil.example|Zoom> "quotes" 5 * 3 snake_case :tada: 東京'
)
FORMATTED = "*Save the date* for _our_ meeting ~maybe~ `code`"  # people's own, balanced


def _objects(words: str, long: bool = False, free: str | None = None):
    """Objects named with `words` (names, topics, titles) and holding `free` (what people
    write at length: missions, agendas, notes, reports), repeated past Slack's limits
    when `long`."""
    text = ((free or words) + " ") * (200 if long else 1)
    c = Community(
        id=7, team_id="T", name=words[:80], name_key="k", slack_channel_id="C7", created_by="U1",
        mission=text, areas=[],
    )  # fmt: skip
    call = Call(
        id=9, community_id=7, start_at=NOW + timedelta(days=7), timezone="America/Chicago",
        topic=words, agenda=text, host_user_id="U1", created_by="U1",
        join_url="https://zoom.example/j/1", passcode="a*b_c", recording_url="https://v.example/r",
        message_ts="1.2", sequence=0, status="scheduled",
    )  # fmt: skip
    meeting = OnsiteMeeting(
        id=3, year=2027, name=words[:120], timezone="America/Chicago",
        start_date=date(2027, 3, 4), end_date=date(2027, 3, 6), updated_by="U",
    )  # fmt: skip
    room = OnsiteRoom(id=4, meeting_id=3, name=words[:80], capacity=40)
    block = OnsiteBlock(
        id=5, meeting_id=3, community_id=7, room_id=4, assigned_by="U",
        start_at=datetime(2027, 3, 5, 16, tzinfo=UTC), end_at=datetime(2027, 3, 5, 18, tzinfo=UTC),
    )  # fmt: skip
    return c, call, meeting, room, block, text


def _payloads(words: str, long: bool = False, free: str | None = None):
    c, call, meeting, room, block, text = _objects(words, long, free)
    sessions = [
        Session_("10:00", 30, words[:150], words[:300], text[:1000]),
        Session_("10:30", 60, "Panel", "", ""),
    ]
    agenda_row = OnsiteAgenda(community_id=7, year=2027, state="submitted", sessions="[]")
    deadline = NOW + timedelta(days=30)
    yield (
        "agenda_modal",
        agenda.agenda_modal(c, meeting, block, room, sessions, state="draft", deadline=deadline),
    )
    yield "agenda_message", agenda.agenda_message(c, meeting, block, agenda_row, sessions, words)
    yield "agenda notice", agenda.submitted_notice(c, meeting, block, sessions, "U1")
    yield "agenda status", agenda.status_message(meeting, [(c, agenda_row, block), (c, None, None)])
    for state, new in (("draft", False), ("submitted", True), ("submitted", False)):
        yield (
            f"agenda saved {state}",
            agenda.saved_view(c, meeting, 2, state=state, newly_submitted=new, deadline=deadline),
        )
        yield (
            f"report saved {state}",
            report.saved_view(c, "2026–27", state=state, newly_submitted=new),
        )
    facts = Facts("2026–27", text, text, 2, 1, 1, words, "draft", 3, 2, words, text[:2900])
    pr = ProgressReport(
        community_id=7, year=2027, state="draft", results=text, celebrations=text, practice=text,
        facts="{}",
    )  # fmt: skip
    yield "report_modal", report.report_modal(c, 2027, facts, pr)
    yield "report notice", report.submitted_notice(c, "2026–27", "U1", 1)
    pr.id, pr.state, pr.submitted_by, pr.submitted_at = 1, "submitted", "U1", NOW
    for page in range(3):
        yield f"report read {page}", report.read_view(c, pr, facts, "2026–27", page)
    yield "report status", report.status_message("2026–27", [(c, pr), (c, None)])
    for text_typed in (words, FORMATTED, FORMATTED + "\n" + text, text):
        a = Announcement(
            id=1, team_id="T", text=text_typed, state="sent", created_by="U", mention="none"
        )
        yield "announcement home", announcements.home_blocks([(a, "to 3 of 3", False)], None)
        yield "announcement message", announcements.announcement_message(text_typed, "none", "U")
    item = Evidence(
        id=1, community_id=7, text=text, added_by="U2", author="U3",
        permalink="https://x.slack.com/archives/C7/p1", added_at=NOW,
    )  # fmt: skip
    for may_remove in (True, False):
        yield "evidence_list", evidence.evidence_list(c, [item], 3, may_remove=may_remove)
    yield "meeting_modal", onsite.meeting_modal(meeting, [room], "America/Chicago")
    yield "meeting_modal new", onsite.meeting_modal(None, [], "America/Chicago")
    yield "assign_modal", onsite.assign_modal(meeting, [room], "C7", block)
    yield "meeting saved", onsite.meeting_saved_view(meeting, [room])
    for changed, moved in ((True, False), (True, True), (False, False)):
        yield (
            "assigned",
            onsite.assigned_view(c, meeting, block, room, changed=changed, moved=moved),
        )
    yield (
        "block_announcement",
        onsite.block_announcement(c, meeting, block, room, "https://x.example/a.ics", moved=True),
    )
    yield "freed", onsite.freed_announcement(c, meeting, block, "U1")
    entries = [GridEntry(block, room, c)]
    yield "grid", onsite.grid_message(meeting, [room], entries, [c])
    yield "community block", onsite.community_block_message(c, meeting, block, room)
    yield "home onsite", {"blocks": home_year.onsite_blocks((meeting, [room], entries))}
    row = Row(c, 0, 3, 1, 4, words, "draft", "not started", False, 2, words)
    yield (
        "staff table",
        {"blocks": home_year.staff_table([row], page=0, show="all", room=90, year="2026–27")},
    )
    yield "todo", {"blocks": home_year.todo_blocks([Todo(c, words, NOW)])}
    yield "next calls", {"blocks": home_year.next_calls_blocks([(c, call)])}
    yield "call_message", calls.call_message(call, c, calendar_url="https://x.example/c.ics")
    cancelled = call.model_copy(update={"status": "cancelled"})
    yield "call cancelled", calls.call_message(cancelled, c)
    yield "calls_list", calls.calls_list(c, [call, cancelled], note=words, may_manage=True)
    yield "schedule_modal", calls.schedule_modal(c, host="U1", zone="UTC", day="", call=call)
    yield "roster", community.roster_message(c, [RosterEntry("U1", Role.LEADER)])
    yield "home", community.home_view(
        "U1", [CommunitySummary(c, Role.LEADER, 1, 3)], [CommunitySummary(c, None, 0, 0)],
        call_counts={7: 1}, year="2026–27", reminder_problems=[words],
    )  # fmt: skip
    yield "profile modal", profile.edit_modal(c)
    yield "call_reminder", reminders.call_reminder("call_day", call, c, NOW)
    yield "followup", reminders.followup(call, c)
    reminder = Reminder(
        id=5, kind="agenda_due", community_id=7, due_at=NOW, expires_at=NOW, series_id=1
    )
    milestone = Milestone(
        id=3, community_id=7, kind="guide", title=words, due_at=NOW, created_by="U"
    )
    yield "milestone on time", reminders.milestone_nudge(reminder, c, milestone, NOW)
    yield (
        "milestone late",
        reminders.milestone_nudge(reminder, c, milestone, NOW + timedelta(hours=3)),
    )
    yield "deadline", reminders.deadline_nudge(reminder, c, NOW, NOW + timedelta(days=1))
    yield "plan nudge", reminders.plan_nudge(reminder, c, [words, "2. Members"])
    nudge = reminders.plan_nudge(reminder, c, [words])
    yield "answered", reminders.answered_nudge(nudge, ":white_check_mark: Done")
    yield "links_modal", reminders.links_modal(call)
    yield "welcome", community.welcome_announcement(c, "U1")
    yield "leaders", community.leaders_message(c, ["U1", "U2"])
    yield "help", help.help_message(set(), words)
    share = Share(
        id=1, community_id=7, url="https://learn.example/x_y", note=text, shared_by="U1",
        created_at=NOW, region=words[:80],
    )  # fmt: skip
    yield "share card", shares.share_card(share)
    yield "digest", shares.digest(c, "March 2027", [share])
    yield (
        "resources",
        resources.resources_message(c, [], [], None, may_ack=True, year_label="2026–27"),
    )
    yield "call buttons", {"blocks": [after_call.call_buttons(call)]}
    yield "resource modal", after_call.resource_modal(call)
    yield "done_view", blocks_pkg.done_view("Saved", f"*{blocks_pkg.escape(words)}*", words)


@pytest.mark.parametrize("words", [REALISTIC, HOSTILE], ids=["realistic", "hostile"])
@pytest.mark.parametrize("free", [REALISTIC, HOSTILE, FORMATTED], ids=["plain", "odd", "marked"])
@pytest.mark.parametrize("long", [False, True], ids=["short", "long"])
def test_every_builder_pairs_its_markers(words, free, long):
    found = {}
    for name, payload in _payloads(words, long, free):
        problems = markup_problems(payload)
        if problems:
            found[name] = problems
    assert found == {}


def test_an_announcement_typed_in_bold_shows_as_a_bold_title_in_app_home():
    a = Announcement(
        id=1, team_id="T", text="*Save the date*: Annual Meeting", state="sent", created_by="U",
        mention="none",
    )  # fmt: skip
    [_, title, _] = announcements.home_blocks([(a, "to 3 of 3", False)], None)[1:]
    assert title["text"]["text"].startswith("*Save the date: Annual Meeting*\n")
    assert markup_problems(title) == []
    # the posted announcement keeps the formatting staff typed
    posted = announcements.announcement_message(a.text, "none", "U")
    assert posted["blocks"][1]["text"]["text"] == "*Save the date*: Annual Meeting"


def test_an_evidence_entry_says_who_added_it_without_markers_around_tokens():
    c, *_ = _objects(REALISTIC)
    item = Evidence(
        id=1, community_id=7, text="Ran the survey", added_by="U2", author="U3",
        permalink="https://x.slack.com/archives/C7/p1", added_at=NOW,
    )  # fmt: skip
    line = evidence.evidence_list(c, [item], 1, may_remove=False)["blocks"][1]["text"]["text"]
    meta = line.split("\n")[1]
    assert meta.startswith("<@U3>, added by <@U2> on <!date^") and "_" not in meta.replace(
        "date_short", ""
    )


def test_the_rooms_hint_is_plain_words():
    view = onsite.meeting_modal(None, [], "America/Chicago")
    hints = [b["hint"]["text"] for b in view["blocks"] if "hint" in b]
    assert 'like "Room A: 40"' in " ".join(hints) and "`" not in " ".join(hints)
