"""After the call in `copbot sandbox`: its Zoom stand-in says who came to a call it made,
`POST /zoom/events` is served with the sandbox's secret, and a pass reads attendance.
The sandbox's leaders and members come from outside its Zoom account: they count as
members because copbot registered them, each with a link of their own."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from bot.flows import registrations as registration_flows
from bot.services import communities as svc
from sandbox import world
from sandbox import zoom_webhooks as zw
from sandbox.server import Sandbox
from storage.db import session_scope
from storage.models import Attendance, CallAttendance, utcnow
from tests.helpers.records import ended_call, new_community


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    running = Sandbox(tmp_path_factory.mktemp("after-call"), 0).start().serve_in_background()
    yield running
    running.stop()


def test_a_call_in_the_sandbox_gets_its_attendance_from_a_webhook(sandbox):
    start = utcnow() - timedelta(hours=2)
    meeting_id = 86000000001
    sandbox.zoom.meetings[meeting_id] = {
        "id": meeting_id,
        "uuid": "sandboxUUID==",
        "topic": "Sandbox call",
        "start_time": f"{start:%Y-%m-%dT%H:%M:%SZ}",
        "duration": 60,
        "join_url": f"{sandbox.url}/zoom/j/{meeting_id}?pwd=standin",
        "type": 2,
        "settings": {"approval_type": 0, "registration_type": 1},
    }
    with session_scope(sandbox.deps.engine) as session:
        community = new_community(session, channel="CDATA0001", leader="ULEAD001", team="T0")
        for person in world.PEOPLE[3:]:
            svc.join(session, community, person.id)
        session.commit()
        call = ended_call(session, community, start, meeting_id=meeting_id, message_ts=None)
        call.registration = "on"
        session.add(call)
        session.commit()
        call_id = call.id
        # registered while the call was still to come (its status is what counts here)
    done = registration_flows.register_call(sandbox.deps, sandbox.client, call_id)
    assert sorted(done.registered) == ["ULEAD001", "UMEMB001", "UMEMB002", "UMEMB003"]
    own = sandbox.zoom.registrant_of(meeting_id, "kenji@example.org")
    assert own["join_url"].startswith(f"{sandbox.url}/zoom/j/{meeting_id}?tk=")
    page = requests.get(own["join_url"], timeout=10).text
    assert "Your own link: registered as Kenji Sato (kenji@example.org)" in page
    body = zw.webhook("meeting.ended", {"id": meeting_id, "uuid": f"held{meeting_id}=="})
    answer = requests.post(
        f"{sandbox.url}/zoom/events",
        data=body,
        headers=zw.sign_webhook(world.ZOOM_WEBHOOK_SECRET, body),
        timeout=10,
    )
    assert answer.status_code == 200
    sandbox.clock.run_pass()
    with session_scope(sandbox.deps.engine) as session:
        counted = session.get(CallAttendance, call_id)
        # Ana and the three members (registered); Ben, a leader of another community who
        # is not registered for this call, and the guest: Zoom hides their emails
        assert (counted.came, counted.members, counted.guests) == (6, 4, 2)
        kenji = session.exec(
            Attendance.__table__.select().where(Attendance.slack_user_id == "UMEMB001")
        ).one()
        assert kenji.minutes == 57  # left at 55, came back for the last two
