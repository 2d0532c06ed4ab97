"""Attendance at scale: a year of 30 calls with 300 participants each, imported from the
Zoom stand-in by the scheduler's after-call work, then the health view for 300
communities.

Prints seconds per call (participants read in two pages, rejoins merged, emails matched
to Slack: half known from profiles, the rest asked with users.lookupByEmail, a third of
the people not in Slack at all), database queries per participant, and the time to build
the health of 300 communities.

    .venv/bin/python bench/attendance.py [--calls 30] [--participants 300] [--communities 300]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.deps import Deps  # noqa: E402
from bot.flows import after_call  # noqa: E402
from bot.services import calls as call_rules  # noqa: E402
from bot.services import health  # noqa: E402
from bot.slack_client import make_web_client  # noqa: E402
from sandbox import zoom_standin as zs  # noqa: E402
from sandbox.slack_standin import SlackStandIn  # noqa: E402
from storage import db  # noqa: E402
from storage.models import (  # noqa: E402
    Attendance,
    Call,
    CallAttendance,
    Community,
    Membership,
    Person,
)

YEAR_START = datetime(2026, 8, 3, 16, 0, tzinfo=UTC)


def _call(c: int, k: int, start: datetime, meeting_id: int | None) -> dict:
    return common.call_row(
        c,
        f"Call {k}",
        start,
        YEAR_START,
        kind="community",
        meeting_state="ready",
        meeting_id=meeting_id,
        needs_planning=False,
    )


def fill_year(url: str, slack: SlackStandIn, zoom: zs.ZoomStandIn, calls: int, people: int):
    """One community, `calls` calls a week apart, `people` participants at each: two
    thirds in Slack (members), half of those with an email copbot knows already."""
    engine = db.get_engine(url)
    in_slack = people * 2 // 3
    with engine.begin() as conn:
        conn.execute(insert(Community), [common.community_row(1, YEAR_START)])
        conn.execute(
            insert(Person),
            [
                common.person_row(f"U{i:07d}", f"p{i}@example.org" if i % 2 == 0 else None)
                for i in range(in_slack)
            ],
        )
        conn.execute(
            insert(Membership),
            [common.membership_row(1, f"U{i:07d}", i < 2, YEAR_START) for i in range(in_slack)],
        )
        starts = [YEAR_START + timedelta(days=7 * k) for k in range(calls)]
        conn.execute(insert(Call), [_call(1, k, s, 90000000000 + k) for k, s in enumerate(starts)])
    for i in range(in_slack):
        slack.add_user(f"U{i:07d}", f"p{i}", email=f"p{i}@example.org")
        # users of the organisation's Zoom account: Zoom shows their emails (a guest's,
        # only if they registered)
        zoom.add_user(f"p{i}@example.org")
    for k, start in enumerate(starts):
        records = []
        for i in range(people):
            email = f"p{i}@example.org" if i < in_slack else None
            m = lambda n, at=start: at + timedelta(minutes=n)  # noqa: E731
            if i % 10 == 0:  # one in ten drops out and rejoins
                records.append(zs_participant(f"P{i}", email, m(0), m(20)))
                records.append(zs_participant(f"P{i}", email, m(25), m(60)))
            else:
                records.append(zs_participant(f"P{i}", email, m(0), m(55)))
        zoom.add_past_meeting(90000000000 + k, f"uuid{k}==", start, records)
    return starts


def zs_participant(name: str, email: str | None, join: datetime, leave: datetime) -> dict:
    return {
        "id": "",
        "name": name,
        "user_email": email or "",
        "join_time": join.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "leave_time": leave.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration": int((leave - join).total_seconds()),
    }


def fill_health(url: str, communities: int, calls: int) -> None:
    """Communities 2.. with 12 members and `calls` calls each, attendance stored."""
    engine = db.get_engine(url)
    ids = range(2, communities + 2)
    with engine.begin() as conn:
        conn.execute(insert(Community), [common.community_row(c, YEAR_START) for c in ids])
        people = [(c, f"W{c:04d}{m:02d}", m < 2) for c in ids for m in range(12)]
        conn.execute(insert(Person), [common.person_row(uid) for _, uid, _ in people])
        conn.execute(
            insert(Membership),
            [common.membership_row(c, uid, leader, YEAR_START) for c, uid, leader in people],
        )
        rows = [
            _call(c, k, YEAR_START + timedelta(days=30 * k), None)
            for c in ids
            for k in range(calls)
        ]
        conn.execute(insert(Call), rows)
        made = conn.execute(Call.__table__.select().where(Call.community_id >= 2)).all()
        conn.execute(
            insert(CallAttendance),
            [
                {"call_id": r.id, "came": 8, "members": 6, "first_timers": 1}
                | {"guests": 2, "minutes": 400, "counted_at": YEAR_START}
                for r in made
            ],
        )
        conn.execute(
            insert(Attendance),
            [
                {
                    "call_id": r.id,
                    "community_id": r.community_id,
                    "slack_user_id": f"W{r.community_id:04d}{m:02d}",
                    "minutes": 50,
                    "member": True,
                    "first_time": False,
                    "attended_at": r.start_at,
                }
                for r in made
                for m in range(6)
            ],
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--participants", type=int, default=300)
    parser.add_argument("--communities", type=int, default=300)
    args = parser.parse_args()

    url = common.sqlite_url()
    db.upgrade(url)
    engine = db.get_engine(url)
    queries = common.Counts(engine)
    with SlackStandIn() as slack, zs.ZoomStandIn() as zoom:
        starts = fill_year(url, slack, zoom, args.calls, args.participants)
        settings = Settings.from_mapping(
            {
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "DATABASE_URL": url,
                "SLACK_API_URL": slack.url,
                "ZOOM_ACCOUNT_ID": zs.ACCOUNT_ID,
                "ZOOM_CLIENT_ID": zs.CLIENT_ID,
                "ZOOM_CLIENT_SECRET": zs.CLIENT_SECRET,
                "ZOOM_API_URL": zoom.api_url,
                "ZOOM_OAUTH_URL": zoom.oauth_url,
            }
        )
        deps, client = Deps.create(settings), make_web_client(settings)
        per_call, per_participant = [], []
        for start in starts:
            now = start + timedelta(minutes=80)
            queries.reset()
            began = time.perf_counter()
            result = after_call.run(deps, client, now, now)
            per_call.append(time.perf_counter() - began)
            per_participant.append(queries.statements / args.participants)
            assert len(result.attendance) == 1, result
        lookups = len(slack.calls_to("users.lookupByEmail"))
        pages = len(zoom.calls_to("GET /past_meetings/{meetingUUID}/participants"))
        assert zoom.violations == [] and slack.violations == []
    with db.session_scope(engine) as session:
        counted = session.get(CallAttendance, 1)
    print(
        f"{args.calls} calls x {args.participants} participants: "
        f"{sum(per_call) / len(per_call):.3f} s per call (slowest {max(per_call):.3f} s), "
        f"{sum(per_participant) / len(per_participant):.2f} queries per participant; "
        f"{pages} participant pages and {lookups} users.lookupByEmail in all; "
        f"first call: {counted.came} came, {counted.members} members, {counted.guests} not in Slack"
    )

    fill_health(url, args.communities, 6)
    today = starts[-1] + timedelta(days=1)
    first, end = call_rules.program_year(today.date(), (8, 1))
    with db.session_scope(engine) as session:
        queries.reset()
        began = time.perf_counter()
        rows = health.build(session, today, first, end, "America/Chicago")
        took = time.perf_counter() - began
    print(f"health of {len(rows)} communities: {took * 1000:.0f} ms, {queries.statements} queries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
