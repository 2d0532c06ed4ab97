"""After the call when Slack says no, through the scheduler's after-call pass: a
recording whose post in the thread failed is given back and posted on the job's retry;
value questions and email lookups that meet Slack's rate limit wait its Retry-After,
with no attempt counted and nothing given up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.flows import after_call
from bot.services import communities as svc
from bot.services import value
from storage.db import session_scope
from storage.models import AfterCallJob, CallAttendance, CallResource, Person, ValueQuestion
from tests.helpers.records import ended_call, new_community, participant

MEETING = 85000000777
CHANNEL = "CRETRY01"
REC = "https://zoom.example/rec/share/retry"
WAIT = timedelta(seconds=1)  # Slack says Retry-After 0: copbot waits at least a second


@pytest.fixture
def community(session, slack, zoom):
    # users of the Zoom account: Zoom shows their emails without registration
    for email in ("ana@example.org", "bo@example.org", "visitor@elsewhere.example"):
        zoom.add_user(email)
    c = new_community(session, channel=CHANNEL, leader="U1")
    svc.join(session, c, "U5")
    person = session.get(Person, "U1") or Person(slack_user_id="U1")
    person.email = "ana@example.org"
    session.add(person)
    session.commit()
    slack.add_user("U1", "ana", email="ana@example.org")
    slack.add_user("U5", "bo", email="bo@example.org")
    return c


def _job(engine, call_id: int, kind: str) -> AfterCallJob:
    with session_scope(engine) as s:
        job = s.exec(
            select(AfterCallJob).where(AfterCallJob.call_id == call_id, AfterCallJob.kind == kind)
        ).one()
        s.expunge(job)
    return job


def _run(live, client, now: datetime) -> after_call.AfterCallResult:
    return after_call.run(live, client, now, datetime.now(UTC))


def test_a_recording_post_slack_refused_is_posted_on_the_job_s_retry(
    live, client, community, session, engine, zoom, slack
):
    start = datetime.now(UTC) - timedelta(hours=3)
    call = ended_call(session, community, start, meeting_id=MEETING)
    zoom.add_past_meeting(MEETING, "rec==", start, [])
    zoom.add_recording(MEETING, "rec==", REC, "pw")
    slack.fail("chat.postMessage", "internal_error")
    now = start + timedelta(minutes=95)
    result = _run(live, client, now)
    assert result.retrying == [call.id] and result.recordings == []
    job = _job(engine, call.id, "recording")
    assert (job.state, job.attempts) == ("pending", 1) and job.due_at > now
    assert "Slack did not take the post" in job.last_error
    with session_scope(engine) as s:
        [item] = s.exec(select(CallResource)).all()
        assert item.posted_at is None  # the claim was given back
    result = _run(live, client, job.due_at + timedelta(seconds=1))
    assert result.recordings == [call.id]
    _run(live, client, job.due_at + timedelta(hours=2))
    posts = [c for c in slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert len(posts) == 2 and REC in str(posts[-1].args)  # the refused one, then one post
    assert _job(engine, call.id, "recording").state == "done"
    with session_scope(engine) as s:
        assert s.exec(select(CallResource)).one().posted_at is not None


def test_a_rate_limited_value_question_waits_and_is_sent_then(
    live, client, community, session, engine, slack
):
    start = datetime.now(UTC) - timedelta(days=2)
    call = ended_call(session, community, start, meeting_id=MEETING)
    assert value.plan_try(session, call, ["U1", "U5"]) == 2
    session.commit()
    due = datetime.now(UTC) + timedelta(days=1)
    # Slack answers 429 to the first question and to the client's 3 retries of it
    slack.fail("chat.postMessage", "ratelimited", status=429, retry_after=0, times=4)
    result = after_call.AfterCallResult()
    after_call.send_questions(live, client, due, datetime.now(UTC), result)
    assert result.asked == []
    assert len(slack.calls_to("chat.postMessage")) == 4  # the batch stopped there
    with session_scope(engine) as s:
        rows = s.exec(select(ValueQuestion)).all()
        assert {(q.state, q.due_at) for q in rows} == {("pending", due + WAIT)}
    after_call.send_questions(live, client, due, datetime.now(UTC), result)
    assert result.asked == []  # not before Slack's wait
    after_call.send_questions(live, client, due + WAIT, datetime.now(UTC), result)
    assert len(result.asked) == 2
    with session_scope(engine) as s:
        assert {q.state for q in s.exec(select(ValueQuestion)).all()} == {"sent"}


def test_email_lookups_slack_rate_limits_wait_without_using_up_attempts(
    live, client, community, session, engine, zoom, slack
):
    start = datetime.now(UTC) - timedelta(hours=3)
    call = ended_call(session, community, start, meeting_id=MEETING)
    end = start + timedelta(minutes=60)
    zoom.add_past_meeting(
        MEETING,
        "look==",
        start,
        [
            participant("Ana", "ana@example.org", join=start, leave=end),
            participant("Bo", "bo@example.org", join=start, leave=end),
            participant("Visitor", "visitor@elsewhere.example", join=start, leave=end),
        ],
    )
    now = start + timedelta(minutes=80)
    # more rate-limited passes than the job's attempts: none counts
    for _ in range(6):
        slack.fail("users.lookupByEmail", "ratelimited", status=429, retry_after=0, times=4)
        result = _run(live, client, now)
        assert result.retrying == [call.id] and result.unavailable == []
        job = _job(engine, call.id, "attendance")
        assert (job.state, job.attempts, job.due_at) == ("pending", 0, now + WAIT)
        assert "rate limit" in job.last_error
        now += WAIT
    result = _run(live, client, now)
    assert result.attendance == [call.id]
    with session_scope(engine) as s:
        counted = s.get(CallAttendance, call.id)
        assert (counted.came, counted.members) == (3, 2)
