"""Votes on one busy poll: `copbot serve` against the local Slack stand-in.

A leader asks a poll with `/cop poll`; then N signed Vote clicks from M members (each
member changes their mind a few times) go to copbot at a set concurrency. Prints votes/s,
p50/p99 ack latency, whether the stored votes are exactly right, and how many
`chat.update` calls the poll's message got per vote (coalesced: far fewer than one).

    .venv/bin/python bench/polls.py [--votes 2000] [--members 500] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from sandbox.slack_standin import SlackStandIn  # noqa: E402
from storage import db  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=2000)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument(
        "--database", help="DATABASE_URL, emptied first (default: a fresh SQLite file)"
    )
    args = parser.parse_args()

    url = args.database or common.sqlite_url()
    common.empty(url)  # start from an empty schema, as the tests do
    common.seed(url, 0)
    port = common.free_port()
    with SlackStandIn() as slack:
        server = common.start(
            common.serve_argv(port, args.workers, args.threads), common.server_env(slack, url), port
        )
        try:
            ask = common.command(
                'poll "Which day suits the onsite meeting?" "Monday" "Tuesday" "Wednesday" '
                '"Thursday"',
                slack.response_url("ask"),
            )
            common.send(port, [ask], 1)
            slack.wait_for("chat.postMessage", timeout=10)
            engine = db.get_engine(url)
            poll_id, options = common.latest_poll(engine)
            rng = random.Random(7)
            members = [f"UM{i:07d}" for i in range(args.members)]
            last: dict[str, int] = {}
            plan = []
            for i in range(args.votes):
                member = members[i % len(members)]
                option = rng.choice(options)
                last[member] = option
                plan.append(common.vote(member, poll_id, option, slack.response_url("v")))
            # one member's clicks must stay in order, so each member's votes are spread
            # across the run rather than sent at once (the last one wins)
            started = time.perf_counter()
            latencies = common.send(port, plan, args.concurrency)
            elapsed = time.perf_counter() - started
            # the message catches up after the last vote: wait for the update showing all
            want = f"{len(last)} voters"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                updates = slack.calls_to("chat.update")
                if updates and want in json.dumps(updates[-1].json_arg("blocks")):
                    break
                time.sleep(0.2)
            updates = slack.calls_to("chat.update")
            got = common.stored_votes(engine, poll_id)
        finally:
            common.stop([server], timeout=10)
    p50, _, p99 = common.percentiles(latencies)
    # the poll is anonymous: voters are keyed hashes, so compare the counts per option
    expected = Counter(last.values())
    exact = got == expected
    if not exact:
        print(f"expected {dict(expected)}, stored {dict(got)}")
    print(f"votes: {args.votes} from {args.members} members at concurrency {args.concurrency}")
    print(f"votes/s: {args.votes / elapsed:.0f}")
    print(f"ack latency ms: p50 {p50:.1f}, p99 {p99:.1f}")
    print(f"stored counts equal every member's last choice: {exact} ({sum(got.values())} voters)")
    caught_up = bool(updates) and want in json.dumps(updates[-1].json_arg("blocks"))
    print(
        f"chat.update calls: {len(updates)} ({len(updates) / args.votes:.3f} per vote); "
        f"the last one shows {want}: {caught_up}"
    )
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
