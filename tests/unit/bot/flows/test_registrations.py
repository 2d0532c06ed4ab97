"""Attendance that knows members who are guests to the Zoom account: Zoom shows the email
of a participant from outside the account only if they registered for the meeting, so
copbot makes meetings that require registration (approved automatically), registers every
member and leader with their Slack email, 30 at a time, and gives each a join link of
their own; attendance matches by registrant id, then email, then counts a guest."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.deps import Deps
from bot.flows import calls as call_flows
from bot.flows import meetings
from bot.flows import registrations as registration_flows
from bot.scheduler import tick
from bot.services import communities as svc
from bot.slack_client import make_web_client
from integrations.zoom import NewRegistrant, ZoomBadRequest, ZoomClient
from sandbox.slack_standin import TEAM_ID
from sandbox.zoom_standin import ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET
from storage.db import session_scope
from storage.models import (
    Call,
    CallAttendance,
    CallRegistration,
    MeetingState,
    Membership,
)
from tests.helpers.calls import click
from tests.helpers.records import new_community, participant

BATCH = "POST /meetings/{meetingId}/batch_registrants"
STATUS = "PUT /meetings/{meetingId}/registrants/status"
VISITOR = "visitor@elsewhere.example"


@pytest.fixture
def on(settings) -> Deps:
    """Deps as `copbot serve` builds them, registration on (the default)."""
    assert settings.zoom_registration
    return Deps.create(settings)


@pytest.fixture
def off(settings) -> Deps:
    """COPBOT_ZOOM_REGISTRATION=off."""
    return Deps.create(dataclasses.replace(settings, zoom_registration=False))


@pytest.fixture
def zoom_client(zoom) -> ZoomClient:
    return ZoomClient(
        ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET, api_url=zoom.api_url, oauth_url=zoom.oauth_url
    )


@pytest.fixture
def community(session, slack):
    """Ana leads; Bo and Cy are members; all three come from other institutions (their
    emails are not the Zoom account's)."""
    c = new_community(session, channel="CREG0001", leader="U1")
    for uid in ("U5", "U6"):
        svc.join(session, c, uid)
    session.commit()
    slack.add_user("U1", "ana", email="ana@uni-a.example", real_name="Ana Okafor")
    slack.add_user("U5", "bo", email="bo@uni-b.example", real_name="Bo Lind")
    slack.add_user("U6", "cy", email="cy@uni-c.example", real_name="Cy Park")
    return c


def _call(session, community, start: datetime) -> Call:
    call = Call(
        community_id=community.id,
        start_at=start,
        duration_minutes=60,
        timezone="UTC",
        topic="Webinar #3",
        host_user_id="U1",
        created_by="U1",
        meeting_state=MeetingState.PENDING.value,
    )
    session.add(call)
    session.commit()
    return call


def _held(zoom, call: Call, start: datetime) -> None:
    """Ana, Bo and Cy came (their real emails; Zoom decides what it shows), and a visitor
    who registered on Zoom's own page."""
    m = lambda k: start + timedelta(minutes=k)  # noqa: E731
    zoom.add_past_meeting(
        call.meeting_id,
        f"held{call.id}==",
        start,
        [
            participant("Ana Okafor", "ana@uni-a.example", join=m(0), leave=m(60)),
            participant("Bo", "bo@uni-b.example", join=m(0), leave=m(20)),
            participant("Bo (phone)", "bo@uni-b.example", join=m(25), leave=m(50)),
            participant("Cy Park", "cy@uni-c.example", join=m(5), leave=m(45)),
            participant("Visitor", VISITOR, join=m(0), leave=m(30)),
        ],
    )


def _attendance(engine, call_id: int) -> tuple[int, int, int]:
    with session_scope(engine) as s:
        counted = s.get(CallAttendance, call_id)
        return counted.came, counted.members, counted.guests


def test_members_from_outside_the_account_count_as_members(
    community, session, engine, zoom, client, on
):
    """The call the issue measured: leader and two members from outside the account and
    one visitor came. Recorded as 4 came, 0 members, 4 guests before; now 3 and 1."""
    deps = on
    start = datetime.now(UTC) - timedelta(hours=3)
    call = _call(session, community, start)
    assert meetings.ensure_meeting(deps, call.id) is None
    done = registration_flows.register_call(deps, client, call.id)
    assert done.registered == ["U1", "U5", "U6"] and not done.no_email
    with session_scope(engine) as s:
        call = s.get(Call, call.id)
    made = zoom.meetings[call.meeting_id]
    assert made["settings"]["approval_type"] == 0 and call.registration == "on"
    [batch] = zoom.calls_to(BATCH)
    assert batch.body["auto_approve"] is True
    assert batch.body["registrants_confirmation_email"] is False
    zoom.register(call.meeting_id, VISITOR, "Visiting Person")  # Zoom's registration page
    _held(zoom, call, start)
    tick(deps, client, start + timedelta(minutes=90))
    assert _attendance(engine, call.id) == (4, 3, 1)
    # the visitor is counted, never named: nothing of theirs is stored
    with session_scope(engine) as s:
        ids = set(s.exec(select(CallRegistration.slack_user_id)).all())
    assert ids == {"U1", "U5", "U6"}


def test_with_registration_off_members_outside_the_account_are_guests(
    community, session, engine, zoom, client, off
):
    """COPBOT_ZOOM_REGISTRATION=off: one shared link, and Zoom hides every guest's email:
    what the README says attendance then misses."""
    deps = off
    start = datetime.now(UTC) - timedelta(hours=3)
    call = _call(session, community, start)
    assert meetings.ensure_meeting(deps, call.id) is None
    assert registration_flows.register_call(deps, client, call.id).registered == []
    with session_scope(engine) as s:
        call = s.get(Call, call.id)
    assert call.registration == "off"
    assert zoom.meetings[call.meeting_id]["settings"]["approval_type"] == 2
    _held(zoom, call, start)
    tick(deps, client, start + timedelta(minutes=90))
    assert _attendance(engine, call.id) == (5, 0, 5)  # Bo's two devices: two "people"
    assert zoom.calls_to(BATCH) == []


def test_the_stand_in_refuses_registrants_while_registration_is_off(zoom, zoom_client):
    meeting = zoom_client.create_meeting(
        "me", topic="t", start=datetime(2030, 1, 1, tzinfo=UTC), duration_minutes=30, timezone="UTC"
    )
    with pytest.raises(ZoomBadRequest) as refused:
        zoom_client.register(meeting.id, [NewRegistrant("a@b.example", "A")])
    assert refused.value.code == 3000 and "Registration has not been enabled" in str(refused.value)
    zoom_client.enable_registration(meeting.id)
    [seat] = zoom_client.register(meeting.id, [NewRegistrant("a@b.example", "A")])
    # the same email again is the same registrant, with the same link
    [again] = zoom_client.register(meeting.id, [NewRegistrant("A@b.example", "A")])
    assert again.registrant_id == seat.registrant_id and again.join_url == seat.join_url
    assert seat.join_url != zoom.meetings[meeting.id]["join_url"]
    assert [r.registrant_id for r in zoom_client.registrants(meeting.id)] == [seat.registrant_id]
    zoom_client.cancel_registrants(meeting.id, [seat.registrant_id])
    assert zoom_client.registrants(meeting.id) == []


def test_seventy_people_register_in_batches_of_thirty(zoom, zoom_client):
    meeting = zoom_client.create_meeting(
        "me",
        topic="t",
        start=datetime(2030, 1, 1, tzinfo=UTC),
        duration_minutes=30,
        timezone="UTC",
        registration=True,
    )
    people = [NewRegistrant(f"p{n}@x.example", f"P{n}") for n in range(70)]
    seats = zoom_client.register(meeting.id, people)
    assert len({s.registrant_id for s in seats}) == 70
    assert [len(c.body["registrants"]) for c in zoom.calls_to(BATCH)] == [30, 30, 10]
    zoom_client.cancel_registrants(meeting.id, [s.registrant_id for s in seats[:31]])
    assert [len(c.body["registrants"]) for c in zoom.calls_to(STATUS)] == [30, 1]
    assert len(zoom_client.registrants(meeting.id)) == 39


def test_more_than_thirty_in_one_batch_is_refused_as_zoom_does(zoom, zoom_client):
    meeting = zoom_client.create_meeting(
        "me",
        topic="t",
        start=datetime(2030, 1, 1, tzinfo=UTC),
        duration_minutes=30,
        timezone="UTC",
        registration=True,
    )
    body = {"registrants": [{"email": f"p{n}@x.example", "first_name": "P"} for n in range(31)]}
    with pytest.raises(ZoomBadRequest):
        zoom_client.request("POST", f"/meetings/{meeting.id}/batch_registrants", json=body)
    assert zoom.violations and "too long" in zoom.violations[0]
    zoom.violations.clear()


def test_guests_emails_are_hidden_unless_registered(zoom, zoom_client):
    start = datetime(2030, 1, 1, tzinfo=UTC)
    meeting = zoom_client.create_meeting(
        "me", topic="t", start=start, duration_minutes=30, timezone="UTC", registration=True
    )
    [seat] = zoom_client.register(meeting.id, [NewRegistrant("reg@uni.example", "Reg")])
    zoom.add_user("staff@org.example")
    end = start + timedelta(minutes=30)
    zoom.add_past_meeting(
        meeting.id,
        "u==",
        start,
        [
            participant("Reg", "reg@uni.example", join=start, leave=end),
            participant("Staff", "staff@org.example", join=start, leave=end),
            participant("Guest", "guest@else.example", join=start, leave=end),
        ],
    )
    shown = zoom_client.request("GET", "/past_meetings/u%3D%3D/participants").json()
    by_name = {p["name"]: p for p in shown["participants"]}
    assert by_name["Reg"]["user_email"] == "reg@uni.example"
    assert by_name["Reg"]["registrant_id"] == seat.registrant_id
    assert by_name["Staff"]["user_email"] == "staff@org.example"
    assert "registrant_id" not in by_name["Staff"]
    assert by_name["Guest"]["user_email"] == "" and "registrant_id" not in by_name["Guest"]


def test_a_newcomer_is_registered_and_a_leaver_cancelled(
    community, session, engine, zoom, client, slack, on
):
    deps = on
    call = _call(session, community, datetime.now(UTC) + timedelta(days=5))
    meetings.ensure_meeting(deps, call.id)
    registration_flows.register_call(deps, client, call.id)
    slack.add_user("U8", "di", email="di@uni-d.example")
    with session_scope(engine) as s:
        svc.join(s, s.get(type(community), community.id), "U8")
    registration_flows.register_newcomers(deps, client, community.id, ["U8"])
    with session_scope(engine) as s:
        call = s.get(Call, call.id)
    assert zoom.registrant_of(call.meeting_id, "di@uni-d.example")["status"] == "approved"
    with session_scope(engine) as s:
        svc.leave(s, s.get(type(community), community.id), "U5")
    registration_flows.cancel_leaver(deps, community.id, "U5")
    assert zoom.registrant_of(call.meeting_id, "bo@uni-b.example")["status"] == "cancelled"
    with session_scope(engine) as s:
        row = s.exec(select(CallRegistration).where(CallRegistration.slack_user_id == "U5")).one()
        assert row.state == "cancelled"
    # a second cancel (a replayed leave) asks Zoom nothing more
    before = len(zoom.calls_to(STATUS))
    registration_flows.cancel_leaver(deps, community.id, "U5")
    assert len(zoom.calls_to(STATUS)) == before == 1


def test_a_member_slack_gives_no_email_for_is_told(community, session, engine, zoom, client, on):
    deps = on
    with session_scope(engine) as s:
        svc.join(s, s.get(type(community), community.id), "U9")  # no email in Slack
    call = _call(session, community, datetime.now(UTC) + timedelta(days=5))
    meetings.ensure_meeting(deps, call.id)
    done = registration_flows.register_call(deps, client, call.id)
    assert done.no_email == ["U9"] and done.registered == ["U1", "U5", "U6"]
    note = call_flows.registration_note(done, "Zoom")
    assert "<@U9>" in note and "no email" in note


def test_existing_meetings_are_moved_over_when_registration_is_turned_on(
    community, session, engine, zoom, client, on, off
):
    call = _call(session, community, datetime.now(UTC) + timedelta(days=5))
    meetings.ensure_meeting(off, call.id)
    with session_scope(engine) as s:
        meeting_id = s.get(Call, call.id).meeting_id
    assert zoom.meetings[meeting_id]["settings"]["approval_type"] == 2
    result = tick(on, client, datetime.now(UTC))
    assert result.moved_over == [call.id]
    assert zoom.meetings[meeting_id]["settings"]["approval_type"] == 0
    with session_scope(engine) as s:
        assert s.get(Call, call.id).registration == "on"
        assert len(s.exec(select(CallRegistration)).all()) == 3
    assert tick(on, client, datetime.now(UTC)).moved_over == []  # once


def test_two_workers_registering_at_once_store_one_registration_each(
    community, session, engine, zoom, client, on
):
    deps = on
    call = _call(session, community, datetime.now(UTC) + timedelta(days=5))
    meetings.ensure_meeting(deps, call.id)
    barrier = threading.Barrier(3)
    errors = []

    def work():
        barrier.wait()
        try:
            registration_flows.register_call(deps, client, call.id)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    with session_scope(engine) as s:
        rows = s.exec(select(CallRegistration).where(CallRegistration.call_id == call.id)).all()
        assert sorted(r.slack_user_id for r in rows) == ["U1", "U5", "U6"]
        assert all(r.state == "registered" and r.join_url for r in rows)
        members = s.exec(select(Membership).where(Membership.community_id == community.id)).all()
        assert len(members) == 3
    with session_scope(engine) as s:
        meeting_id = s.get(Call, call.id).meeting_id
    # Zoom holds one registrant per person, whatever the number of requests
    assert len(zoom.registrants[meeting_id]) == 3


def test_the_join_button_answers_each_person_privately_with_their_own_link(
    community, session, engine, zoom, slack, as_user, on
):
    live = on
    call = _call(session, community, datetime.now(UTC) + timedelta(days=5))
    meetings.ensure_meeting(live, call.id)
    registration_flows.register_call(live, make_web_client(live.settings), call.id)
    with session_scope(engine) as s:
        call = s.get(Call, call.id)
    bo = as_user("U5")
    answer = click(bo, "call_join", call)
    assert answer.status_code == 200
    bo.settle()
    [told] = slack.calls_to("response_url")
    own = zoom.registrant_of(call.meeting_id, "bo@uni-b.example")["join_url"]
    assert own in told.args["text"] and told.args.get("response_type", "ephemeral") == "ephemeral"
    assert call.join_url not in told.args["text"]
    # someone in the channel not registered yet is registered, then told their link
    slack.add_user("U7", "eve", email="eve@uni-e.example")
    eve = as_user("U7")
    click(eve, "call_join", call)
    eve.settle()
    texts = [c.args["text"] for c in slack.calls_to("response_url")]
    eves = zoom.registrant_of(call.meeting_id, "eve@uni-e.example")["join_url"]
    assert any("You're registered" in t and eves in t for t in texts)
    # a malformed id gets a clear message
    call.id = "drop table"  # type: ignore[assignment]
    click(eve, "call_join", call)
    eve.settle()
    assert "not" in slack.calls_to("response_url")[-1].args["text"].lower()


def test_a_leader_added_with_cop_leaders_is_registered_for_a_scheduled_call(
    community, session, engine, zoom, slack, as_user, on
):
    """`/cop leaders` registers a new leader for the calls already scheduled, as `/cop
    join` does a newcomer; the leader who steps down stays a member and stays registered."""
    call = _call(session, community, datetime.now(UTC) + timedelta(days=5))
    meetings.ensure_meeting(on, call.id)
    registration_flows.register_call(on, make_web_client(on.settings), call.id)
    with session_scope(engine) as s:
        call = s.get(Call, call.id)
    assert zoom.registrant_of(call.meeting_id, "di@uni-d.example") is None
    slack.add_user("U8", "di", email="di@uni-d.example", real_name="Di Vance")
    with session_scope(engine) as s:
        s.get(type(community), community.id).team_id = TEAM_ID  # the workspace of commands
    ana = as_user("U1", "CREG0001")
    body = ana.reply("leaders <@U1> <@U8>", "CREG0001")
    assert body["text"].startswith("Done: <@U1> and <@U8> are now the leaders")
    ana.settle()
    seat = zoom.registrant_of(call.meeting_id, "di@uni-d.example")
    assert seat is not None and seat["status"] == "approved"
    with session_scope(engine) as s:
        row = registration_flows.regs.of(s, call.id, "U8")
        assert row is not None and row.state == "registered"
        assert row.join_url == seat["join_url"] and row.join_url != call.join_url
        assert registration_flows.regs.of(s, call.id, "U1").state == "registered"
    # Di's own link answers the Join button
    di = as_user("U8", "CREG0001")
    click(di, "call_join", call)
    di.settle()
    assert seat["join_url"] in slack.calls_to("response_url")[-1].args["text"]
