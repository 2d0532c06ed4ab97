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
from bot.services import call_meetings as meetings
from bot.services import calls as rules
from sandbox import slack_payloads as payloads
from storage.db import session_scope
from storage.models import Call, CallRegistration, Community
from tests.helpers.calls import click, community_id
from tests.helpers.communities import CHANNEL, create_community
from tests.helpers.endpoint import PUBLIC_URL, SlackUser, make_settings, serve
from tests.helpers.records import new_community

CREATE = "POST /users/{userId}/meetings"
# next calendar year: always in the future, and one program year from January to July
Y = date.today().year + 1
MLK_DAY = next(d for d, name in holidays.US(years=Y).items() if "Martin Luther King" in name)


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
    assert call.meeting_state == "ready" and call.meeting_id in zoom.meetings
    [created] = zoom.calls_to(CREATE)
    assert created.body["start_time"] == f"{Y}-01-13T18:00:00Z"
    assert created.body["timezone"] == "America/Chicago"
    assert f"[copbot:{call.uid}]" in created.body["agenda"]
    [post] = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == CHANNEL]
    text = json.dumps(post.json_arg("blocks"))
    assert f"<!date^{int(call.start_at.timestamp())}^" in text
    # people join with links of their own: the channel gets a Join button, not a link
    assert call.join_url not in json.dumps(post.args) and cb.JOIN_ACTION in text
    assert created.body["settings"]["approval_type"] == 0
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
    assert zoom.meetings[call.meeting_id]["start_time"] == f"{Y}-01-27T18:00:00Z"
    assert slack.calls_to("chat.update")
    notes = [c for c in slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert "moved to" in notes[0].args["text"]
    [call] = stored_calls(engine)
    assert call.sequence == 1


def test_members_see_upcoming_calls_with_links_and_the_feed(leader, as_user, engine, zoom, slack):
    submit(leader, engine)
    leader.settle()
    [call] = stored_calls(engine)
    slack.add_user("U5", "bob", email="bob@example.org")
    bob = as_user("U5")
    bob.reply("join")
    bob.settle()  # registered for the call to come, on the background pool
    body = bob.reply("calls")
    text = json.dumps(body["blocks"])
    own = zoom.registrant_of(call.meeting_id, "bob@example.org")
    assert own is not None and own["join_url"] != call.join_url
    assert own["join_url"] in text and call.join_url not in text
    assert f"<!date^{int(call.start_at.timestamp())}^" in text
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
    text = json.dumps(body["blocks"], ensure_ascii=False)
    assert "No community call of" in text and "is scheduled yet" in text
    assert body["text"].startswith("No upcoming calls of")


@pytest.fixture(scope="module")
def endpoint_without_zoom(db_url, slack_session):
    from tests.helpers.endpoint import BACKGROUNDS

    settings = make_settings(db_url, slack_session.url)
    pools = len(BACKGROUNDS)
    gen = serve(settings)
    url = next(gen)
    yield url
    gen.close()
    BACKGROUNDS[:] = BACKGROUNDS[:pools]


def test_without_zoom_the_call_is_stored_and_the_message_says_so(
    endpoint_without_zoom, slack, session, engine
):
    user = SlackUser(endpoint_without_zoom, slack, "U1", CHANNEL)
    create_community(user)
    user.settle()
    submit(user, engine)
    user.settle()
    [call] = stored_calls(engine)
    assert call.meeting_state == "none" and call.meeting_id is None
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
    from tests.helpers.communities import home_opened
    from tests.helpers.endpoint import STAFF

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
    assert f"*Community calls {rules.year_label(first)}*\\n{expected} of 3 to 6" in text


# ---- hardening: races, forged ids, slow Zoom, zones -------------------------------------
def _in_threads(*jobs):
    """Run the callables at once (released together) and return their results."""
    import threading

    gate = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(i, job):
        gate.wait()
        results[i] = job()

    threads = [threading.Thread(target=run, args=(i, j)) for i, j in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_ten_concurrent_cancels_delete_the_meeting_once(leader, slack, zoom, engine):
    submit(leader, engine)
    leader.settle()
    [call] = stored_calls(engine)
    assert call.meeting_id in zoom.meetings
    slack.reset()
    responses = _in_threads(*[lambda: click(leader, cb.CANCEL_ACTION, call)] * 10)
    assert [r.status_code for r in responses] == [200] * 10, [r.text for r in responses]
    leader.settle()
    assert len(zoom.calls_to("DELETE /meetings/{meetingId}")) == 1
    assert zoom.meetings == {}
    said = [c.args["text"] for c in slack.calls_to("response_url")]
    assert sum("Cancelled *Webinar #3*" in t for t in said) == 1
    assert sum("already cancelled" in t for t in said) == 9, said
    [call] = stored_calls(engine)
    assert call.status == "cancelled" and call.sequence == 1


def test_concurrent_schedules_never_make_a_seventh_community_call(leader, zoom, engine):
    for day in ("01-13", "02-03", "03-03", "04-07", "05-05"):
        assert submit(leader, engine, date=f"{Y}-{day}") == {}
    leader.settle()
    days = ("06-02", "06-09", "06-16", "06-23")
    answers = _in_threads(*[lambda d=d: submit(leader, engine, date=f"{Y}-{d}") for d in days])
    leader.settle()
    assert sorted(a.get("response_action", "ok") for a in answers) == ["errors"] * 3 + ["ok"]
    assert all("already has 6 community calls" in a["errors"][rules.KIND] for a in answers if a)
    community = [c for c in stored_calls(engine) if c.kind == "community"]
    assert len(community) == 6 and len(zoom.meetings) == 6


@pytest.fixture
def other_community(leader, as_user, slack, engine):
    """A second community, led by U7, with one call."""
    from tests.helpers.communities import create_community as make

    slack.add_user("U7", "omar", tz="Europe/Paris")
    omar = as_user("U7", "COTHER01")
    make(omar, name="Other", channel="COTHER01")
    omar.settle()
    with session_scope(engine) as s:
        other = s.exec(select(Community).where(Community.name == "Other")).one()
        draft, _ = rules.validate(
            rules.CallForm(f"{Y}-02-10", "10:00", "Europe/Paris", "60", "Theirs", "", "U7", "", ""),
            now=datetime.now(UTC),
            holidays_country=None,
        )
        call = rules.create(s, other, draft, "U7", with_meeting=False)
        return other.id, call.id


def test_a_leader_cannot_reschedule_another_communitys_call(leader, other_community, engine):
    _, their_call = other_community
    mine = community_id_of(engine, "Early-career oncologists")
    forged = json.dumps({"community": mine, "call": their_call})
    response = leader.interact(
        payloads.view_submission_payload(
            cb.RESCHEDULE_CALLBACK,
            schedule_values(date=f"{Y}-03-03", topic="Mine now"),
            user_id="U1",
            private_metadata=forged,
        )
    )
    body = response.json()
    assert response.status_code == 200
    assert "not one of this community's calls" in body["errors"][rules.TOPIC]
    leader.settle()
    with session_scope(engine) as s:
        call = s.get(Call, their_call)
        assert call.topic == "Theirs" and call.sequence == 0
    # naming the other community itself: U1 does not lead it
    forged = json.dumps({"community": other_community[0], "call": their_call})
    body = submit_raw(leader, cb.RESCHEDULE_CALLBACK, forged)
    assert "Only the community's leaders and staff" in body["errors"][rules.TOPIC]


def test_buttons_on_another_communitys_call_are_refused(leader, other_community, slack, engine):
    _, their_call = other_community
    with session_scope(engine) as s:
        call = s.get(Call, their_call)
    for action in (cb.CANCEL_ACTION, cb.RETRY_ACTION, cb.RESCHEDULE_ACTION):
        assert click(leader, action, call).status_code == 200
    leader.settle()
    said = [c.args["text"] for c in slack.calls_to("response_url")]
    assert len(said) == 3 and all("Only the community's leaders and staff" in t for t in said)
    assert slack.calls_to("views.open") == []
    with session_scope(engine) as s:
        assert s.get(Call, their_call).status == "scheduled"


def test_a_member_pressing_a_call_button_is_told_who_may_do_that_very_thing(
    leader, as_user, slack, zoom, engine
):
    submit(leader, engine)
    leader.settle()
    [call] = stored_calls(engine)
    bob = as_user("U5")
    bob.reply("join")
    slack.reset()
    tried = {
        cb.CANCEL_ACTION: "can cancel its calls.",
        cb.RESCHEDULE_ACTION: "can move its calls.",
        cb.RETRY_ACTION: "can retry its calls' meetings.",
    }
    for action in tried:
        assert click(bob, action, call).status_code == 200
    bob.settle()
    said = [c.args["text"] for c in slack.calls_to("response_url")]
    assert len(said) == 3
    for words, text in zip(tried.values(), said, strict=True):
        assert text == f"Only the community's leaders and staff {words}", text
    assert not any("schedule" in t for t in said)
    [call] = stored_calls(engine)
    assert call.status == "scheduled" and zoom.meetings


@pytest.mark.parametrize("value", ["abc", "", "99999999999999999999999", "-1", "1.5", "0"])
def test_malformed_button_values_get_a_message_not_a_500(leader, slack, engine, value):
    for action in (cb.CANCEL_ACTION, cb.RETRY_ACTION, cb.RESCHEDULE_ACTION):
        payload = {
            "type": "block_actions",
            "team": {"id": "T0STANDIN"},
            "user": {"id": "U1"},
            "api_app_id": "A0COPBOT",
            "trigger_id": "99.99.trigger",
            "response_url": slack.response_url("action"),
            "actions": [
                {"type": "button", "action_id": action, "value": value, "action_ts": "1.2"}
            ],
        }
        assert leader.interact(payload).status_code == 200
    leader.settle()
    said = [c.args["text"] for c in slack.calls_to("response_url")]
    assert len(said) == 3 and all("not one copbot knows" in t for t in said)


@pytest.mark.parametrize(
    "meta",
    [
        "not json",
        "[]",
        "12",
        '{"community": "abc"}',
        '{"community": null}',
        '{"community": 99999999999999999999999}',
        '{"community": 1, "call": "x"}',
        '{"community": 1e400}',
    ],
)
def test_garbage_metadata_is_a_field_error_not_a_500(leader, engine, meta):
    for callback in (cb.SCHEDULE_CALLBACK, cb.RESCHEDULE_CALLBACK):
        body = submit_raw(leader, callback, meta)
        assert body["response_action"] == "errors" and rules.TOPIC in body["errors"]
    assert stored_calls(engine) == []


def community_id_of(engine, name: str) -> int:
    with session_scope(engine) as s:
        return s.exec(select(Community).where(Community.name == name)).one().id


def submit_raw(user: SlackUser, callback: str, meta: str, **kw) -> dict:
    response = user.interact(
        payloads.view_submission_payload(
            callback, schedule_values(**kw), user_id=user.user_id, private_metadata=meta
        )
    )
    assert response.status_code == 200, response.text
    return response.json() if response.content else {}


def test_cancelling_while_the_meeting_is_made_leaves_no_meeting(leader, slack, zoom, engine):
    import time

    zoom.delay(CREATE, 1.5)  # Zoom is slow but makes the meeting
    submit(leader, engine)
    deadline = time.monotonic() + 5
    while not zoom.calls_to(CREATE) and time.monotonic() < deadline:
        time.sleep(0.02)
    [call] = stored_calls(engine)
    assert call.meeting_state == "creating"
    click(leader, cb.CANCEL_ACTION, call)
    leader.settle()
    assert len(zoom.calls_to(CREATE)) == 1
    assert zoom.meetings == {}  # the meeting made after the cancel was deleted
    [call] = stored_calls(engine)
    assert call.status == "cancelled"


def test_rescheduling_while_the_meeting_is_made_moves_it(leader, slack, zoom, engine):
    import time

    zoom.delay(CREATE, 1.5)
    submit(leader, engine)
    deadline = time.monotonic() + 5
    while not zoom.calls_to(CREATE) and time.monotonic() < deadline:
        time.sleep(0.02)
    [call] = stored_calls(engine)
    assert submit(leader, engine, cb.RESCHEDULE_CALLBACK, call.id, date=f"{Y}-01-27") == {}
    leader.settle()
    [call] = stored_calls(engine)
    assert list(zoom.meetings) == [call.meeting_id]
    assert zoom.meetings[call.meeting_id]["start_time"] == f"{Y}-01-27T18:00:00Z"


def test_a_failing_token_endpoint_is_told_in_plain_words(leader, slack, zoom, engine):
    zoom.expire_tokens()  # the endpoint must ask for a new token
    zoom.fail_token(drop=True, times=500)
    submit(leader, engine)
    leader.settle()
    [call] = stored_calls(engine)
    assert call.meeting_state == "pending" and call.meeting_error == "Zoom did not answer in time"
    [dm] = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "U1"]
    assert "Zoom did not answer in time" in dm.args["text"]


def test_a_claim_outlives_the_longest_zoom_retry(db_url, slack_session, zoom, session, engine):
    from datetime import timedelta

    from bot.deps import Deps
    from tests.helpers.endpoint import zoom_env

    env = {**zoom_env(zoom), "ZOOM_RETRY_SECONDS": "600"}
    deps = Deps.create(make_settings(db_url, slack_session.url, **env))
    longest = deps.conferencing.longest_create_seconds
    assert longest >= 600
    timeout = meetings.claim_timeout(longest)
    assert timeout > timedelta(seconds=longest)
    # a live create is never taken over: at 11 minutes the claim still holds
    with session_scope(engine) as s:
        community = new_community(s)
        draft, _ = rules.validate(
            rules.CallForm(f"{Y}-02-10", "10:00", "UTC", "60", "T", "", "U1", "", ""),
            now=datetime.now(UTC),
            holidays_country=None,
        )
        call = rules.create(s, community, draft, "U1", with_meeting=True)
        start = datetime.now(UTC)
        assert meetings.claim_meeting(s, call.id, start, timeout=timeout)
        later = start + timedelta(minutes=11)
        assert not meetings.claim_meeting(s, call.id, later, timeout=timeout)
        assert meetings.claim_meeting(
            s, call.id, start + timeout + timedelta(seconds=1), timeout=timeout
        )


def test_views_open_never_waits_behind_a_slow_zoom(leader, slack, zoom, engine):
    import time

    from tests.helpers.endpoint import BACKGROUNDS

    zoom.delay(CREATE, 10, times=20)  # every create takes 10 seconds
    for n in range(10):  # more than the background pool has threads
        submit(leader, engine, topic=f"Call {n}", kind="additional", date=f"{Y}-02-{n + 10}")
    time.sleep(0.3)
    assert len(zoom.calls_to(CREATE)) >= 8  # the pool is busy with Zoom
    for command, callback in (("schedule", cb.SCHEDULE_CALLBACK), ("plan", "plan_section")):
        started = time.monotonic()
        leader.command(command)
        [opened] = slack.wait_for(
            "views.open",
            where=lambda c, cb_=callback: c.json_arg("view")["callback_id"].startswith(cb_),
            timeout=5,
        )
        assert opened.at - started < 1.0, (
            f"/cop {command}: views.open after {opened.at - started:.1f}s"
        )
    for pool in BACKGROUNDS:
        assert pool.wait_idle(40)


def test_a_typo_in_the_zone_suggests_names_and_changes_nothing(leader, zoom, engine):
    body = submit(leader, engine, zone="America")
    assert "America is not a time zone. Did you mean America/" in body["errors"][rules.ZONE]
    body = submit(leader, engine, zone="america/chicgo")
    assert "America/Chicago" in body["errors"][rules.ZONE]
    body = submit(leader, engine, zone="../../etc/passwd")
    assert "is not a time zone" in body["errors"][rules.ZONE]
    assert stored_calls(engine) == [] and zoom.calls == []


def test_the_form_offers_the_next_working_day_at_noon(leader, slack):
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    leader.command("schedule")
    view = slack.wait_for("views.open")[0].json_arg("view")
    by_id = {b["block_id"]: b for b in view["blocks"] if "block_id" in b}
    offered = date.fromisoformat(by_id[rules.DATE]["element"]["initial_date"])
    assert by_id[rules.TIME]["element"]["initial_time"] == "12:00"
    day = datetime.now(ZoneInfo("America/Chicago")).date() + timedelta(days=1)
    us = holidays.US(years=range(day.year, day.year + 2))
    while day.weekday() >= 5 or day in us:
        day += timedelta(days=1)
    assert offered == day


def test_slack_refusing_the_call_message_is_logged_and_told(leader, slack, zoom, engine, caplog):
    import logging

    caplog.set_level(logging.WARNING, logger="bot.flows.calls")
    slack.fail("chat.postMessage", "not_in_channel", times=1)
    submit(leader, engine)
    leader.settle()
    logged = [r.getMessage() for r in caplog.records if r.name == "bot.flows.calls"]
    assert any("not_in_channel" in m and CHANNEL in m for m in logged), logged
    [dm] = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "U1"]
    assert "not_in_channel" in dm.args["text"] and "/invite @copbot" in dm.args["text"]
    # a later change that cannot be shown is logged too, and the leader is told
    [call] = stored_calls(engine)
    slack.fail("chat.postMessage", "channel_not_found", times=1)
    with session_scope(engine) as s:
        stored = s.get(Call, call.id)
        stored.message_ts = None
        s.add(stored)
    assert submit(leader, engine, cb.RESCHEDULE_CALLBACK, call.id, date=f"{Y}-01-27") == {}
    leader.settle()
    logged = [r.getMessage() for r in caplog.records if r.name == "bot.flows.calls"]
    assert any("channel_not_found" in m for m in logged), logged


def test_retry_adopts_the_meeting_a_slow_zoom_made_after_all(leader, slack, zoom, engine):
    zoom.fail(CREATE, 503, times=50)
    zoom.fail("GET /users/{userId}/meetings", 503, times=500)
    submit(leader, engine)
    leader.settle()
    [call] = stored_calls(engine)
    assert call.meeting_state == "pending"
    zoom.reset()
    # Zoom made the meeting of a timed-out try after copbot gave up on it
    zoom.meetings[4242] = {
        "id": 4242,
        "topic": "Early-career oncologists: Webinar #3",
        "type": 2,
        "start_time": f"{Y}-01-13T18:00:00Z",
        "agenda": f"[copbot:{call.uid}]\nReadings are in the channel.",
        "join_url": "https://zoom.example/j/4242",
        "password": "late",
    }
    click(leader, cb.RETRY_ACTION, call)
    leader.settle()
    assert zoom.calls_to(CREATE) == [] and list(zoom.meetings) == [4242]
    [call] = stored_calls(engine)
    assert call.meeting_state == "ready" and call.meeting_id == 4242 and call.passcode == "late"


def test_a_registered_member_gets_a_calendar_file_with_their_own_link(
    leader, as_user, engine, zoom, slack
):
    """`/cop calls` hands a registered member an .ics of their own, carrying their own join
    link; the call's shared file and the community's feed keep the shared link."""
    submit(leader, engine)
    leader.settle()
    [call] = stored_calls(engine)
    slack.add_user("U5", "bob", email="bob@example.org")
    bob = as_user("U5")
    bob.reply("join")
    bob.settle()
    own = zoom.registrant_of(call.meeting_id, "bob@example.org")["join_url"]
    with session_scope(engine) as s:
        row = s.exec(select(CallRegistration).where(CallRegistration.slack_user_id == "U5")).one()
        token = row.calendar_token
        feed_token = s.exec(select(Community)).one().calendar_token
    assert token and len(token) >= 32
    mine = f"/calendar/mine/{token}.ics"
    text = json.dumps(bob.reply("calls")["blocks"])
    assert f"{PUBLIC_URL}{mine}" in text and f"/calendar/call/{call.uid}.ics" not in text

    def event(path: str):
        answer = requests.get(f"{leader.endpoint}{path}", timeout=5)
        assert answer.status_code == 200
        assert answer.headers["Content-Type"].startswith("text/calendar")
        [found] = Calendar.from_ical(answer.content).walk("VEVENT")
        return found

    personal = event(mine)
    assert str(personal["UID"]) == f"{call.uid}@copbot"
    assert str(personal["URL"]) == own and str(personal["LOCATION"]) == own
    assert f"Join: {own}" in str(personal["DESCRIPTION"])
    assert call.join_url not in str(personal["DESCRIPTION"])
    for path in (f"/calendar/call/{call.uid}.ics", f"/calendar/{feed_token}.ics"):
        shared = event(path)
        assert str(shared["URL"]) == call.join_url
        assert own not in str(shared["DESCRIPTION"])
    # a token nobody holds, and Bob's once he left (his registration is cancelled): none
    missing = requests.get(f"{leader.endpoint}/calendar/mine/{'x' * 32}.ics", timeout=5)
    assert missing.status_code == 404
    bob.reply("leave")
    bob.settle()
    with session_scope(engine) as s:
        assert s.get(CallRegistration, row.id).state == "cancelled"
    assert requests.get(f"{leader.endpoint}{mine}", timeout=5).status_code == 404
