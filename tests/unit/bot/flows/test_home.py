"""App Home is read in one unit of work: each publish, for staff and for a leader, takes
one database connection and publishes one view."""

from __future__ import annotations

import json
from datetime import timedelta

from slack_sdk import WebClient
from sqlalchemy import event

from bot.flows import home
from sandbox.slack_standin import TEAM_ID
from storage.models import Announcement, utcnow
from tests.helpers.endpoint import STAFF
from tests.helpers.records import ended_call, new_community


def test_each_home_is_read_in_one_unit_of_work(deps, slack, session, engine):
    c = new_community(session, name="Alpha", channel="CONEHOME", leader="U1")
    ended_call(session, c, utcnow() + timedelta(days=3))
    session.add(Announcement(team_id=TEAM_ID, text="Hi", created_by=STAFF, state="sent"))
    session.commit()
    client = WebClient(token="xoxb-test-token", base_url=slack.url)
    checkouts: list[object] = []

    def checked_out(*_args) -> None:
        checkouts.append(1)

    event.listen(engine, "checkout", checked_out)
    try:
        for n, user in enumerate((STAFF, "U1"), start=1):
            home.publish(client, deps, user)
            assert len(checkouts) == n, f"{user}'s Home took {len(checkouts)} connections"
    finally:
        event.remove(engine, "checkout", checked_out)
    published = slack.calls_to("views.publish")
    staff, leader = [call.json_arg("view") for call in published[-2:]]
    assert [call.args["user_id"] for call in published[-2:]] == [STAFF, "U1"]
    assert "Announcements" in json.dumps(staff) and "Alpha" in json.dumps(leader)
