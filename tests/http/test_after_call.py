"""After the call through the signed Slack endpoint: the call message's Add slides and
Attendance buttons, and the value questions (DM, answer form with consent, the 60-day
follow-up sent once and only to those who answered, "Don't ask me again")."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.blocks import after_call as ab
from bot.blocks import calls as call_blocks
from bot.deps import Deps
from bot.scheduler import tick
from bot.services import communities as svc
from bot.services import value
from bot.slack_client import make_web_client
from sandbox import slack_payloads as payloads
from storage.db import session_scope
from storage.models import CallResource, Community, ValueQuestion
from tests.helpers.records import ended_call, new_community, participant
from tests.helpers.slack import HOSTILE, assert_inert, button_click, said

MEETING = 85000000555
CHANNEL = "CHTTPAC1"


@pytest.fixture
def live(settings):
    return Deps.create(settings)


@pytest.fixture
def client(settings):
    return make_web_client(settings)


@pytest.fixture
def held(session, slack, zoom, live, client):
    """A call that ended three hours ago, its attendance read: Ana (leader, 60 min), Bo
    (member, 45 min), Cy (member, 30 min) and Carl (in Slack, not a member)."""
    community = new_community(session, channel=CHANNEL, leader="U1")
    for uid in ("U5", "U6"):
        svc.join(session, community, uid)
    session.commit()
    emails = {"U1": "ana@x.org", "U5": "bo@x.org", "U6": "cy@x.org", "U7": "carl@x.org"}
    for email in emails.values():  # users of the Zoom account: emails shown
        zoom.add_user(email)
    for uid, email in emails.items():
        slack.add_user(uid, email.split("@")[0], email=email)
    start = datetime.now(UTC) - timedelta(hours=3)
    call = ended_call(session, community, start, meeting_id=MEETING, topic=HOSTILE)
    minutes = {"U1": 60, "U5": 45, "U6": 30, "U7": 10}
    zoom.add_past_meeting(
        MEETING,
        "held==",
        start,
        [
            participant(uid, emails[uid], join=start, leave=start + timedelta(minutes=m))
            for uid, m in minutes.items()
        ],
    )
    tick(live, client, start + timedelta(minutes=90))
    return call


def _dms(slack, user: str) -> list:
    """The value questions sent to `user` (leaders get other direct messages too)."""
    return [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.args.get("channel") == user and c.args.get("text", "").startswith("After ")
    ]


def test_the_call_message_has_add_slides_and_attendance():
    from storage.models import Call

    call = Call(
        id=7,
        community_id=1,
        start_at=datetime(2030, 1, 1, tzinfo=UTC),
        timezone="UTC",
        topic="t",
        host_user_id="U1",
        created_by="U1",
    )
    message = call_blocks.call_message(call, Community(id=1, name="n", slack_channel_id="C1"))
    actions = [b for b in message["blocks"] if b["type"] == "actions"][0]["elements"]
    ids = {e["action_id"]: e["value"] for e in actions}
    assert ids[ab.ADD_RESOURCE_ACTION] == "7" and ids[ab.ATTENDANCE_ACTION] == "7"


def test_attendance_leaders_see_all_members_their_own_others_nothing(held, as_user, slack):
    ana, bo, zed = as_user("U1", CHANNEL), as_user("U5", CHANNEL), as_user("U9", CHANNEL)
    button_click(ana, ab.ATTENDANCE_ACTION, str(held.id), "ana")
    ana.settle()
    [text] = said(slack)
    assert "4 people came, 3 members of the community among them, 4 first-timers" in text
    assert "145 minutes attended" in text and "<@U5>" in text and "<@U7>" not in text
    assert_inert({"text": text})
    button_click(bo, ab.ATTENDANCE_ACTION, str(held.id), "bo")
    bo.settle()
    assert "for 45 minutes" in said(slack)[-1] and "<@U1>" not in said(slack)[-1]
    button_click(zed, ab.ATTENDANCE_ACTION, str(held.id), "zed")
    zed.settle()
    assert "Only the community's members see attendance" in said(slack)[-1]
    button_click(zed, ab.ATTENDANCE_ACTION, "12abc", "zed")
    zed.settle()
    assert "not one copbot knows" in said(slack)[-1]


def test_leaders_add_slides_once_members_cannot(held, as_user, slack, engine):
    ana, bo = as_user("U1", CHANNEL), as_user("U5", CHANNEL)
    button_click(bo, ab.ADD_RESOURCE_ACTION, str(held.id), "bo")
    bo.settle()
    assert "Only the community's leaders and staff can add slides" in said(slack)[-1]
    assert slack.calls_to("views.open") == []
    button_click(ana, ab.ADD_RESOURCE_ACTION, str(held.id), "ana")
    ana.settle()
    [opened] = slack.calls_to("views.open")
    view = opened.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == ab.RESOURCE_CALLBACK

    def form(url: str, user: str = "U1", meta: str | None = None) -> dict:
        values = {
            ab.URL: {"value": payloads.input_value("url_text_input", url)},
            ab.TITLE: {"value": payloads.input_value("plain_text_input", "Deck <!channel>")},
            ab.KIND: {"value": payloads.input_value("radio_buttons", "slides")},
        }
        return payloads.view_submission_payload(
            ab.RESOURCE_CALLBACK,
            values,
            user_id=user,
            private_metadata=meta or view["private_metadata"],
        )

    bad = ana.interact(form("javascript:alert(1)"))
    assert bad.json()["response_action"] == "errors" and ab.URL in bad.json()["errors"]
    forged = ana.interact(form("https://slides.example/d", meta=json.dumps({"call": 999999})))
    assert "no longer exists" in forged.json()["errors"][ab.URL]
    outsider = as_user("U9").interact(form("https://slides.example/d", user="U9"))
    assert "leaders and staff" in outsider.json()["errors"][ab.URL]
    good = form("https://slides.example/deck")
    assert ana.interact(good).status_code == 200
    assert ana.interact(good).status_code == 200  # Slack's retry of the same submission
    again = form("https://slides.example/deck")  # a second form with the same link
    assert ana.interact(again).status_code == 200
    ana.settle()
    posts = [c for c in slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert len(posts) == 1 and "https://slides.example/deck" in str(posts[0].args)
    assert_inert(posts[0].args)
    with session_scope(engine) as s:
        [item] = s.exec(select(CallResource)).all()
        assert (item.kind, item.title, item.added_by) == ("slides", "Deck <!channel>", "U1")


def _answer(user, question_id: int, answer: str, consent: list[str], view_hash: str):
    values = {
        ab.ANSWER: {"value": payloads.input_value("plain_text_input", answer)},
        ab.CONSENT: {"value": payloads.input_value("checkboxes", consent)},
    }
    body = payloads.view_submission_payload(
        ab.VALUE_CALLBACK,
        values,
        user_id=user.user_id,
        private_metadata=json.dumps({"question": question_id}),
        view_hash=view_hash,
    )
    return user.interact(body)


def test_value_questions_the_day_after_and_the_follow_up_once_to_those_who_answered(
    held, as_user, slack, engine, live, client
):
    with session_scope(engine) as s:
        planned = s.exec(select(ValueQuestion).order_by(ValueQuestion.slack_user_id)).all()
    # members who came (leaders are members too); Carl is not in the community
    assert [q.slack_user_id for q in planned] == ["U1", "U5", "U6"]
    due = planned[0].due_at
    local = due.astimezone(ZoneInfo(held.timezone))
    assert (local.hour, local.minute) == (10, 0)
    assert local.date() == held.start_at.astimezone(local.tzinfo).date() + timedelta(days=1)
    tick(live, client, due - timedelta(minutes=1))
    assert _dms(slack, "U5") == []
    tick(live, client, due)
    tick(live, client, due + timedelta(minutes=5))
    for uid in ("U1", "U5", "U6"):
        [dm] = _dms(slack, uid)
        assert "What will you try from this call?" in str(dm.args)
        assert_inert(dm.args)
    assert _dms(slack, "U7") == []
    ids = {q.slack_user_id: q.id for q in planned}
    bo, cy, ana = as_user("U5", "D5"), as_user("U6", "D6"), as_user("U1", "D1")
    # Cy turns the questions off; Ana does not answer; Bo answers and agrees
    button_click(cy, ab.VALUE_STOP_ACTION, str(ids["U6"]), "cy")
    forged = _answer(ana, ids["U5"], "not mine to answer", [], "h-forged")
    assert "not asked of you" in forged.json()["errors"][ab.ANSWER]
    first = _answer(bo, ids["U5"], "Teach-back with <!here> patients", [ab.EVIDENCE_OK], "h1")
    assert first.status_code == 200 and not first.content.strip(b"{} \n")
    replay = _answer(bo, ids["U5"], "Teach-back with <!here> patients", [ab.EVIDENCE_OK], "h1")
    assert replay.status_code == 200 and replay.text == first.text
    other = _answer(bo, ids["U5"], "Something else", [], "h2")
    assert "answered this already" in other.json()["errors"][ab.ANSWER]
    bo.settle()
    with session_scope(engine) as s:
        answered = s.get(ValueQuestion, ids["U5"])
        assert answered.answer == "Teach-back with <!here> patients"
        assert answered.evidence_ok and not answered.may_name
        follow = s.exec(select(ValueQuestion).where(ValueQuestion.stage == value.FOLLOW_UP)).all()
    assert [q.slack_user_id for q in follow] == ["U5"]
    later = follow[0].due_at
    assert timedelta(days=59) < later - answered.answered_at <= timedelta(days=60)
    slack.reset()
    for k in range(3):  # passes on three days after it is due: sent once
        tick(live, client, later + timedelta(days=k))
    [dm] = _dms(slack, "U5")
    text = str(dm.args)
    assert "Did you try it? What happened?" in text and "Teach-back with &lt;!here&gt;" in text
    assert _dms(slack, "U1") == [] and _dms(slack, "U6") == []
    with session_scope(engine) as s:
        lines = value.practice_lines(
            s, held.community_id, later - timedelta(days=90), later + timedelta(days=1)
        )
    assert [(line.answer, line.who) for line in lines] == [
        ("Teach-back with <!here> patients", None)
    ]


def test_one_who_turned_the_questions_off_is_never_asked_again(
    held, as_user, slack, engine, live, client, session, zoom
):
    with session_scope(engine) as s:
        q = s.exec(select(ValueQuestion).where(ValueQuestion.slack_user_id == "U6")).one()
    cy = as_user("U6", "D6")
    button_click(cy, ab.VALUE_STOP_ACTION, str(q.id), "cy")
    cy.settle()
    assert "will not ask you" in said(slack)[-1]
    tick(live, client, q.due_at + timedelta(hours=1))
    assert _dms(slack, "U6") == []
    # a next call Cy attends plans no question for Cy
    with session_scope(engine) as s:
        community = s.get(Community, held.community_id)
    start = datetime.now(UTC) - timedelta(hours=2)
    second = ended_call(session, community, start, meeting_id=MEETING + 1, message_ts=None)
    zoom.add_past_meeting(
        MEETING + 1,
        "next==",
        start,
        [participant("Cy", "cy@x.org", join=start, leave=start + timedelta(minutes=20))],
    )
    tick(live, client, start + timedelta(minutes=90))
    with session_scope(engine) as s:
        asked = s.exec(select(ValueQuestion).where(ValueQuestion.call_id == second.id)).all()
    assert asked == []


def test_leaders_turn_the_question_off_for_their_community(
    held, as_user, slack, engine, live, client
):
    value_off = json.dumps({"community": held.community_id, "on": False})
    button_click(as_user("U5", CHANNEL), ab.VALUE_COMMUNITY_ACTION, value_off, "bo")
    with session_scope(engine) as s:
        assert value.community_asks(s, held.community_id)  # a member cannot
    ana = as_user("U1", CHANNEL)
    button_click(ana, ab.VALUE_COMMUNITY_ACTION, value_off, "ana")
    ana.settle()
    with session_scope(engine) as s:
        assert not value.community_asks(s, held.community_id)
        due = s.exec(select(ValueQuestion)).first().due_at
    tick(live, client, due + timedelta(hours=1))
    assert [_dms(slack, u) for u in ("U1", "U5", "U6")] == [[], [], []]


def test_leaders_see_why_attendance_is_unavailable(session, slack, as_user, engine):
    from storage.models import AfterCallJob

    community = new_community(session, channel=CHANNEL, leader="U1")
    svc.join(session, community, "U5")
    start = datetime.now(UTC) - timedelta(hours=8)
    call = ended_call(session, community, start, meeting_id=MEETING)
    session.add(
        AfterCallJob(
            call_id=call.id,
            kind="attendance",
            state="unavailable",
            due_at=start,
            attempts=5,
            last_error="Zoom refused: Invalid access token, does not contain scopes (check "
            "the app's scopes)",
        )
    )
    session.commit()
    ana, bo = as_user("U1", CHANNEL), as_user("U5", CHANNEL)
    button_click(ana, ab.ATTENDANCE_ACTION, str(call.id), "ana")
    button_click(bo, ab.ATTENDANCE_ACTION, str(call.id), "bo")
    ana.settle()
    leader, member = said(slack)
    assert "Attendance unavailable for *Webinar #3*: Zoom refused" in leader
    assert "check the app's scopes" in leader
    assert "Zoom refused" not in member and "could not read who came" in member
