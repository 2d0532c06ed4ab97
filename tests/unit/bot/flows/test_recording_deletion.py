"""Zoom deletes cloud recordings on the account's schedule (`auto_delete_date`): the date
is stored with the archived recording, shown beside its link, and the leaders are told
once, a week before, by the scheduler (also with two passes at once: the database
decides)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from bot.flows import recording_deletion
from bot.scheduler import tick
from bot.services import communities as svc
from bot.services import recordings
from integrations.zoom.after_call import recording_of
from sandbox.slack_standin import TEAM_ID
from storage.db import session_scope
from storage.models import Call, CallResource, CallStatus
from tests.helpers.records import ended_call, new_community

MEETING = 85000000456
SHARE = "https://zoom.example/rec/share/abc"
CHANNEL = "CDELETE1"


@pytest.fixture
def community(session, slack):
    c = new_community(session, channel=CHANNEL, leader="U1", name="Survivorship", team=TEAM_ID)
    svc.set_leaders(session, c, ["U1", "U2"])
    session.commit()
    return c


def _archive(live, client, zoom, session, community, start, deletes_on):
    call = ended_call(session, community, start, meeting_id=MEETING)
    zoom.add_past_meeting(MEETING, "r==", start, [])
    zoom.add_recording(MEETING, "r==", SHARE, "pw1", start=start, deletes_on=deletes_on)
    tick(live, client, start + timedelta(minutes=95))
    return call


def _leader_dms(slack) -> list:
    return [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.args.get("channel") in ("U1", "U2") and "Zoom deletes" in str(c.args)
    ]


def test_zoom_s_auto_delete_date_is_read_as_zoom_sends_it():
    found = recording_of(
        {"share_url": SHARE, "auto_delete": True, "auto_delete_date": "2027-03-01"}
    )
    assert found.deletes_on == date(2027, 3, 1)
    kept = recording_of({"share_url": SHARE, "auto_delete": False})
    assert kept.deletes_on is None


def test_the_stand_in_sends_the_account_s_deletion_date(zoom):
    start = datetime(2027, 1, 20, 18, tzinfo=UTC)
    sent = zoom.add_recording(MEETING, "r==", SHARE, start=start)
    assert sent["auto_delete"] is True and sent["auto_delete_date"] == "2027-02-19"
    zoom.retention_days = None
    assert "auto_delete_date" not in zoom.add_recording(MEETING, "r==", SHARE, start=start)


def test_the_date_is_kept_and_shown_beside_the_archived_link(
    live, client, zoom, slack, session, engine, community, as_user
):
    start = datetime.now(UTC) - timedelta(hours=3)
    deletes_on = (start + timedelta(days=30)).date()
    _archive(live, client, zoom, session, community, start, deletes_on)
    with session_scope(engine) as s:
        [item] = s.exec(select(CallResource)).all()
        assert item.deletes_on == deletes_on
    shown = f"Zoom deletes it on {deletes_on:%b %-d, %Y}"
    [post] = [c for c in slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert shown in str(post.args)  # the thread post
    body = as_user("U1", CHANNEL).reply("resources")  # the archive
    assert shown in str(body["blocks"]) and SHARE in str(body["blocks"])


def test_leaders_are_told_once_a_week_before(
    live, client, zoom, slack, session, engine, community, settings
):
    start = datetime.now(UTC) - timedelta(hours=3)
    deletes_on = (start + timedelta(days=30)).date()
    _archive(live, client, zoom, session, community, start, deletes_on)
    noon = datetime.combine(deletes_on, datetime.min.time(), tzinfo=settings.zone) + timedelta(
        hours=12
    )
    result = tick(live, client, noon - timedelta(days=8))
    assert result.owner and _leader_dms(slack) == []  # the pass ran: not a week yet
    tick(live, client, noon - timedelta(days=7))
    dms = _leader_dms(slack)
    assert sorted(c.args["channel"] for c in dms) == ["U1", "U2"]
    text = str(dms[0].args)
    assert f"{deletes_on:%A, %b %-d, %Y}" in text and "in 7 days" in text and SHARE in text
    tick(live, client, noon - timedelta(days=6))
    tick(live, client, noon - timedelta(days=1))
    assert len(_leader_dms(slack)) == 2  # once


def test_a_recording_without_a_date_or_of_a_cancelled_call_is_not_told(
    live, client, zoom, slack, session, engine, community
):
    start = datetime.now(UTC) - timedelta(hours=3)
    call = _archive(live, client, zoom, session, community, start, None)
    today = datetime.now(UTC).date()
    with session_scope(engine) as s:
        assert recordings.deletions_to_tell(s, today) == []
        item = s.exec(select(CallResource)).one()
        item.deletes_on = today + timedelta(days=3)
        s.add(item)
        s.get(Call, call.id).status = CallStatus.CANCELLED.value
    with session_scope(engine) as s:
        assert recordings.deletions_to_tell(s, today) == []


def test_two_passes_at_once_tell_the_leaders_once(
    live, client, zoom, slack, session, engine, community
):
    start = datetime.now(UTC) - timedelta(hours=3)
    _archive(live, client, zoom, session, community, start, (start + timedelta(days=5)).date())
    barrier = threading.Barrier(4)
    sent: list[list[str]] = []

    def one_pass():
        barrier.wait()
        sent.append(recording_deletion.run_due(live, client, datetime.now(UTC)))

    threads = [threading.Thread(target=one_pass) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(s) for s in sent) == [0, 0, 0, 1]
    assert len(_leader_dms(slack)) == 2
