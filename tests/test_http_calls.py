"""Calls through the signed endpoint, against the Slack and Zoom stand-ins."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import holidays
import pytest
import requests
from icalendar import Calendar
from sqlmodel import select

from bot.blocks import calls as cb
from bot.services import calls as rules
from sandbox import slack_payloads as payloads
from storage.db import session_scope
from storage.models import Call, Community
from tests.conftest import PUBLIC_URL, SlackUser, make_settings, serve
from tests.test_http_communities import CHANNEL, create_community

CREATE = "POST /users/{userId}/meetings"
# next calendar year: always in the future, and one program year from January to July
Y = date.today().year + 1
MLK_DAY = next(d for d, name in holidays.US(years=Y).items() if "Martin Luther King" in name)


@pytest.fixture
def leader(as_user, slack, zoom):
    slack.add_user("U1", "ana", tz="America/Chicago", email="ana@example.org")
    ana = as_user("U1")
    create_community(ana)
    ana.settle()
    slack.reset()
    return ana


def schedule_values(**kw) -> dict:
    fields = dict(
        date=f"{Y}-01-13",
        time="12:00",
        zone="America/Chicago",
        duration="60",
        topic="Webinar #3",
        agenda="Readings are in the channel.",
        host="U1",
        alternate=None,
        kind="community",
    )
    fields.update(kw)
    kinds = {
        rules.DATE: "datepicker",
        rules.TIME: "timepicker",
        rules.ZONE: "plain_text_input",
        rules.DURATION: "number_input",
        rules.TOPIC: "plain_text_input",
        rules.AGENDA: "plain_text_input",
        rules.HOST: "users_select",
        rules.ALTERNATE: "users_select",
        rules.KIND: "radio_buttons",
    }
    return {
        block: {"value": payloads.input_value(kind, fields[block])}
        for block, kind in kinds.items()
        if fields[block] is not None
    }


def community_id(engine) -> int:
    with session_scope(engine) as s:
        return s.exec(select(Community)).one().id


def submit(user: SlackUser, engine, callback=cb.SCHEDULE_CALLBACK, call_id=None, **kw) -> dict:
    meta = json.dumps({"community": community_id(engine), "call": call_id})
    response = user.interact(
        payloads.view_submission_payload(
            callback, schedule_values(**kw), user_id=user.user_id, private_metadata=meta
        )
    )
    assert response.status_code == 200, response.text
    return response.json() if response.content else {}


def stored_calls(engine) -> list[Call]:
    with session_scope(engine) as s:
        return list(s.exec(select(Call).order_by(Call.id)).all())


def click(user: SlackUser, action_id: str, call: Call) -> requests.Response:
    payload = {
        "type": "block_actions",
        "team": {"id": "T0STANDIN"},
        "user": {"id": user.user_id},
        "api_app_id": "A0COPBOT",
        "trigger_id": "99.99.trigger",
        "response_url": user.slack.response_url("action"),
        "container": {"type": "message", "channel_id": CHANNEL, "message_ts": call.message_ts},
        "channel": {"id": CHANNEL},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "value": str(call.id),
                "block_id": f"call-{call.id}",
                "action_ts": "1.2",
            }
        ],
    }
    return user.interact(payload)


def test_schedule_opens_a_modal_in_the_leaders_zone(leader, slack):
    leader.command("schedule")
    view = slack.wait_for("views.open")[0].json_arg("view")
    assert view["callback_id"] == cb.SCHEDULE_CALLBACK
    zone = next(b for b in view["blocks"] if b["block_id"] == rules.ZONE)
    assert zone["element"]["initial_value"] == "America/Chicago"
    host = next(b for b in view["blocks"] if b["block_id"] == rules.HOST)
    assert host["element"]["initial_user"] == "U1"


def test_a_scheduled_call_becomes_a_zoom_meeting_and_a_channel_message(leader, slack, zoom, engine):
    assert submit(leader, engine) == {}
    leader.settle()
    [call] = stored_calls(engine)
    assert call.start_at == datetime(Y, 1, 13, 18, 0, tzinfo=UTC)
    assert call.meeting_state == "ready" and call.zoom_meeting_id in zoom.meetings
    [created] = zoom.calls_to(CREATE)
    assert created.body["start_time"] == f"{Y}-01-13T18:00:00Z"
    assert created.body["timezone"] == "America/Chicago"
    assert f"[copbot:{call.uid}]" in created.body["agenda"]
    [post] = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == CHANNEL]
    text = json.dumps(post.json_arg("blocks"))
    assert f"<!date^{int(call.start_at.timestamp())}^" in text
    assert call.join_url in text
    assert f"{PUBLIC_URL}/calendar/call/{call.uid}.ics" in text
    assert "Webinar #3" in post.args["text"] and f"Jan 13, {Y} 12:00 CST" in post.args["text"]
    assert call.message_ts
    [dm] = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "U1"]
    assert dm.args["text"].startswith("Scheduled *Webinar #3*")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"date": "2026-01-05"}, rules.DATE),
        ({"time": "25:00"}, rules.TIME),
        ({"duration": "0"}, rules.DURATION),
        ({"zone": "Nowhere/City"}, rules.ZONE),
        ({"date": MLK_DAY.isoformat()}, rules.DATE),
    ],
)
def test_bad_input_is_an_error_and_nothing_reaches_zoom(
    leader, slack, zoom, engine, changes, field
):
    body = submit(leader, engine, **changes)
    assert body["response_action"] == "errors" and field in body["errors"]
    leader.settle()
    assert stored_calls(engine) == []
    assert zoom.calls == [] and slack.calls_to("chat.postMessage") == []


def test_a_member_cannot_schedule(leader, as_user, engine, zoom):
    bob = as_user("U5")
    bob.reply("join")
    assert "Only the community's leaders and staff can schedule" in bob.reply("schedule")["text"]
    body = submit(bob, engine)
    assert body["response_action"] == "errors"
    assert stored_calls(engine) == []


def test_a_seventh_community_call_is_refused(leader, engine, zoom):
    for day in [f"{Y}-{md}" for md in ("01-13", "02-03", "03-03", "04-07", "05-05", "06-02")]:
        assert submit(leader, engine, date=day) == {}
    leader.settle()
    body = submit(leader, engine, date=f"{Y}-07-07")
    assert "already has 6 community calls" in body["errors"][rules.KIND]
    assert submit(leader, engine, date=f"{Y}-07-07", kind="additional") == {}
    leader.settle()
    assert len(stored_calls(engine)) == 7
    assert len(zoom.meetings) == 7


def test_zoom_down_leaves_the_call_pending_and_retry_makes_one_meeting(leader, slack, zoom, engine):
    zoom.fail(CREATE, 503, times=50)
    zoom.fail("GET /users/{userId}/meetings", 503, times=500)
    submit(leader, engine)
    leader.settle()
    [call] = stored_calls(engine)
    assert call.meeting_state == "pending" and "did not answer" in call.meeting_error
    [dm] = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "U1"]
    assert "Retry button" in dm.args["text"]
    body = leader.reply("calls")
    assert cb.RETRY_ACTION in json.dumps(body["blocks"])
    assert zoom.meetings == {}

    zoom.reset()  # Zoom is back
    click(leader, cb.RETRY_ACTION, call)
    click(leader, cb.RETRY_ACTION, call)  # a double click makes no second meeting
    leader.settle()
    [call] = stored_calls(engine)
    assert call.meeting_state == "ready" and len(zoom.meetings) == 1
    assert slack.calls_to("chat.update")  # the channel message now has the link
    said = [c.args["text"] for c in slack.calls_to("response_url")]
    assert any("is ready" in t for t in said)


def test_zoom_refusing_the_meeting_is_told_in_plain_words(leader, slack, zoom, engine):
    zoom.fail(CREATE, 400, code=300, message="Invalid meeting start time.")
    submit(leader, engine)
    leader.settle()
    [dm] = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "U1"]
    assert "Zoom refused it: Invalid meeting start time." in dm.args["text"]
    assert stored_calls(engine)[0].meeting_state == "pending"


def test_cancel_deletes_the_meeting_and_tells_the_channel(leader, slack, zoom, engine):
    submit(leader, engine)
    leader.settle()
    [call] = stored_calls(engine)
    click(leader, cb.CANCEL_ACTION, call)
    leader.settle()
    assert zoom.meetings == {}
    [updated] = slack.calls_to("chat.update")
    assert "cancelled" in json.dumps(updated.json_arg("blocks"))
    notes = [c for c in slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert notes and "cancelled this call" in notes[0].args["text"]
    [call] = stored_calls(engine)
    assert call.status == "cancelled"
    ics = requests.get(f"{leader.endpoint}/calendar/call/{call.uid}.ics", timeout=5)
    assert Calendar.from_ical(ics.content)["METHOD"] == "CANCEL"


def test_reschedule_updates_zoom_and_the_message(leader, slack, zoom, engine):
    submit(leader, engine)
    leader.settle()
    [call] = stored_calls(engine)
    click(leader, cb.RESCHEDULE_ACTION, call)
    leader.settle()
    view = slack.wait_for("views.open")[0].json_arg("view")
    assert view["callback_id"] == cb.RESCHEDULE_CALLBACK
    time_block = next(b for b in view["blocks"] if b["block_id"] == rules.TIME)
    assert time_block["element"]["initial_time"] == "12:00"
    assert submit(leader, engine, cb.RESCHEDULE_CALLBACK, call.id, date=f"{Y}-01-27") == {}
    leader.settle()
    [patched] = zoom.calls_to("PATCH /meetings/{meetingId}")
    assert patched.body["start_time"] == f"{Y}-01-27T18:00:00Z"
    assert zoom.meetings[call.zoom_meeting_id]["start_time"] == f"{Y}-01-27T18:00:00Z"
    assert slack.calls_to("chat.update")
    notes = [c for c in slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert "moved to" in notes[0].args["text"]
    [call] = stored_calls(engine)
    assert call.sequence == 1


def test_members_see_upcoming_calls_with_links_and_the_feed(leader, as_user, engine, zoom):
    submit(leader, engine)
    leader.settle()
    [call] = stored_calls(engine)
    bob = as_user("U5")
    bob.reply("join")
    body = bob.reply("calls")
    text = json.dumps(body["blocks"])
    assert call.join_url in text and f"<!date^{int(call.start_at.timestamp())}^" in text
    assert cb.CANCEL_ACTION not in text  # members cannot manage calls
    with session_scope(engine) as s:
        token = s.exec(select(Community)).one().calendar_token
    assert f"{PUBLIC_URL}/calendar/{token}.ics" in text
    feed = requests.get(f"{leader.endpoint}/calendar/{token}.ics", timeout=5)
    assert feed.status_code == 200 and feed.headers["Content-Type"].startswith("text/calendar")
    assert [str(e["UID"]) for e in Calendar.from_ical(feed.content).walk("VEVENT")] == [
        f"{call.uid}@copbot"
    ]
    assert requests.get(f"{leader.endpoint}/calendar/{'x' * 32}.ics", timeout=5).status_code == 404


def test_no_calls_yet_says_so_and_warns_leaders(leader):
    body = leader.reply("calls")
    assert "No calls are scheduled" in json.dumps(body["blocks"])
    assert "0 of the 3 to 6 community calls" in json.dumps(body["blocks"])


@pytest.fixture(scope="module")
def endpoint_without_zoom(db_url, slack_session):
    from tests import conftest

    settings = make_settings(db_url, slack_session.url)
    gen = serve(settings)
    url = next(gen)
    yield url
    gen.close()
    conftest._BACKGROUNDS[:] = conftest._BACKGROUNDS[:1]


def test_without_zoom_the_call_is_stored_and_the_message_says_so(
    endpoint_without_zoom, slack, session, engine
):
    user = SlackUser(endpoint_without_zoom, slack, "U1", CHANNEL)
    create_community(user)
    user.settle()
    submit(user, engine)
    user.settle()
    [call] = stored_calls(engine)
    assert call.meeting_state == "none" and call.zoom_meeting_id is None
    [post] = [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.args["channel"] == CHANNEL and "Webinar" in c.args["text"]
    ]
    assert "Zoom is not set up" in json.dumps(post.json_arg("blocks"))
    [dm] = [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.args["channel"] == "U1" and "Webinar" in c.args["text"]
    ]
    assert "no video meeting" in dm.args["text"]


def test_home_warns_leaders_and_staff_below_three_community_calls(leader, as_user, slack, engine):
    from tests.conftest import STAFF
    from tests.test_http_communities import home_opened

    leader.event(home_opened("U1"))
    [view] = slack.wait_for("views.publish")
    text = json.dumps(view.json_arg("view"), ensure_ascii=False)
    assert "0 community calls in" in text and ":warning: the year needs at least 3" in text
    today = date.today()
    for month_day in ("01-13", "02-03", "03-03"):
        assert submit(leader, engine, date=f"{Y}-{month_day}") == {}
    leader.settle()
    as_user(STAFF).event(home_opened(STAFF))
    [view] = slack.wait_for("views.publish", where=lambda c: c.args["user_id"] == STAFF)
    text = json.dumps(view.json_arg("view"), ensure_ascii=False)
    first, _ = rules.program_year(today, (8, 1))
    expected = 3 if date(Y, 1, 13) < date(first.year + 1, 8, 1) else 0
    assert f"{expected} community calls in" in text
