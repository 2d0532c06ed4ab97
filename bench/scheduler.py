"""Scheduler passes at scale: 5,000 communities, 30,000 calls and their members.

Times a pass with nothing due and a pass with 2,000 reminders due (posted to the local
Slack stand-in), printing passes and messages per second, queries per pass, and the query
plans showing the due-window reads use indexes.

    .venv/bin/python bench/scheduler.py [--communities 5000] [--calls 30000] [--due 2000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.deps import Deps  # noqa: E402
from bot.scheduler import tick  # noqa: E402
from bot.services.reminders import LOOKBACK  # noqa: E402
from bot.slack_client import make_web_client  # noqa: E402
from sandbox.slack_standin import SlackStandIn  # noqa: E402
from storage import db  # noqa: E402
from storage.models import Call, Community, Membership, Person  # noqa: E402

NOW = datetime(2027, 9, 15, 15, 0, tzinfo=UTC)  # no agenda or report deadline near
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)


def fill(url: str, communities: int, calls: int, due: int, members: int) -> None:
    engine = db.get_engine(url)
    rng = random.Random(7)
    with engine.begin() as conn:
        conn.execute(
            insert(Person), [common.person_row(f"U{i:07d}") for i in range(communities * members)]
        )
        conn.execute(
            insert(Community), [common.community_row(c + 1, LONG_AGO) for c in range(communities)]
        )
        conn.execute(
            insert(Membership),
            [
                common.membership_row(c + 1, f"U{c * members + m:07d}", m < 2, LONG_AGO)
                for c in range(communities)
                for m in range(members)
            ],
        )
        rows = []
        for i in range(calls):
            if i < due:  # starts in an hour, made two hours ago: only its hour reminder
                start, created = NOW + timedelta(hours=1), NOW - timedelta(hours=2)
            else:  # anywhere in the year, but not within a month of NOW
                offset = rng.choice([-1, 1]) * rng.randint(40, 330)
                start, created = NOW + timedelta(days=offset), LONG_AGO
            rows.append(common.call_row(i % communities + 1, f"Call {i}", start, created))
        conn.execute(insert(Call), rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=5000)
    parser.add_argument("--calls", type=int, default=30000)
    parser.add_argument("--due", type=int, default=2000)
    parser.add_argument("--members", type=int, default=8)
    args = parser.parse_args()

    url = common.sqlite_url()
    db.upgrade(url)
    started = time.perf_counter()
    fill(url, args.communities, args.calls, args.due, args.members)
    print(
        f"filled {args.communities} communities, {args.calls} calls, "
        f"{args.communities * args.members} memberships in {time.perf_counter() - started:.1f} s"
    )

    engine = db.get_engine(url)
    queries = common.Counts(engine)
    with engine.connect() as conn:
        for label, sql in (
            (
                "calls in the due window",
                "SELECT * FROM call WHERE status = 'scheduled' AND "
                "start_at >= '2027-09-01' AND start_at <= '2027-09-22'",
            ),
            (
                "due reminders",
                "SELECT id FROM reminder WHERE state = 'pending' AND "
                "due_at <= '2027-09-15 15:00:00'",
            ),
            (
                "communities made lately",
                "SELECT * FROM community WHERE created_at >= "
                "'2027-07-10' AND created_at <= '2027-09-08'",
            ),
        ):
            plan = "; ".join(str(r[-1]) for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))
            print(f"query plan, {label}: {plan}")

    with SlackStandIn() as slack:
        settings = Settings.from_mapping(
            {"SLACK_BOT_TOKEN": "xoxb-bench", "DATABASE_URL": url, "SLACK_API_URL": slack.url}
        )
        deps, client = Deps.create(settings), make_web_client(settings)

        quiet_at = NOW - timedelta(days=3)  # nothing is due then
        queries.reset()
        started = time.perf_counter()
        assert not tick(deps, client, quiet_at).sent
        print(
            f"first pass (plans all {args.calls} new calls, reads back {LOOKBACK.days} days): "
            f"{(time.perf_counter() - started) * 1000:.0f} ms, {queries.statements} queries"
        )
        runs = 60
        queries.reset()
        started = time.perf_counter()
        for minute in range(1, runs + 1):  # passes a minute apart, as they run
            result = tick(deps, client, quiet_at + timedelta(minutes=minute))
            assert not result.sent, result.sent[:3]
        elapsed = (time.perf_counter() - started) / runs
        print(
            f"pass with nothing due: {elapsed * 1000:.1f} ms "
            f"({1 / elapsed:.0f} passes/s), {queries.statements / runs:.0f} queries per pass"
        )

        queries.reset()
        started = time.perf_counter()
        result = tick(deps, client, NOW)
        elapsed = time.perf_counter() - started
        sent = len(result.sent)
        print(
            f"pass with {sent} reminders due: {elapsed:.2f} s, {sent / elapsed:.0f} messages/s, "
            f"{queries.statements} queries ({queries.statements / max(sent, 1):.1f} per message); "
            f"{len(slack.calls_to('chat.postMessage'))} messages reached the stand-in"
        )
        again = tick(deps, client, NOW)
        print(f"the same instant again: {len(again.sent)} sent (exactly once)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
