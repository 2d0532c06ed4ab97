"""The scheduler: every kind on time and in the right zone, exactly once (restarts, racing
schedulers on SQLite and PostgreSQL), catch-up after downtime, reschedule and cancel,
snooze and done, Slack's 429 and permanent errors. Time is passed in, never slept on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from bot.deps import Deps
from bot.scheduler import tick
from bot.services import calls as call_rules
from bot.services import communities as svc
from bot.services import plans
from bot.services import reminders as rules
from bot.services.reminders import outbox
from bot.slack_client import make_web_client
from storage.db import session_scope
from storage.models import Milestone, Reminder, utcnow
from tests.helpers.calls import CALL_DAY, Y, make_call, week_before
from tests.helpers.endpoint import STAFF
from tests.helpers.records import new_community


@pytest.fixture
def client(settings):
    return make_web_client(settings)


@pytest.fixture
def community(session):
    c = new_community(
        session, team="T0STANDIN", channel="CSCHED01", name="Survivorship", leader="U1"
    )
    svc.set_leaders(session, c, ["U1", "U2"])
    svc.join(session, c, "U5")
    session.commit()
    return c


def posts(slack, channel=None):
    return [
        c
        for c in slack.calls_to("chat.postMessage")
        if channel is None or c.args["channel"] == channel
    ]


def states(engine) -> dict[str, str]:
    with session_scope(engine) as s:
        return {f"{r.kind}:{r.recipient or ''}": r.state for r in s.exec(select(Reminder)).all()}


def test_call_reminders_fire_on_time_in_the_calls_zone(deps, client, slack, community, session):
    call = make_call(session, community)
    start = call.start_at
    assert start.astimezone().utcoffset() is not None
    week = datetime(Y, 3, CALL_DAY.day - 7, 23, 0, tzinfo=UTC)  # 17:00 CST
    assert start == datetime(Y, 3, CALL_DAY.day, 22, 0, tzinfo=UTC)  # 17:00 CDT
    day_before = start - timedelta(days=1)
    hour_before = start - timedelta(hours=1)

    assert tick(deps, client, week - timedelta(seconds=1)).sent == []
    result = tick(deps, client, week)
    assert len(result.sent) == 1 and "call_week" in result.sent[0]
    [post] = posts(slack, "CSCHED01")
    assert f"<!date^{int(start.timestamp())}^" in str(post.json_arg("blocks"))
    assert post.args["text"].startswith("In a week: Webinar #3")

    assert tick(deps, client, day_before).sent[0].startswith("call_day")
    hour = tick(deps, client, hour_before)
    assert hour.sent[0].startswith("call_hour")
    assert "zoom.example/j/1" in posts(slack, "CSCHED01")[-1].args["text"]
    follow = tick(deps, client, start + timedelta(minutes=75))
    assert follow.sent == [
        f"call_followup call {call.id} v0 due {start + timedelta(minutes=75):%Y-%m-%dT%H:%MZ} to U1"
    ]
    assert len(posts(slack)) == 4


def test_a_restart_between_passes_sends_nothing_twice(
    settings, engine, client, slack, community, session
):
    call = make_call(session, community)
    due = call.start_at - timedelta(hours=1)
    first = Deps.create(settings)
    assert tick(first, client, due).sent
    again = Deps.create(settings)  # a new process: nothing in memory
    assert tick(again, client, due).sent == []
    assert tick(again, client, due + timedelta(minutes=5)).sent == []
    # the hour, once; the week and the day before (whose moment has passed) were missed
    assert len(posts(slack)) == 1


def test_racing_schedulers_send_each_reminder_once(
    settings, engine, client, slack, community, session
):
    calls = [make_call(session, community) for _ in range(8)]
    due = calls[0].start_at - timedelta(hours=1)  # the hour; the day and week are past
    barrier = threading.Barrier(4)
    results = []

    def run(n: int) -> None:
        deps = Deps.create(settings)
        barrier.wait()
        results.append(tick(deps, client, due, worker=f"racer-{n}"))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent = [line for r in results for line in r.sent]
    assert len(sent) == len(set(sent)) == 8  # the hour reminders of eight calls
    assert len(posts(slack)) == 8
    missed = [line for r in results for line in r.missed]
    assert len(missed) == len(set(missed)) == 16  # the week and day ones, each recorded once


def test_racing_processes_send_each_reminder_once(db_url, slack, community, session, tmp_path):
    calls = [make_call(session, community) for _ in range(6)]
    due = calls[0].start_at - timedelta(hours=1)
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-tick",
        "SLACK_API_URL": slack.url,
        "DATABASE_URL": db_url,
        "COPBOT_LOG_LEVEL": "WARNING",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "tick", "--now", due.isoformat()],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=60)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    sent = [line for out in outputs for line in out.splitlines() if line.startswith("sent ")]
    assert len(sent) == len(set(sent)) == 6
    assert len(posts(slack)) == 6  # the hour reminders of six calls


def test_after_downtime_useful_reminders_go_late_and_the_rest_are_missed(
    deps, client, slack, community, session, engine
):
    call = make_call(session, community)
    two_days_late = call.start_at - timedelta(days=5)  # the week reminder is 2 days late
    result = tick(deps, client, two_days_late)
    assert [line.split()[0] for line in result.sent] == ["call_week"]
    after_start = call.start_at + timedelta(minutes=5)  # down through the day and the hour
    result = tick(deps, client, after_start)
    assert result.sent == []
    assert sorted(line.split()[0] for line in result.missed) == ["call_day", "call_hour"]
    with session_scope(engine) as s:
        assert len(rules.missed(s)) == 2


def test_reschedule_voids_and_renews_and_cancel_voids(
    deps, client, slack, community, session, engine
):
    call = make_call(session, community)
    tick(deps, client, week_before(call))
    draft, _ = call_rules.validate(
        call_rules.CallForm(
            date=(CALL_DAY + timedelta(days=2)).isoformat(),
            time="17:00",
            zone="America/Chicago",
            duration="60",
            topic="Webinar #3 (moved)",
            agenda="",
            host="U1",
            alternate="",
            kind="community",
        ),
        now=datetime(Y - 1, 6, 1, tzinfo=UTC),
        holidays_country=None,
    )
    with session_scope(engine) as s:
        moved = s.get(type(call), call.id)
        call_rules.reschedule(s, moved, draft)
    old_day = call.start_at - timedelta(days=1)
    result = tick(deps, client, old_day)
    assert not [line for line in result.sent if " v0 " in line]  # the old times are void
    # the moved call's own week reminder is late but still useful, so it goes out
    assert [line.split()[0] for line in result.sent] == ["call_week"]
    new_day = draft.start_at - timedelta(days=1)
    result = tick(deps, client, new_day)
    assert any(f"call {call.id} v1" in line and "call_day" in line for line in result.sent)
    assert "Webinar #3 (moved)" in posts(slack)[-1].args["text"]
    with session_scope(engine) as s:
        call_rules.cancel(s, s.get(type(call), call.id))
    assert tick(deps, client, draft.start_at - timedelta(hours=1)).sent == []


def test_members_who_chose_dms_get_them(deps, client, slack, community, session):
    rules.set_preference(session, community, "U5", "dm")
    session.commit()
    call = make_call(session, community)
    result = tick(deps, client, call.start_at - timedelta(hours=1))
    assert len(result.sent) >= 2
    assert posts(slack, "U5") and posts(slack, "CSCHED01")


def _agenda_due_at(settings) -> datetime:
    return datetime(Y, 5, 1, 9, 0, tzinfo=settings.zone).astimezone(UTC)


def test_agenda_nudges_then_done_stops_them(deps, client, slack, community, settings, engine):
    due = _agenda_due_at(settings)
    result = tick(deps, client, due - timedelta(days=28))
    agenda = [line for line in result.sent if line.startswith("agenda_due")]
    assert sorted(line.rsplit(" to ", 1)[1] for line in agenda) == ["U1", "U2"]
    [nudge] = posts(slack, "U1")
    assert "is due" in nudge.args["text"] and "reminder_done" in str(nudge.json_arg("blocks"))
    with session_scope(engine) as s:
        reminder = s.exec(
            select(Reminder).where(Reminder.kind == "agenda_due", Reminder.recipient == "U1")
        ).first()
        rules.done(s, reminder.series_id, "U1", due - timedelta(days=27))
    later = tick(deps, client, due - timedelta(days=14))
    assert [line for line in later.sent if line.startswith("agenda_due")] == []
    assert len(later.voided) == 2  # done for the community: both leaders' nudges stop


def test_snooze_a_week(deps, client, slack, community, settings, engine):
    due = _agenda_due_at(settings)
    tick(deps, client, due - timedelta(days=28))
    snoozed_at = due - timedelta(days=27)
    with session_scope(engine) as s:
        reminder = s.exec(
            select(Reminder).where(Reminder.kind == "agenda_due", Reminder.recipient == "U1")
        ).first()
        rules.snooze(s, reminder, snoozed_at + timedelta(days=7), "U1")
    quiet = tick(deps, client, snoozed_at + timedelta(days=6))
    assert [line for line in quiet.sent if line.startswith("agenda_due")] == []
    back = tick(deps, client, snoozed_at + timedelta(days=7))
    assert [line.rsplit(" to ", 1)[1] for line in back.sent if "agenda_due" in line] == ["U1"]


def test_overdue_agenda_says_so(deps, client, slack, community, settings):
    due = _agenda_due_at(settings)
    tick(deps, client, due + timedelta(days=1))
    assert any("overdue" in p.args["text"] for p in posts(slack, "U1"))


def test_plan_nudges_weekly_while_unfinished(deps, client, slack, community, session, engine):
    created = community.created_at
    first = tick(deps, client, created + timedelta(weeks=1))
    assert [line.split()[0] for line in first.sent if "plan_nudge" in line] == [
        "plan_nudge",
        "plan_nudge",
    ]
    assert "has 7 sections still to write: 1. " in posts(slack, "U1")[0].args["text"]
    with session_scope(engine) as s:
        c = s.get(type(community), community.id)
        for section in range(1, 8):
            from bot.services.planning_tool import section as sec

            plans.save_section(
                s,
                c,
                section,
                {
                    q.key: ("practice" if q.kind == "areas" else "done")
                    for q in sec(section).questions
                },
                "U1",
            )
    second = tick(deps, client, created + timedelta(weeks=2))
    assert [line for line in second.sent if "plan_nudge" in line] == []


def test_milestones_nudge_the_leaders(deps, client, slack, community, session):
    call = make_call(session, community)
    session.add(
        Milestone(
            community_id=community.id,
            call_id=call.id,
            kind="guide",
            title="Distribute the guide for Webinar #3",
            due_at=week_before(call),
            created_by="U1",
        )
    )
    session.commit()
    result = tick(deps, client, week_before(call))
    milestone_lines = [line for line in result.sent if line.startswith("milestone")]
    assert len(milestone_lines) == 2
    assert "Distribute the guide" in posts(slack, "U2")[0].args["text"]


def test_a_step_reminder_sent_on_time_says_when_it_is_due_a_late_one_how_late(
    deps, client, slack, community, session
):
    call = make_call(session, community)
    due = week_before(call)
    for title, at in (("Post the readings", due), ("Book the room", due - timedelta(hours=3))):
        session.add(
            Milestone(
                community_id=community.id,
                call_id=call.id,
                kind="guide",
                title=title,
                due_at=at,
                created_by="U1",
            )
        )
    session.commit()
    # the pass runs half a minute after the step's time: on time
    result = tick(deps, client, due + timedelta(seconds=30))
    assert len([line for line in result.sent if line.startswith("milestone")]) == 4
    texts = {p.args["text"].split(": ")[1].split(" (")[0]: p for p in posts(slack, "U1")}
    on_time = texts["Post the readings"]
    assert "was due" not in on_time.args["text"] and " ago" not in on_time.args["text"]
    assert "(due " in on_time.args["text"]
    assert ", due <!date^" in json.dumps(on_time.json_arg("blocks"))
    late = texts["Book the room"]
    assert "was due" in late.args["text"] and "3 hours ago" in late.args["text"]
    assert "3 hours ago" in json.dumps(late.json_arg("blocks"))


def test_slack_429_waits_for_retry_after_without_counting_an_attempt(
    deps, client, slack, community, session, engine, monkeypatch
):
    slept: list[float] = []
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:  # the pass must not wait out Retry-After itself
        slept.append(seconds)
        real_sleep(min(seconds, 0.05))

    monkeypatch.setattr(time, "sleep", sleep)
    rules.set_preference(session, community, "U5", "dm")
    session.commit()
    call = make_call(session, community)
    due = week_before(call)
    slack.fail("chat.postMessage", "ratelimited", status=429, retry_after=2, times=12)
    result = tick(deps, client, due)
    # one post tried; it and the DM behind it wait for Retry-After; the pass did not sleep
    assert result.sent == [] and len(result.deferred) == 1
    assert len(posts(slack)) == 1 and not [s for s in slept if s >= 1]
    with session_scope(engine) as s:
        rows = s.exec(select(Reminder).where(Reminder.kind == "call_week")).all()
        assert {r.state for r in rows} == {"pending"} and {r.attempts for r in rows} == {0}
        assert all(r.next_attempt_at >= due + timedelta(seconds=2) for r in rows)
    assert tick(deps, client, due + timedelta(seconds=1)).sent == []  # still waiting
    assert len(posts(slack)) == 1
    at = due
    for _ in range(11):  # rate limited more often than MAX_ATTEMPTS: never failed for it
        at += timedelta(seconds=3)
        assert tick(deps, client, at).deferred
    result = tick(deps, client, at + timedelta(seconds=3))
    assert len(result.sent) == 2 and result.failed == []
    assert len(posts(slack)) == 14


def test_permanent_errors_are_recorded_once(deps, client, slack, community, session, engine):
    call = make_call(session, community)
    slack.fail("chat.postMessage", "channel_not_found")
    result = tick(deps, client, call.start_at - timedelta(days=1))
    assert len(result.failed) == 1 and "channel_not_found" in result.failed[0]
    assert tick(deps, client, call.start_at - timedelta(days=1, minutes=-5)).failed == []
    with session_scope(engine) as s:
        [failed] = rules.failures(s)
        assert failed.kind == "call_day" and failed.last_error == "channel_not_found"


def test_transient_errors_back_off_then_send(deps, client, slack, community, session):
    call = make_call(session, community)
    call.created_at = call.start_at - timedelta(hours=2)  # only the hour reminder is due
    session.add(call)
    session.commit()
    due = call.start_at - timedelta(hours=1)
    slack.fail("chat.postMessage", "internal_error")
    result = tick(deps, client, due)
    assert result.sent == [] and len(result.retrying) == 1
    assert tick(deps, client, due + timedelta(seconds=30)).sent == []  # backing off
    assert len(tick(deps, client, due + timedelta(minutes=2)).sent) == 1


def test_a_crashed_claim_is_taken_over(deps, client, slack, community, session, engine):
    call = make_call(session, community)
    due = week_before(call)
    wall = utcnow()
    with session_scope(engine) as s:
        rules.plan_due(s, due, deps.settings.zone, (5, 1), (6, 30))
    with session_scope(engine) as s:
        _token, ids = outbox.claim(s, due, "crashed-worker", wall)
        assert ids  # then it died before posting
    assert tick(deps, client, due, clock=lambda: wall + timedelta(minutes=1)).sent == []
    later = wall + outbox.CLAIM_TIMEOUT + timedelta(seconds=1)
    assert len(tick(deps, client, due, clock=lambda: later).sent) == 1
    assert len(posts(slack)) == 1


def test_a_post_interrupted_by_a_crash_is_recorded_never_sent_twice(
    deps, client, slack, community, session, engine
):
    call = make_call(session, community)
    due = week_before(call)
    wall = utcnow()
    with session_scope(engine) as s:
        rules.plan_due(s, due, deps.settings.zone, (5, 1), (6, 30))
    with session_scope(engine) as s:
        token, [rid] = outbox.claim(s, due, "crashed-worker", wall)
        assert outbox.begin_send(s, rid, token, wall)  # then it died while posting
    assert tick(deps, client, due, clock=lambda: wall + timedelta(minutes=5)).sent == []
    result = tick(deps, client, due, clock=lambda: wall + outbox.SEND_TIMEOUT + timedelta(1))
    assert result.sent == [] and result.interrupted == 1
    with session_scope(engine) as s:
        [failed] = rules.failures(s)
        assert failed.id == rid and "may not have reached Slack" in failed.last_error
    assert posts(slack) == []


def test_the_window_queries_use_indexes(engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    with engine.connect() as conn:
        plan = " ".join(
            str(r[-1])
            for r in conn.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT * FROM call WHERE status = 'scheduled' "
                    "AND start_at >= '2027-01-01' AND start_at <= '2027-01-09'"
                )
            )
        )
        assert "ix_call_status_start" in plan
        plan = " ".join(
            str(r[-1])
            for r in conn.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT id FROM reminder WHERE state = 'pending' "
                    "AND due_at <= '2027-01-01'"
                )
            )
        )
        assert "ix_reminder_state_due" in plan


def test_staff_see_failures_on_the_home_tab(deps, client, slack, community, session, as_user):
    call = make_call(session, community)
    slack.fail("chat.postMessage", "is_archived")
    tick(deps, client, week_before(call))
    from tests.helpers.communities import home_opened

    as_user(STAFF).event(home_opened(STAFF))
    [view] = slack.wait_for("views.publish")
    shown = str(view.json_arg("view"))
    assert "is_archived" in shown and "could not be sent" in shown


def test_copbot_tick_prints_what_it_sent(db_url, slack, community, session, tmp_path):
    call = make_call(session, community)
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-tick",
        "SLACK_API_URL": slack.url,
        "DATABASE_URL": db_url,
        "COPBOT_LOG_LEVEL": "WARNING",
    }
    due = (week_before(call)).isoformat()
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "tick", "--now", due],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"sent call_week call {call.id} v0 due ")
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "tick", "--now", due],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.stdout.startswith("nothing due at")
    bad = subprocess.run(
        [sys.executable, "-m", "bot.cli", "tick", "--now", "soon"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "not an ISO-8601 instant" in bad.stderr
