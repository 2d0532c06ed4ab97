"""What reminders say: late ones by the real time left (or not at all once their moment
has passed), every piece of people's text escaped in blocks and fallback text, plural
wording; and what the scheduler logs: one line per pass, no APScheduler or Alembic chatter.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from bot.blocks import reminders as rb
from bot.blocks.limits import check_message
from bot.deps import Deps
from bot.scheduler import start_background, tick
from bot.services import calls as call_rules
from bot.slack_client import make_web_client
from storage.models import Call, Community, Milestone, Reminder
from tests.helpers.records import new_community

HOSTILE = "<!channel> <@U1> <http://evil|Zoom> & |"
START = datetime(2031, 9, 16, 22, 0, tzinfo=UTC)  # 17:00 in Chicago, weeks from deadlines


@pytest.fixture
def client(settings):
    return make_web_client(settings)


@pytest.fixture
def call(session):
    community = new_community(session, team="T0STANDIN", channel="CWORD001", name="Words")
    draft, errors = call_rules.validate(
        call_rules.CallForm(
            date="2031-09-16",
            time="17:00",
            zone="America/Chicago",
            duration="60",
            topic="Webinar #4",
            agenda="",
            host="U1",
            alternate="",
            kind="community",
        ),
        now=datetime(2031, 1, 5, tzinfo=UTC),
        holidays_country=None,
    )
    assert errors == {}
    made = call_rules.create(session, community, draft, "U1", with_meeting=False)
    made.created_at = datetime(2031, 1, 5, tzinfo=UTC)
    session.add(made)
    session.commit()
    assert made.start_at == START
    return made


def _channel_posts(slack):
    return [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "CWORD001"]


def _all_text(post) -> str:
    return post.args["text"] + json.dumps(post.json_arg("blocks"))


# ---- late reminders ---------------------------------------------------------------------
def test_an_hour_reminder_sent_five_minutes_before_says_five_minutes(deps, client, slack, call):
    result = tick(deps, client, START - timedelta(minutes=5))  # down until then
    assert [line.split()[0] for line in result.sent] == ["call_hour"]
    assert sorted(line.split()[0] for line in result.missed) == ["call_day", "call_week"]
    [post] = _channel_posts(slack)
    assert post.args["text"].startswith("Starting in 5 minutes: Webinar #4")
    assert "an hour" not in _all_text(post)


def test_a_reminder_after_the_call_started_is_missed_not_sent(deps, client, slack, call):
    result = tick(deps, client, START + timedelta(minutes=10))
    assert result.sent == []
    assert sorted(line.split()[0] for line in result.missed) == [
        "call_day",
        "call_hour",
        "call_week",
    ]
    assert _channel_posts(slack) == []


def test_late_day_and_week_reminders_say_the_real_time_left(deps, client, slack, call):
    tick(deps, client, START - timedelta(days=5))  # the week reminder, two days late
    tick(deps, client, START - timedelta(hours=3))  # the day reminder, 21 hours late
    week, day = _channel_posts(slack)
    assert week.args["text"].startswith("In 5 days: Webinar #4")
    assert day.args["text"].startswith("In 3 hours: Webinar #4")


def test_on_time_reminders_keep_their_words(deps, client, slack, call):
    from zoneinfo import ZoneInfo

    local = START.astimezone(ZoneInfo("America/Chicago"))
    for at in (
        (local - timedelta(days=7)).astimezone(UTC),
        START - timedelta(days=1),
        START - timedelta(hours=1),
    ):
        tick(deps, client, at)
    leads = [p.args["text"].split(":")[0] for p in _channel_posts(slack)]
    assert leads == ["In a week", "Tomorrow", "Starting in an hour"]


@pytest.mark.parametrize(
    ("left", "words"),
    [
        (timedelta(seconds=20), "Starting now"),
        (timedelta(minutes=1), "Starting in 1 minute"),
        (timedelta(minutes=5), "Starting in 5 minutes"),
        (timedelta(minutes=59), "Starting in an hour"),
        (timedelta(hours=3), "In 3 hours"),
        (timedelta(hours=24), "Tomorrow"),
        (timedelta(hours=30), "In 30 hours"),
        (timedelta(days=2), "In 2 days"),
        (timedelta(days=7, hours=1), "In a week"),
    ],
)
def test_time_left_words(left, words):
    assert rb.time_left(START, START - left) == words


def test_deadline_wording_counts_in_days_then_hours():
    assert rb.due_in(START, START - timedelta(days=1)) == "in 24 hours"
    assert rb.due_in(START, START - timedelta(days=2)) == "in 2 days"
    assert rb.due_in(START, START - timedelta(hours=1)) == "within the hour"
    assert rb.due_in(START, START - timedelta(days=3)) == "in 3 days"


# ---- people's text never acts -------------------------------------------------------------
def _hostile_objects():
    community = Community(
        id=7, team_id="T", name=HOSTILE, name_key="x", slack_channel_id="CHOST001", created_by="U"
    )
    call = Call(
        id=9,
        community_id=7,
        start_at=START,
        timezone="America/Chicago",
        topic=HOSTILE,
        agenda=HOSTILE,
        host_user_id="UHOST001",
        created_by="UHOST001",
        join_url="https://zoom.example/j/1",
        passcode=HOSTILE,
        recording_url="https://video.example/rec",
    )
    milestone = Milestone(
        id=3, community_id=7, kind="guide", title=HOSTILE, due_at=START, created_by="U"
    )
    reminder = Reminder(
        id=5, kind="agenda_due", community_id=7, due_at=START, expires_at=START, series_id=1
    )
    return community, call, milestone, reminder


def _every_builder():
    community, call, milestone, reminder = _hostile_objects()
    now = START - timedelta(days=3)
    yield "call_reminder", rb.call_reminder("call_day", call, community, now)
    yield "followup", rb.followup(call, community)
    yield "deadline_nudge", rb.deadline_nudge(reminder, community, START, now)
    yield (
        "deadline_nudge overdue",
        rb.deadline_nudge(reminder, community, START, START + now.resolution),
    )
    yield "plan_nudge", rb.plan_nudge(reminder, community, [f"1. {HOSTILE}", "2. Members"])
    yield "milestone_nudge", rb.milestone_nudge(reminder, community, milestone, now)
    yield "links_modal", rb.links_modal(call)


@pytest.mark.parametrize(("name", "payload"), list(_every_builder()))
def test_every_reminder_builder_escapes_peoples_text(name, payload):
    shown = json.dumps(payload)
    for raw in ("<!channel>", "<@U1>", "<http://evil|Zoom>"):
        assert raw not in shown, f"{name} posts {raw} raw"
    assert "&lt;!channel&gt;" in shown
    assert "&amp; |" in shown and " & |" not in shown, name  # the ampersand too
    if "text" in payload:
        assert "&lt;!channel&gt;" in payload["text"], f"{name}: fallback text not escaped"
        assert check_message(payload) == []


def test_a_join_link_that_is_not_http_is_not_linked():
    community, call, _m, _r = _hostile_objects()
    call.join_url = "javascript:alert(1)"
    payload = rb.call_reminder("call_hour", call, community, START - timedelta(hours=1))
    assert "javascript:" not in json.dumps(payload)


def test_plan_nudge_counts_in_words():
    community, _c, _m, reminder = _hostile_objects()
    community.name = "Words"
    one = rb.plan_nudge(reminder, community, ["3. Activities"])
    assert "has 1 section still to write: 3. Activities." in one["text"]
    two = rb.plan_nudge(reminder, community, ["1. Purpose", "3. Activities"])
    assert "has 2 sections still to write: 1. Purpose and 3. Activities." in two["text"]


# ---- logs -------------------------------------------------------------------------------
def _scheduler_records(caplog, level=logging.INFO):
    return [r for r in caplog.records if r.name == "bot.scheduler" and r.levelno >= level]


def test_one_info_line_per_pass_that_did_something_and_debug_otherwise(
    deps, client, slack, call, caplog
):
    caplog.set_level(logging.DEBUG)
    tick(deps, client, START - timedelta(days=20))  # nothing due
    assert _scheduler_records(caplog) == []
    [quiet] = _scheduler_records(caplog, logging.DEBUG)
    assert quiet.getMessage().startswith("scheduler pass now=")
    caplog.clear()
    tick(deps, client, START - timedelta(minutes=5))
    [line] = _scheduler_records(caplog)
    assert re.fullmatch(
        r"scheduler pass now=2031-09-16T21:55:00Z planned=3 sent=1 late=1 missed=2 void=0 "
        r"deferred=0 retrying=0 failed=0 taken_over=0 ms=\d+",
        line.getMessage(),
    ), line.getMessage()


def test_background_passes_log_no_apscheduler_info(settings, client, slack, session, caplog):
    caplog.set_level(logging.INFO)
    quick = dataclasses.replace(settings, scheduler_interval=0.1)
    scheduler = start_background(Deps.create(quick), client)
    try:
        time.sleep(0.6)  # several passes
    finally:
        scheduler.shutdown(wait=True)
    chatter = [r.getMessage() for r in caplog.records if r.name.startswith("apscheduler")]
    assert [m for m in chatter if "Running job" in m or "executed successfully" in m] == []


def test_copbot_tick_logs_no_alembic_lines(db_url, slack, session, tmp_path):
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-tick",
        "SLACK_API_URL": slack.url,
        "DATABASE_URL": db_url,
        "COPBOT_LOG_LEVEL": "INFO",
    }
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "tick", "--now", "2031-01-05T00:00:00Z"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "alembic" not in out.stderr
    assert out.stdout.startswith("nothing due at")
