"""A pool of Zoom hosts (ZOOM_HOSTS): a call gets a host with no other copbot meeting
within 15 minutes of it, decided by the database; when every host is busy the schedule
form says so on its time field with the nearest free times; rescheduling picks again,
cancelling frees the host; Zoom's daily limit of 100 creates/updates a host is counted
and its 429 respected: the meeting is made after 00:00 UTC and the leader is told."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import requests
from slack_sdk import WebClient
from sqlalchemy import func
from sqlmodel import select

from bot import scheduler
from bot.blocks import calls as cb
from bot.deps import Deps, make_conferencing
from bot.flows import calls as call_flows
from bot.flows import home
from bot.services import calls as rules
from bot.services import hosts, year_plan
from sandbox import slack_payloads as payloads
from storage.db import session_scope
from storage.models import Call, Community, HostBooking
from tests.helpers.endpoint import PUBLIC_URL, SlackUser, make_settings, serve, zoom_env
from tests.helpers.races import race
from tests.helpers.records import new_community
from tests.helpers.slack import schedule_form

CREATE = "POST /users/{userId}/meetings"
UPDATE = "PATCH /meetings/{meetingId}"
DELETE = "DELETE /meetings/{meetingId}"
Y = date.today().year + 1
DAY = f"{Y}-01-13"  # a Tuesday: 12:00 America/Chicago is 18:00 UTC
H1, H2, H3 = "h1@example.org", "h2@example.org", "h3@example.org"


@pytest.fixture(autouse=True)
def pool_users(zoom):
    """The hosts are users of the Zoom account."""
    for user in (H1, H2, H3, *(f"host{i}@example.org" for i in range(4))):
        zoom.add_user(user)


def pool_settings(db_url, slack, zoom, pool: str):
    return make_settings(
        db_url,
        slack.url,
        COPBOT_HOLIDAYS="US",
        COPBOT_PUBLIC_URL=PUBLIC_URL,
        ZOOM_HOSTS=pool,
        **zoom_env(zoom),
    )


@pytest.fixture(scope="module")
def three_hosts(db_url, slack_session, zoom_session):
    settings = pool_settings(db_url, slack_session, zoom_session, f"{H1},{H2},{H3}")
    yield from serve(settings)


@pytest.fixture(scope="module")
def one_host(db_url, slack_session, zoom_session):
    settings = pool_settings(db_url, slack_session, zoom_session, H1)
    yield from serve(settings)


def communities(session, slack, count: int) -> list[tuple[int, str]]:
    """`count` communities, community i led by U{i+1} in channel CPOOL{i}."""
    out = []
    for i in range(count):
        leader = f"U{i + 1}"
        slack.add_user(leader, f"leader{i}", tz="America/Chicago")
        slack.add_channel(f"CPOOL{i}", members=[leader], bot_member=True)
        c = new_community(session, name=f"Pool {i}", channel=f"CPOOL{i}", leader=leader)
        out.append((c.id, leader))
    session.commit()
    return out


def submit(endpoint, slack, community_id: int, leader: str, when: str = "12:00", **kw) -> dict:
    form = schedule_form(community_id, kw.pop("day", DAY), user_id=leader)
    form["view"]["state"]["values"][rules.TIME]["value"] = payloads.input_value("timepicker", when)
    if "duration" in kw:
        form["view"]["state"]["values"][rules.DURATION]["value"] = payloads.input_value(
            "number_input", kw.pop("duration")
        )
    user = SlackUser(endpoint, slack, leader, "CPOOL0")
    response = user.interact(form)
    assert response.status_code == 200, response.text
    user.settle()
    return response.json() if response.content else {}


def calls(engine) -> list[Call]:
    with session_scope(engine) as s:
        return list(s.exec(select(Call).order_by(Call.id)).all())


def dms(slack, user_id: str) -> list[str]:
    return [
        c.args["text"] for c in slack.calls_to("chat.postMessage") if c.args["channel"] == user_id
    ]


def click(endpoint, slack, user_id: str, action_id: str, call: Call) -> None:
    payload = {
        "type": "block_actions",
        "team": {"id": "T0STANDIN"},
        "user": {"id": user_id},
        "trigger_id": "1.2.3",
        "response_url": slack.response_url(),
        "actions": [{"action_id": action_id, "value": str(call.id), "type": "button"}],
    }
    user = SlackUser(endpoint, slack, user_id, "CPOOL0")
    assert user.interact(payload).status_code == 200
    user.settle()


# ---- the measured defect -----------------------------------------------------------------
def test_three_calls_at_one_hour_in_three_communities_get_three_hosts(
    three_hosts, session, slack, zoom, engine
):
    for community_id, leader in communities(session, slack, 3):
        assert "errors" not in submit(three_hosts, slack, community_id, leader)
    made = calls(engine)
    assert len(made) == 3 and {c.meeting_state for c in made} == {"ready"}
    assert {c.zoom_host for c in made} == {H1, H2, H3}
    # each meeting made for its own host, on that host's /users/{host}/meetings
    assert sorted(c.path for c in zoom.calls_to(CREATE)) == [
        f"/users/{h}/meetings" for h in (H1, H2, H3)
    ]
    for c in made:
        [meeting] = zoom.meetings_of(c.zoom_host)
        assert meeting["id"] == c.meeting_id
    # at the hour, every one of them starts: no host has two live meetings
    assert all(zoom.start_meeting(c.meeting_id) for c in made)
    assert zoom.refused_starts == []


def test_the_standin_refuses_a_second_live_meeting_of_one_host(zoom):
    """What the old code led to: three meetings at one hour on one host, and two of them
    could not start (Zoom hosts one meeting at a time)."""
    from integrations.zoom import ZoomClient
    from sandbox import zoom_standin as zs

    client = ZoomClient(
        zs.ACCOUNT_ID,
        zs.CLIENT_ID,
        zs.CLIENT_SECRET,
        api_url=zoom.api_url,
        oauth_url=zoom.oauth_url,
    )
    start = datetime(Y, 1, 13, 18, tzinfo=UTC)
    ids = [
        client.create_meeting(
            "me", topic=f"c{i}", start=start, duration_minutes=60, timezone="UTC"
        ).id
        for i in range(3)
    ]
    assert [zoom.start_meeting(i) for i in ids] == [True, False, False]
    assert zoom.refused_starts == ids[1:]
    zoom.end_meeting(ids[0])
    assert zoom.start_meeting(ids[1])


def test_with_one_host_a_second_community_at_that_hour_is_told_on_the_time_field(
    one_host, session, slack, zoom, engine
):
    (first, u1), (second, u2) = communities(session, slack, 2)
    assert "errors" not in submit(one_host, slack, first, u1)
    answer = submit(one_host, slack, second, u2)
    error = answer["errors"][rules.TIME]
    assert error.startswith("copbot's Zoom host is busy then")
    # the nearest free times that day (12:00 to 13:00 is taken, 15 minutes either side)
    assert "Free that day for 60 minutes: 10:30, 10:45, 13:15 or 13:30." in error
    assert [c.community_id for c in calls(engine)] == [first]
    assert len(zoom.calls_to(CREATE)) == 1
    # 13:10 is too close to the end of the first call; 13:15 is not
    assert rules.TIME in submit(one_host, slack, second, u2, "13:10").get("errors", {})
    assert "errors" not in submit(one_host, slack, second, u2, "13:15")
    assert [c.zoom_host for c in calls(engine)] == [H1, H1]
    assert len(zoom.meetings_of(H1)) == 2


def test_all_n_hosts_busy_is_said_with_their_number(three_hosts, session, slack, zoom, engine):
    people = communities(session, slack, 4)
    for community_id, leader in people[:3]:
        submit(three_hosts, slack, community_id, leader)
    answer = submit(three_hosts, slack, *people[3])
    assert answer["errors"][rules.TIME].startswith("All 3 Zoom hosts are busy then")
    assert len(calls(engine)) == 3


def test_cancelling_frees_the_host(one_host, session, slack, zoom, engine):
    (first, u1), (second, u2) = communities(session, slack, 2)
    submit(one_host, slack, first, u1)
    [call] = calls(engine)
    click(one_host, slack, u1, cb.CANCEL_ACTION, call)
    assert calls(engine)[0].status == "cancelled"
    with session_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(HostBooking)).one() == 0
    assert "errors" not in submit(one_host, slack, second, u2)
    assert calls(engine)[1].zoom_host == H1


def test_rescheduling_picks_again_and_frees_the_old_time(three_hosts, session, slack, zoom, engine):
    people = communities(session, slack, 3)
    (a, ua), (b, ub), (c, uc) = people
    submit(three_hosts, slack, a, ua)  # 12:00 on H1
    submit(three_hosts, slack, b, ub, "14:00")  # least used: H2
    first, second = calls(engine)
    assert (first.zoom_host, second.zoom_host) == (H1, H2)
    # moved to 14:00: H1 is still free then, so its meeting is moved, not made again
    meta = json.dumps({"community": a, "call": first.id})
    form = schedule_form(a, DAY, user_id=ua)
    form["view"]["callback_id"] = cb.RESCHEDULE_CALLBACK
    form["view"]["private_metadata"] = meta
    form["view"]["state"]["values"][rules.TIME]["value"] = payloads.input_value(
        "timepicker", "14:00"
    )
    user = SlackUser(three_hosts, slack, ua, "CPOOL0")
    assert user.interact(form).status_code == 200
    user.settle()
    moved = calls(engine)[0]
    assert moved.zoom_host == H1 and moved.meeting_id == first.meeting_id
    assert len(zoom.calls_to(UPDATE)) == 1 and len(zoom.calls_to(CREATE)) == 2
    # its old hour is free again on H1: a third community at 12:00 gets H1 or H3
    submit(three_hosts, slack, c, uc)
    third = calls(engine)[2]
    assert third.meeting_state == "ready"
    with session_scope(engine) as s:
        booked = s.exec(select(HostBooking).where(HostBooking.call_id == first.id)).all()
    assert min(b.slot_at for b in booked) == datetime(Y, 1, 13, 20, tzinfo=UTC)


def test_a_move_to_a_time_its_host_is_busy_changes_host_and_remakes_the_meeting(
    three_hosts, session, slack, zoom, engine
):
    (a, ua), (b, ub) = communities(session, slack, 2)
    submit(three_hosts, slack, a, ua)  # 12:00 H1
    submit(three_hosts, slack, b, ub, "15:00")  # 15:00 H2
    first, second = calls(engine)
    assert (first.zoom_host, second.zoom_host) == (H1, H2)
    zoom.calls.clear()
    form = schedule_form(b, DAY, user_id=ub)
    form["view"]["callback_id"] = cb.RESCHEDULE_CALLBACK
    form["view"]["private_metadata"] = json.dumps({"community": b, "call": second.id})
    # 12:00 of the same day: H2 is free then too, so it stays on H2 ...
    user = SlackUser(three_hosts, slack, ub, "CPOOL0")
    assert user.interact(form).status_code == 200
    user.settle()
    assert calls(engine)[1].zoom_host == H2
    # ... until H2 is taken at 17:00 by another call, and the call moves there
    with session_scope(engine) as s:
        blocker = Call(
            community_id=a,
            start_at=datetime(Y, 1, 13, 23, tzinfo=UTC),
            duration_minutes=60,
            timezone="UTC",
            topic="blocker",
            host_user_id=ua,
            created_by=ua,
        )
        s.add(blocker)
        s.flush()
        s.add_all(
            HostBooking(host=H2, slot_at=t, call_id=blocker.id)
            for t in hosts.slots(blocker.start_at, 60)
        )
    form["view"]["state"]["values"][rules.TIME]["value"] = payloads.input_value(
        "timepicker", "17:00"
    )
    zoom.calls.clear()
    assert user.interact(form).status_code == 200
    user.settle()
    moved = calls(engine)[1]
    assert moved.zoom_host != H2 and moved.meeting_state == "ready"
    assert moved.meeting_id != second.meeting_id
    assert [c.path for c in zoom.calls_to(DELETE)] == [f"/meetings/{second.meeting_id}"]
    assert [c.path for c in zoom.calls_to(CREATE)] == [f"/users/{moved.zoom_host}/meetings"]
    assert zoom.meetings_of(H2) == []


# ---- the database decides --------------------------------------------------------------------
def _draft(start: datetime, community_id: int) -> rules.CallDraft:
    return rules.CallDraft(
        start_at=start,
        duration_minutes=60,
        timezone="UTC",
        topic="Race",
        agenda="",
        host_user_id="U1",
        alternate_user_id=None,
        kind=rules.CallKind.COMMUNITY,
    )


def test_communities_submitting_one_hour_at_once_never_share_a_host(session, engine):
    ids = []
    for i in range(6):
        ids.append(new_community(session, name=f"Race {i}", channel=f"CR{i:03d}").id)
    session.commit()
    start = datetime(Y, 1, 13, 18, tzinfo=UTC)
    pool = (H1, H2)

    def schedule(community_id: int):
        def work(s):
            community = s.get(Community, community_id)
            # 0 to 10 minutes apart: every two of them within 15 minutes of each other
            draft = _draft(start + timedelta(minutes=2 * (community_id % 6)), community_id)
            call = rules.create(s, community, draft, "U1", with_meeting=True)
            return hosts.book_or_refuse(s, call, pool, start - timedelta(days=30))

        return work

    results = race(engine, *(schedule(i) for i in ids))
    booked = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, hosts.HostsBusy)]
    assert sorted(booked) == [H1, H2], results
    assert len(refused) == 4
    assert "All 2 Zoom hosts are busy then" in str(refused[0])
    with session_scope(engine) as s:
        stored = s.exec(select(Call)).all()
        assert sorted(c.zoom_host for c in stored) == [H1, H2]  # the refused were not saved


def test_the_daily_count_never_passes_the_limit_under_concurrent_workers(session, engine):
    now = datetime(Y, 1, 13, 9, tzinfo=UTC)
    results = race(engine, *(lambda s: hosts.take_request(s, H1, now, limit=5) for _ in range(8)))
    assert sorted(results) == [False] * 3 + [True] * 5
    with session_scope(engine) as s:
        assert hosts.requests_today(s, [H1, H2], now) == {H1: 5, H2: 0}
        assert not hosts.take_request(s, H1, now, limit=5)
        # the next UTC day starts again from nothing
        assert hosts.take_request(s, H1, now + timedelta(days=1), limit=5)


def test_slots_keep_fifteen_minutes_between_two_meetings():
    noon = datetime(Y, 1, 13, 12, tzinfo=UTC)
    one = set(hosts.slots(noon, 60))
    assert one & set(hosts.slots(noon + timedelta(minutes=74), 30))  # 14 minutes after
    assert not one & set(hosts.slots(noon + timedelta(minutes=75), 30))  # 15 after
    assert one & set(hosts.slots(noon - timedelta(minutes=44), 30))  # ends 14 before
    assert not one & set(hosts.slots(noon - timedelta(minutes=45), 30))  # ends 15 before


# ---- Zoom's daily limit ---------------------------------------------------------------------
def test_a_host_out_for_the_day_gets_its_meeting_made_after_midnight_utc(
    db_url, session, slack, zoom, engine
):
    zoom.daily_limit = 2  # Zoom says no after two creates a host today
    settings = pool_settings(db_url, slack, zoom, f"{H1},{H2}")
    deps = Deps(settings=settings, engine=engine, conferencing=make_conferencing(settings))
    client = WebClient(token="xoxb-test-token", base_url=slack.url)
    [(community_id, leader)] = communities(session, slack, 1)
    ids = []
    for i in range(5):
        with session_scope(engine) as s:
            community = s.get(Community, community_id)
            draft = _draft(datetime(Y, 1, 13 + i, 18, tzinfo=UTC), community_id)
            call = rules.create(s, community, draft, leader, with_meeting=True)
            hosts.book_or_refuse(s, call, deps.conferencing.hosts, rules.utcnow())
            ids.append(call.id)
        call_flows.after_schedule(client, deps, call.id, leader)
    made = calls(engine)
    # work spread over the two hosts: two each, then both were out for the day
    assert [c.meeting_state for c in made] == ["ready"] * 4 + ["pending"]
    assert sorted(c.zoom_host for c in made[:4]) == [H1, H1, H2, H2]
    refusals = [c for c in zoom.calls if c.route == CREATE]
    assert len(refusals) == 6  # 4 made, then a 429 from each host: no retry of a 429
    midnight = hosts.next_utc_midnight(rules.utcnow())
    assert made[4].meeting_not_before == midnight
    told = dms(slack, leader)[-1]
    assert "is saved" in told and "made after 00:00 UTC" in told and "Retry" not in told
    with session_scope(engine) as s:
        assert hosts.requests_today(s, [H1, H2], rules.utcnow()) == {H1: 100, H2: 100}
    # a scheduler pass before midnight leaves it; the first one after makes it
    assert scheduler.tick(deps, client, midnight - timedelta(minutes=1)).owner
    assert calls(engine)[4].meeting_state == "pending"
    zoom.clock = lambda: midnight + timedelta(minutes=1)
    result = scheduler.tick(deps, client, midnight + timedelta(minutes=1))
    assert result.sent == [f"the Zoom meeting of call {ids[4]}"]
    last = calls(engine)[4]
    assert last.meeting_state == "ready" and last.meeting_not_before is None
    assert last.join_url in dms(slack, leader)[-1]
    assert "is made" in dms(slack, leader)[-1]


def test_the_standin_answers_the_daily_limit_as_zoom_does(zoom):
    zoom.daily_limit = 1
    token = requests.post(
        zoom.oauth_url,
        params={"grant_type": "account_credentials", "account_id": "standin-account"},
        auth=("standin-client", "standin-secret"),
        timeout=5,
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    body = {"topic": "t", "type": 2, "start_time": f"{Y}-01-13T18:00:00Z", "duration": 30}
    url = f"{zoom.api_url}/users/{H1}/meetings"
    assert requests.post(url, json=body, headers=headers, timeout=5).status_code == 201
    refused = requests.post(url, json=body, headers=headers, timeout=5)
    assert refused.status_code == 429 and "Retry-After" not in refused.headers
    assert "daily rate limit" in refused.json()["message"]
    # another host is not affected
    other = f"{zoom.api_url}/users/{H2}/meetings"
    assert requests.post(other, json=body, headers=headers, timeout=5).status_code == 201
    # a user the account does not have
    stranger = f"{zoom.api_url}/users/nobody@example.org/meetings"
    answer = requests.post(stranger, json=body, headers=headers, timeout=5)
    assert answer.status_code == 404 and answer.json()["code"] == 1001


def test_year_plans_of_forty_communities_on_one_morning_lose_no_call(
    db_url, session, slack, zoom, engine
):
    zoom.daily_limit = 30  # 4 hosts: 120 meetings today of the 200
    pool = ",".join(f"host{i}@example.org" for i in range(4))
    settings = pool_settings(db_url, slack, zoom, pool)
    deps = Deps(settings=settings, engine=engine, conferencing=make_conferencing(settings))
    client = WebClient(token="xoxb-test-token", base_url=slack.url)
    people = communities(session, slack, 40)
    first = date(Y, 8, 1)
    now = rules.utcnow()
    for i, (community_id, leader) in enumerate(people):
        # ten times of day 75 minutes apart, four communities at each
        at = (datetime(2000, 1, 1, 6) + timedelta(minutes=75 * (i % 10))).time()
        chosen = {d.key: (d.topic, d.day) for d in year_plan.draft_calls(first, None)}
        with session_scope(engine) as s:
            accepted = year_plan.accept(
                s,
                s.get(Community, community_id),
                first,
                chosen,
                at=at,
                zone="UTC",
                duration=60,
                user_id=leader,
                now=now,
                holidays_country=None,
                year_start=(8, 1),
                with_meeting=True,
                zoom_hosts=deps.conferencing.hosts,
            )
            call_ids = [c.id for c in accepted.calls]
        call_flows.after_year(client, deps, call_ids, leader, accepted)
    stored = calls(engine)
    assert len(stored) == 200
    assert sum(c.meeting_state == "ready" for c in stored) == 120
    waiting = [c for c in stored if c.meeting_state == "pending"]
    assert len(waiting) == 80 and all(c.meeting_not_before for c in waiting)
    assert any("wait" in t and "after 00:00 UTC" in t for t in dms(slack, people[-1][1]))
    # no host has two calls within 15 minutes of each other
    by_host: dict = {}
    for c in stored:
        by_host.setdefault(c.zoom_host, []).append(c)
    assert len(by_host) == 4
    for booked in by_host.values():
        booked.sort(key=lambda c: c.start_at)
        for one, two in zip(booked, booked[1:], strict=False):
            assert two.start_at >= one.start_at + timedelta(minutes=75)
    # the next UTC day the scheduler makes the rest
    midnight = hosts.next_utc_midnight(now)
    zoom.clock = lambda: midnight + timedelta(minutes=5)
    assert len(scheduler.tick(deps, client, midnight + timedelta(minutes=5)).sent) == 80
    assert {c.meeting_state for c in calls(engine)} == {"ready"}
    assert len(zoom.meetings) == 200


def test_staff_home_shows_each_hosts_next_meetings(db_url, session, slack, zoom, engine):
    settings = pool_settings(db_url, slack, zoom, f"{H1},{H2}")
    deps = Deps(settings=settings, engine=engine, conferencing=make_conferencing(settings))
    client = WebClient(token="xoxb-test-token", base_url=slack.url)
    [(community_id, leader)] = communities(session, slack, 1)
    with session_scope(engine) as s:
        call = rules.create(
            s,
            s.get(Community, community_id),
            _draft(datetime(Y, 1, 13, 18, tzinfo=UTC), 0),
            leader,
            with_meeting=True,
        )
        hosts.book_or_refuse(s, call, deps.conferencing.hosts, rules.utcnow())
    home.publish(client, deps, settings.staff and sorted(settings.staff)[0])
    [published] = slack.calls_to("views.publish")
    text = json.dumps(published.json_arg("view"))
    assert "Zoom hosts" in text
    assert f"*{H1}*" in text and "Pool 0" in text and "_meeting not made yet_" in text
    assert f"*{H2}*: _no meeting booked_" in text
