"""`/cop agenda` through the signed endpoint: the modal, fit and overlap rules as a table,
draft and submit (staff told once), who may edit before and after the due date, and the
agenda nudges stopping at once on submission and never resuming."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlmodel import select

from bot.blocks import agenda as ab
from bot.blocks.limits import check_view
from bot.scheduler import tick
from bot.services import agenda as rules
from bot.services import onsite, onsite_assignment
from bot.services.communities import join, set_leaders
from bot.slack_client import make_web_client
from sandbox import slack_payloads as payloads
from sandbox.slack_standin import TEAM_ID
from storage.db import session_scope
from storage.models import OnsiteAgenda, Reminder
from tests.helpers.endpoint import STAFF
from tests.helpers.records import new_community
from tests.helpers.slack import accepted, ack_text

CHANNEL = "CAGENDA1"
NEXT = date.today().year + 1
# a Thursday in early March of next year: the agenda (due May 1) is always ahead
THU = date(NEXT, 3, 1) + timedelta(days=(3 - date(NEXT, 3, 1).weekday()) % 7)
FRI = THU + timedelta(days=1)


def setup_meeting(engine, start=THU, block_day=FRI, at=time(10, 0)):
    with session_scope(engine) as s:
        c = new_community(s, name="Survivorship", channel=CHANNEL, leader="U1", team=TEAM_ID)
        set_leaders(s, c, ["U1", "U2"])
        join(s, c, "U5")
        meeting = onsite.save_meeting(
            s,
            name="Annual Meeting",
            timezone="America/Chicago",
            start=start,
            end=start + timedelta(days=2),
            rooms=[("Room A", 40)],
            user_id=STAFF,
        )
        [room] = onsite.rooms_of(s, meeting.id)
        onsite_assignment.assign(s, meeting, c, room.id, block_day, at, time(at.hour + 2), STAFF)
        return c.id, meeting.year


@pytest.fixture
def agenda_setup(as_user, engine, slack):
    return setup_meeting(engine)


def state(sessions, action="draft"):
    values = {}
    for n, s in enumerate(sessions, start=1):
        start, minutes, title, *rest = s
        speakers = rest[0] if rest else ""
        description = rest[1] if len(rest) > 1 else ""
        values[rules.field("start", n)] = {"value": payloads.input_value("timepicker", start)}
        values[rules.field("minutes", n)] = {"value": payloads.input_value("number_input", minutes)}
        values[rules.field("title", n)] = {"value": payloads.input_value("plain_text_input", title)}
        values[rules.field("speakers", n)] = {
            "value": payloads.input_value("plain_text_input", speakers)
        }
        values[rules.field("description", n)] = {
            "value": payloads.input_value("plain_text_input", description)
        }
    if action:
        values[ab.ACTION] = {"value": payloads.input_value("radio_buttons", action)}
    return values


def submit(user, community_id, year, sessions, action="draft", meta=None):
    metadata = meta if meta is not None else json.dumps({"community": community_id, "year": year})
    response = user.interact(
        payloads.view_submission_payload(
            ab.AGENDA_CALLBACK,
            state(sessions, action),
            user_id=user.user_id,
            private_metadata=metadata,
        )
    )
    assert response.status_code == 200, response.text
    return response.json() if response.content else {}


def stored(engine):
    with session_scope(engine) as s:
        a = s.exec(select(OnsiteAgenda)).first()
        return None if a is None else (a.state, rules.sessions_of(a), a.submitted_by)


def test_leader_gets_the_modal_member_sees_the_agenda(agenda_setup, as_user, slack):
    cid, year = agenda_setup
    as_user("U1", CHANNEL).command("agenda")
    view = slack.wait_for("views.open")[0].json_arg("view")
    assert check_view(view) == []
    assert view["callback_id"] == ab.AGENDA_CALLBACK
    assert json.loads(view["private_metadata"]) == {"community": cid, "year": year}
    assert "Fri " in json.dumps(view) and "Room A" in json.dumps(view)
    body = as_user("U5", CHANNEL).reply("agenda")
    assert "Onsite agenda of Survivorship" in body["text"] and "no agenda yet" in body["text"]
    assert len(slack.calls_to("views.open")) == 1


RULES = [
    # sessions (start, minutes, title), the field and words of the refusal (None: saved)
    ([("10:00", "30", "Welcome"), ("10:30", "90", "Workshop")], None, None),
    ([("11:30", "30", "Close")], None, None),
    ([("09:30", "30", "Early")], "s1_start", "Session 1 starts at 09:30, outside the block"),
    ([("12:00", "15", "Late")], "s1_start", "outside the block (10:00-12:00)"),
    (
        [("11:00", "90", "Long")],
        "s1_minutes",
        "Session 1 (11:00-12:30) ends after the block ends at 12:00",
    ),
    (
        [("10:00", "45", "A"), ("10:30", "30", "B")],
        "s2_start",
        "Session 2 (10:30-11:00) overlaps session 1 (10:00-10:45)",
    ),
    (
        [("11:00", "30", "Later"), ("10:00", "70", "First")],
        "s1_start",
        "Session 1 (11:00-11:30) overlaps session 2 (10:00-11:10)",
    ),
    ([("10:00", "30", "")], "s1_title", "Give session 1 a title"),
    ([("10:00", "half", "X")], "s1_minutes", "whole number"),
    ([("10:00", "3", "X")], "s1_minutes", "at least 5 minutes"),
]


@pytest.mark.parametrize("sessions, field, words", RULES)
def test_fit_and_overlap_rules(agenda_setup, as_user, engine, sessions, field, words):
    cid, year = agenda_setup
    body = submit(as_user("U1", CHANNEL), cid, year, sessions)
    if field is None:
        assert accepted(body)
        assert [s.title for s in stored(engine)[1]] == sorted(
            (t for _s, _m, t in sessions), key=lambda t: [x[2] for x in sessions].index(t)
        )
        return
    assert body["response_action"] == "errors"
    assert words in body["errors"][field]
    assert stored(engine) is None


def test_draft_then_submit_tells_staff_once(agenda_setup, as_user, engine, slack):
    cid, year = agenda_setup
    ana = as_user("U1", CHANNEL)
    text = 'Dr. "Ana", São Paulo; 東京\nline two'
    assert accepted(submit(ana, cid, year, [("10:00", "60", "Intro, <b>", text)]))
    assert stored(engine)[0] == "draft"
    ana.settle()
    assert slack.calls_to("chat.postMessage") == []
    # submitting with no sessions is refused
    body = submit(ana, cid, year, [], action="submit")
    assert "at least one session" in body["errors"]["s1_title"]
    sessions = [("10:00", "60", "Intro, <b>", text), ("11:00", "60", "Panel")]
    assert accepted(submit(ana, cid, year, sessions, action="submit"))
    state_, saved, by = stored(engine)
    assert (state_, by, [s.speakers for s in saved]) == ("submitted", "U1", [text, ""])
    ana.settle()
    [dm] = slack.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == STAFF)
    assert "submitted the onsite agenda of Survivorship" in dm.args["text"]
    assert "Intro, &lt;b&gt;" in ack_text({"blocks": dm.json_arg("blocks")})
    # the same submission again, or the co-leader's, does not tell staff again
    assert accepted(submit(ana, cid, year, sessions, action="submit"))
    assert accepted(submit(as_user("U2", CHANNEL), cid, year, sessions, action="submit"))
    ana.settle()
    assert len(slack.calls_to("chat.postMessage")) == 1
    # staff see who has submitted
    body = as_user(STAFF, CHANNEL).reply("agenda status")
    assert "1 of 1 communities have submitted" in ack_text(body)
    assert "*Survivorship*: submitted" in ack_text(body)


def test_members_and_forged_metadata_are_refused(agenda_setup, as_user, engine):
    cid, year = agenda_setup
    body = submit(as_user("U5", CHANNEL), cid, year, [("10:00", "30", "Mine")])
    assert "Only the community's leaders and staff" in body["errors"]["s1_title"]
    for meta in ("[]", "nope", json.dumps({"community": str(cid), "year": year})):
        body = submit(as_user("U1", CHANNEL), cid, year, [("10:00", "30", "X")], meta=meta)
        assert body["response_action"] == "errors"
    body = submit(as_user("U1", CHANNEL), cid, year + 5, [("10:00", "30", "X")])
    assert "has no onsite block" in body["errors"]["s1_title"]
    assert stored(engine) is None
    body = as_user("U5", CHANNEL).reply("agenda status")
    assert "Only staff" in body["text"]


def test_after_the_due_date_only_staff_may_change_it(as_user, engine, slack):
    last = date.today().year - 1
    thu = date(last, 3, 1) + timedelta(days=(3 - date(last, 3, 1).weekday()) % 7)
    cid, year = setup_meeting(engine, start=thu, block_day=thu + timedelta(days=1))
    body = as_user("U1", CHANNEL).reply("agenda")
    assert (
        f"The onsite agenda was due May 2, {last}; only staff can change it now" in (body["text"])
    )
    body = submit(as_user("U1", CHANNEL), cid, year, [("10:00", "30", "Late")])
    assert "only staff can change it now" in body["errors"]["s1_title"]
    assert accepted(submit(as_user(STAFF, CHANNEL), cid, year, [("10:00", "30", "Fixed")]))
    assert stored(engine)[1][0].title == "Fixed"


def test_nudges_stop_on_submission_and_never_resume(agenda_setup, as_user, deps, engine, slack):
    cid, year = agenda_setup
    client = make_web_client(deps.settings)
    due = datetime(year, 5, 1, 9, 0, tzinfo=deps.settings.zone).astimezone(UTC)
    first = tick(deps, client, due - timedelta(days=28))
    assert sorted(x for x in first.sent if x.startswith("agenda_due")) != []
    ana = as_user("U1", CHANNEL)
    assert accepted(submit(ana, cid, year, [("10:00", "30", "Hello")], action="submit"))
    ana.settle()
    for step in (timedelta(days=-14), timedelta(days=-3), timedelta(days=1)):
        result = tick(deps, client, due + step)
        assert [x for x in result.sent if x.startswith("agenda_due")] == []
    with session_scope(engine) as s:
        voided = s.exec(
            select(Reminder).where(Reminder.kind == "agenda_due", Reminder.state == "void")
        ).all()
        assert voided and {r.last_error for r in voided} == {"submitted"}


def test_two_leaders_submitting_at_once_tell_staff_once(agenda_setup, as_user, engine, slack):
    import threading

    cid, year = agenda_setup
    barrier = threading.Barrier(2)
    results = []

    def go(user):
        barrier.wait()
        results.append(submit(as_user(user, CHANNEL), cid, year, [("10:00", "30", user)], "submit"))

    threads = [threading.Thread(target=go, args=(u,)) for u in ("U1", "U2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert len(results) == 2 and all(accepted(r) for r in results)
    said = sorted(r["view"]["blocks"][0]["text"]["text"].split(" the ")[0] for r in results)
    assert said == [":inbox_tray: Submitted", ":white_check_mark: Updated"]
    as_user("U1").settle()
    assert len(slack.calls_to("chat.postMessage")) == 1
    with session_scope(engine) as s:
        [agenda] = s.exec(select(OnsiteAgenda)).all()
        assert agenda.state == "submitted" and agenda.submitted_by in ("U1", "U2")


def _said(body: dict) -> str:
    assert accepted(body)
    return ack_text({"blocks": body["view"]["blocks"]})


def test_every_save_says_what_happened_and_where_to_see_it(agenda_setup, as_user, slack):
    cid, year = agenda_setup
    ana = as_user("U1", CHANNEL)
    said = _said(submit(ana, cid, year, [("10:00", "30", "Welcome")]))
    assert "Saved the onsite agenda of *Survivorship* as a draft (1 session)" in said
    assert "Staff do not see it yet" in said
    assert f"`/cop agenda show` in <#{CHANNEL}> shows it" in said
    said = _said(submit(ana, cid, year, [("10:00", "30", "Welcome")], action="submit"))
    assert "Submitted the onsite agenda of *Survivorship*" in said
    assert "staff have been told" in said
    said = _said(submit(ana, cid, year, [("10:00", "45", "Welcome")], action=None))
    assert "Updated the submitted onsite agenda" in said


def test_agenda_show_and_staffs_notice_use_the_venue_zone_and_name_it(agenda_setup, as_user, slack):
    cid, year = agenda_setup
    ana = as_user("U1", CHANNEL)
    submit(ana, cid, year, [("10:00", "30", "Welcome"), ("10:30", "60", "Panel")], "submit")
    ana.settle()
    [dm] = slack.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == STAFF)
    shown = {
        "show": ack_text(as_user("U5", CHANNEL).reply("agenda show")),
        "notice": ack_text({"blocks": dm.json_arg("blocks")}),
    }
    for where, text in shown.items():
        # one zone: no <!date^…> token (the reader's zone) beside the venue's session times
        assert "<!date^" not in text, where
        assert re.search(r"All times are the venue's: America/Chicago \(C[SD]T\)", text), where
        assert "*10:00-10:30* Welcome" in text and "*10:30-11:30* Panel" in text, where
        assert re.search(r"10:00-12:00 C[SD]T", text), where  # the block, in the same zone
