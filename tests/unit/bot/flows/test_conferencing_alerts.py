"""A Zoom scope missing at run time (Zoom's code 4711): the leader reads which scope,
never "Zoom failed"; staff get a direct message naming the scope to add, once (not on
every refused call, not once per pass or worker: the database decides); once the app
holds it again, losing it later is told again."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.flows import calls as call_flows
from bot.flows import conferencing_alerts as alert_flow
from bot.flows.conferencing_alerts import warn_missing_scopes
from bot.scheduler import tick
from integrations import zoom_scopes
from storage.db import session_scope
from storage.models import Call, ConferencingAlert, MeetingState
from tests.helpers.endpoint import STAFF
from tests.helpers.records import ended_call, new_community

WRITE = "meeting:write:meeting:admin"


@pytest.fixture
def community(session, slack):
    c = new_community(session, channel="CSCOPES1", leader="U1")
    session.commit()
    return c


def _call(engine, community, days: int) -> int:
    with session_scope(engine) as s:
        call = Call(
            community_id=community.id,
            start_at=datetime.now(UTC) + timedelta(days=days),
            timezone="America/Chicago",
            topic=f"Webinar {days}",
            host_user_id="U1",
            created_by="U1",
            meeting_state=MeetingState.PENDING.value,
        )
        s.add(call)
        s.flush()
        return call.id


def _staff_dms(slack) -> list[str]:
    return [
        str(c.args)
        for c in slack.calls_to("chat.postMessage")
        if c.args.get("channel") == STAFF and "lacks the scope" in str(c.args)
    ]


def _leader_dms(slack) -> list[str]:
    return [str(c.args) for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "U1"]


def _without(*names: str) -> list[str]:
    return [s for s in zoom_scopes.needed() if s not in names]


def test_the_leader_reads_the_scope_and_staff_are_told_once(
    live, client, zoom, slack, engine, community, settings
):
    zoom.scopes = _without(WRITE)
    first = _call(engine, community, 10)
    call_flows.after_schedule(client, live, first, "U1")
    [dm] = _leader_dms(slack)
    assert WRITE in dm and "staff are told" in dm and "did not answer" not in dm
    with session_scope(engine) as s:
        assert s.get(Call, first).meeting_state == "pending"
    tick(live, client, datetime.now(UTC))
    [told] = _staff_dms(slack)
    assert f"`{WRITE}`" in told and "+ Add Scopes" in told and "create a call" in told

    second = _call(engine, community, 20)  # refused again: the leader hears it, staff not
    call_flows.after_schedule(client, live, second, "U1")
    tick(live, client, datetime.now(UTC) + timedelta(minutes=1))
    assert WRITE in _leader_dms(slack)[-1]
    assert len(_staff_dms(slack)) == 1

    # a Zoom admin adds the scope: start-up sees it granted and forgets the alert
    zoom.scopes = zoom_scopes.needed()
    zoom.expire_tokens()
    assert warn_missing_scopes(settings, live.conferencing, engine) == []
    with session_scope(engine) as s:
        assert s.exec(select(ConferencingAlert)).all() == []
    call_flows.after_schedule(client, live, second, "U1")  # Retry: the meeting is made
    with session_scope(engine) as s:
        assert s.get(Call, second).meeting_state == "ready"

    # lost again later: told again
    zoom.scopes = _without(WRITE)
    zoom.expire_tokens()
    call_flows.after_schedule(client, live, _call(engine, community, 30), "U1")
    tick(live, client, datetime.now(UTC) + timedelta(minutes=2))
    assert len(_staff_dms(slack)) == 2


def test_after_the_call_a_missing_scope_is_told_to_staff_too(
    live, client, zoom, slack, engine, session, community
):
    zoom.scopes = _without("meeting:read:list_past_instances:admin")
    start = datetime.now(UTC) - timedelta(hours=3)
    ended_call(session, community, start, meeting_id=85000000777)
    tick(live, client, start + timedelta(minutes=80))  # refused: noted
    tick(live, client, start + timedelta(minutes=81))  # the next pass tells staff
    [told] = _staff_dms(slack)
    assert "meeting:read:list_past_instances:admin" in told
    assert "find the instances of a call's meeting" in told
    with session_scope(engine) as s:
        [alert] = s.exec(select(ConferencingAlert)).all()
        assert alert.permission == "meeting:read:list_past_instances:admin"
        assert alert.told_at is not None


def test_racing_passes_tell_staff_once(live, client, zoom, slack, engine, community):
    zoom.scopes = _without(WRITE)
    call_flows.after_schedule(client, live, _call(engine, community, 10), "U1")
    barrier = threading.Barrier(4)
    sent: list[list[str]] = []

    def one_pass():
        barrier.wait()
        sent.append(alert_flow.run_due(live, client, datetime.now(UTC)))

    threads = [threading.Thread(target=one_pass) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(s) for s in sent) == [0, 0, 0, 1]
    assert len(_staff_dms(slack)) == 1


def test_when_slack_does_not_take_it_a_later_pass_tells_staff(
    live, client, zoom, slack, engine, community
):
    zoom.scopes = _without(WRITE)
    call_flows.after_schedule(client, live, _call(engine, community, 10), "U1")
    slack.fail("chat.postMessage", "channel_not_found")
    assert alert_flow.run_due(live, client, datetime.now(UTC)) == []
    with session_scope(engine) as s:
        assert s.exec(select(ConferencingAlert)).one().told_at is None
    assert alert_flow.run_due(live, client, datetime.now(UTC)) == [
        f"missing_scope {WRITE} to 1 staff"
    ]
    assert len(_staff_dms(slack)) == 2  # the one Slack refused, then the one it took
    assert alert_flow.run_due(live, client, datetime.now(UTC)) == []
