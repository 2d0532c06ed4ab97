"""After the call, through the scheduler's pass against the Zoom stand-in (no webhooks):
attendance read from every page of participants with rejoins merged, matched to Slack by
email, no email of anyone outside the community stored; failures retried then shown as
"attendance unavailable"; recordings polled and posted once; racing passes read once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import MetaData, text
from sqlmodel import select

from bot.deps import Deps
from bot.flows import after_call
from bot.scheduler import tick
from bot.services import communities as svc
from bot.slack_client import make_web_client
from integrations.zoom.after_call import uuid_path
from storage.db import session_scope
from storage.models import AfterCallJob, Attendance, CallAttendance, CallResource, Person
from tests.helpers.endpoint import make_settings, zoom_env
from tests.helpers.records import ended_call, new_community, participant

MEETING = 85000000123
PARTICIPANTS = "GET /past_meetings/{meetingUUID}/participants"
GUEST_EMAIL = "outsider@elsewhere.example"
NONMEMBER_EMAIL = "carl@example.org"


@pytest.fixture
def community(session, slack, zoom):
    # they use the organisation's Zoom account: Zoom shows their emails without registration
    for email in ("ana@example.org", "bo@example.org", "cy@example.org"):
        zoom.add_user(email)
    zoom.add_user(NONMEMBER_EMAIL)
    zoom.add_user(GUEST_EMAIL)
    c = new_community(session, channel="CAFTER01", leader="U1")
    svc.set_leaders(session, c, ["U1", "U2"])
    for uid in ("U5", "U6"):
        svc.join(session, c, uid)
    session.commit()
    slack.add_user("U1", "ana", email="ana@example.org")
    slack.add_user("U5", "bo", email="Bo@Example.org")
    slack.add_user("U6", "cy", email="cy@example.org")
    slack.add_user("U7", "carl", email=NONMEMBER_EMAIL)  # in Slack, not in the community
    # copbot knows Ana's email from her profile already: no lookup for her
    person = session.get(Person, "U1") or Person(slack_user_id="U1")
    person.email = "ana@example.org"
    session.add(person)
    session.commit()
    return c


def _records(start: datetime) -> list[dict]:
    m = lambda k: start + timedelta(minutes=k)  # noqa: E731
    records = [
        participant("Ana", "ana@example.org", join=m(0), leave=m(60)),
        # Bo drops twice and comes back; the third join overlaps the second (two devices)
        participant("Bo", "bo@example.org", join=m(0), leave=m(20)),
        participant("Bo", "BO@example.org", join=m(25), leave=m(50)),
        participant("Bo phone", "bo@example.org", join=m(45), leave=m(60)),
        participant("Carl", NONMEMBER_EMAIL, join=m(5), leave=m(35)),
        participant("Visitor", GUEST_EMAIL, join=m(0), leave=m(10)),
        # a guest without email who rejoins: one person by their name
        participant("Dr. Guest", None, join=m(0), leave=m(5)),
        participant("dr. guest", None, join=m(10), leave=m(30)),
    ]
    # enough people without email to need a second page (Zoom pages at 300)
    records += [
        participant(f"Caller {n}", None, join=m(0), leave=m(30), zoom_id=f"z{n}")
        for n in range(300)
    ]
    return records


def test_uuid_encoding_follows_zoom_s_rule():
    assert uuid_path("abc+def==") == "abc%2Bdef%3D%3D"
    assert uuid_path("/abc==") == "%252Fabc%253D%253D"
    assert uuid_path("ab//cd==") == "ab%252F%252Fcd%253D%253D"
    assert uuid_path("ab/cd") == "ab%2Fcd"  # one slash inside: encoded once


def test_a_pass_reads_every_page_merges_rejoins_and_stores_no_outsider_email(
    live, client, community, session, engine, zoom, slack
):
    start = datetime.now(UTC) - timedelta(hours=3)
    call = ended_call(session, community, start, meeting_id=MEETING)
    zoom.add_past_meeting(MEETING, "/instUUID//x==", start, _records(start))
    # before the end and the 15 minutes after it, nothing is asked
    tick(live, client, start + timedelta(minutes=70))
    assert zoom.calls_to(PARTICIPANTS) == []
    result = tick(live, client, start + timedelta(minutes=76))
    assert result.after_call.attendance == [call.id]
    pages = zoom.calls_to(PARTICIPANTS)
    assert len(pages) == 2 and pages[1].params.get("next_page_token")
    assert all("%252F%252F" in p.path for p in pages)
    with session_scope(engine) as s:
        counted = s.get(CallAttendance, call.id)
        # Ana, Bo, Carl (Slack), the visitor, Dr. Guest and 300 callers
        assert (counted.came, counted.members, counted.guests) == (305, 2, 302)
        assert counted.first_timers == 3
        minutes = dict(
            s.exec(
                select(Attendance.slack_user_id, Attendance.minutes).where(
                    Attendance.call_id == call.id
                )
            ).all()
        )
        assert minutes == {"U1": 60, "U5": 55, "U7": 30}
        members = set(
            s.exec(select(Attendance.slack_user_id).where(Attendance.member.is_(True))).all()
        )
        assert members == {"U1", "U5"}
        assert counted.minutes == 60 + 55 + 30 + 10 + 25 + 300 * 30
    # Ana's email was known: only the others were looked up
    looked_up = {c.args["email"] for c in slack.calls_to("users.lookupByEmail")}
    assert "ana@example.org" not in looked_up and GUEST_EMAIL in looked_up
    # no email of anyone outside the community is stored anywhere; a member's is kept on
    # their profile (as users.info gives it), so the next call needs no lookup
    _assert_nowhere(engine, [GUEST_EMAIL, NONMEMBER_EMAIL, "Dr. Guest"])
    with session_scope(engine) as s:
        assert s.get(Person, "U5").email == "bo@example.org"
        assert s.get(Person, "U7") is None or s.get(Person, "U7").email is None
    # a later pass does not read it again
    tick(live, client, start + timedelta(hours=5))
    assert len(zoom.calls_to(PARTICIPANTS)) == 2


def _assert_nowhere(engine, needles: list[str]) -> None:
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(table.select()).all():
                flat = " ".join(str(v) for v in row).lower()
                for needle in needles:
                    assert needle.lower() not in flat, (table.name, needle)


def test_first_timers_count_only_first_calls_of_the_community(
    live, client, community, session, engine, zoom
):
    first = datetime.now(UTC) - timedelta(days=8)
    second = datetime.now(UTC) - timedelta(days=1)
    a = ended_call(session, community, first, meeting_id=MEETING)
    b = ended_call(session, community, second, meeting_id=MEETING + 1)
    m = lambda at, k: at + timedelta(minutes=k)  # noqa: E731
    ana = participant("Ana", "ana@example.org", join=first, leave=m(first, 30))
    zoom.add_past_meeting(MEETING, "first==", first, [ana])
    zoom.add_past_meeting(
        MEETING + 1,
        "second==",
        second,
        [
            participant("Ana", "ana@example.org", join=second, leave=m(second, 30)),
            participant("Cy", "cy@example.org", join=second, leave=m(second, 30)),
        ],
    )
    tick(live, client, datetime.now(UTC))
    with session_scope(engine) as s:
        assert s.get(CallAttendance, a.id).first_timers == 1
        assert s.get(CallAttendance, b.id).first_timers == 1  # Cy; Ana came before


@pytest.mark.parametrize("status", [429, 404])
def test_failures_are_retried_then_shown_as_unavailable_with_the_reason(
    live, client, community, session, engine, zoom, status
):
    start = datetime.now(UTC) - timedelta(hours=3)
    call = ended_call(session, community, start, meeting_id=MEETING)
    if status == 429:
        zoom.add_past_meeting(MEETING, "busy==", start, [])
        zoom.fail(PARTICIPANTS, 429, retry_after=0, times=1000)
    # 404: no instance at all, as Zoom answers for a meeting no one joined
    now = start + timedelta(minutes=80)
    states = []
    for _ in range(5):
        result = tick(live, client, now)
        states.append(bool(result.after_call.unavailable))
        with session_scope(engine) as s:
            job = s.exec(
                select(AfterCallJob).where(
                    AfterCallJob.call_id == call.id, AfterCallJob.kind == "attendance"
                )
            ).one()
        now = max(now, job.due_at) + timedelta(seconds=1)
    assert states == [False, False, False, False, True]
    assert job.state == "unavailable" and job.attempts == 5
    reason = "rate limit" if status == 429 else "no record"
    assert reason in job.last_error
    with session_scope(engine) as s:
        assert s.get(CallAttendance, call.id) is None
    if status == 429:
        zoom.reset()  # the stand-in's scripted failures are not left for later tests


def test_attendance_off_reads_nothing(db_url, slack, zoom, community, session, engine):
    settings = make_settings(db_url, slack.url, COPBOT_ATTENDANCE="off", **zoom_env(zoom))
    deps = Deps.create(settings)
    start = datetime.now(UTC) - timedelta(hours=3)
    ended_call(session, community, start, meeting_id=MEETING)
    zoom.add_past_meeting(MEETING, "u==", start, _records(start)[:3])
    tick(deps, make_web_client(settings), datetime.now(UTC))
    assert zoom.calls_to(PARTICIPANTS) == []
    with session_scope(engine) as s:
        kinds = s.exec(select(AfterCallJob.kind)).all()
    assert kinds == ["recording"]


def test_racing_passes_read_a_call_once(live, client, community, session, engine, zoom):
    start = datetime.now(UTC) - timedelta(hours=3)
    calls = [
        ended_call(session, community, start + timedelta(minutes=k), meeting_id=MEETING + k)
        for k in range(6)
    ]
    for k, call in enumerate(calls):
        end = call.start_at + timedelta(minutes=9)
        ana = participant("Ana", "ana@example.org", join=call.start_at, leave=end)
        zoom.add_past_meeting(MEETING + k, f"race{k}==", call.start_at, [ana])
    now = datetime.now(UTC)
    done: list[list[int]] = []
    barrier = threading.Barrier(4)

    def work() -> None:
        barrier.wait()
        done.append(after_call.run(live, client, now, datetime.now(UTC)).attendance)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    read = sorted(c for ids in done for c in ids)
    assert read == sorted(c.id for c in calls)
    assert len(zoom.calls_to(PARTICIPANTS)) == 6
    with session_scope(engine) as s:
        assert len(s.exec(select(Attendance)).all()) == 6


def test_recordings_are_polled_archived_and_posted_in_the_thread_once(
    live, client, community, session, engine, zoom, slack
):
    start = datetime.now(UTC) - timedelta(hours=3)
    call = ended_call(session, community, start, meeting_id=MEETING)
    zoom.add_past_meeting(MEETING, "r==", start, [])
    now = start + timedelta(minutes=95)
    tick(live, client, now)  # no recording yet: Zoom answers 404, asked again later
    with session_scope(engine) as s:
        job = s.exec(select(AfterCallJob).where(AfterCallJob.kind == "recording")).one()
    assert job.state == "pending" and job.attempts == 1
    zoom.add_recording(MEETING, "r==", "https://zoom.example/rec/share/xyz", "pw1")
    tick(live, client, job.due_at + timedelta(seconds=1))
    tick(live, client, job.due_at + timedelta(hours=1))
    posts = [c for c in slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert len(posts) == 1 and posts[0].args["channel"] == "CAFTER01"
    assert "https://zoom.example/rec/share/xyz" in str(posts[0].args)
    with session_scope(engine) as s:
        [item] = s.exec(select(CallResource)).all()
        assert item.url == "https://zoom.example/rec/share/xyz"
        assert s.execute(text("select recording_url from call")).scalar_one() == item.url
    assert call.id == item.call_id


def test_a_lapsed_claim_is_taken_over_and_only_the_new_holder_may_finish(
    community, session, engine
):
    from bot.services import after_call_jobs as jobs

    start = datetime.now(UTC) - timedelta(hours=3)
    call = ended_call(session, community, start, meeting_id=MEETING)
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        assert jobs.open_jobs(s, now, webhooks=False, attendance=True) == 2
        assert jobs.open_jobs(s, now, webhooks=False, attendance=True) == 0
    with session_scope(engine) as s:
        old, [job_id] = jobs.claim(s, "attendance", now, now)
    with session_scope(engine) as s:
        assert jobs.claim(s, "attendance", now, now + timedelta(minutes=5))[1] == []
        new, taken = jobs.claim(s, "attendance", now, now + timedelta(minutes=11))
    assert taken == [job_id] and new != old
    with session_scope(engine) as s:
        assert not jobs.finish(s, job_id, old, now)
        assert jobs.finish(s, job_id, new, now)
        assert jobs.job_of(s, call.id, "attendance").state == "done"


def test_an_unexpected_failure_is_retried_with_its_name_for_staff(
    live, client, community, session, engine, zoom, monkeypatch
):
    from bot.services import attendance

    start = datetime.now(UTC) - timedelta(hours=3)
    call = ended_call(session, community, start, meeting_id=MEETING)
    zoom.add_past_meeting(MEETING, "u==", start, _records(start)[:2])

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(attendance, "record", broken)
    result = tick(live, client, start + timedelta(minutes=80))
    assert result.after_call.retrying == [call.id]
    with session_scope(engine) as s:
        job = s.exec(select(AfterCallJob).where(AfterCallJob.kind == "attendance")).one()
    assert job.state == "pending" and job.last_error == "copbot failed (RuntimeError); see its log"


def test_the_meeting_facts_are_chosen_by_configuration(db_url, slack, zoom):
    """Zoom's facts, read with the conferencing's own client, when Zoom is configured;
    none when it is not."""
    with_zoom = Deps.create(make_settings(db_url, slack.url, **zoom_env(zoom)))
    assert with_zoom.meeting_facts.configured
    assert with_zoom.meeting_facts.zoom.client is with_zoom.conferencing.client
    without = Deps.create(make_settings(db_url, slack.url))
    assert not without.meeting_facts.configured and not without.conferencing.configured
