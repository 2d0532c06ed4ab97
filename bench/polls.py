"""Votes on one busy poll: `copbot serve` against the local Slack stand-in.

A leader asks a poll with `/cop poll`; then N signed Vote clicks from M members (each
member changes their mind a few times) go to copbot at a set concurrency. Prints votes/s,
p50/p99 ack latency, whether the stored votes are exactly right, and how many
`chat.update` calls the poll's message got per vote (coalesced: far fewer than one).

    .venv/bin/python bench/polls.py [--votes 2000] [--members 500] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import MetaData  # noqa: E402

from bench.ack_latency import CHANNEL, SECRET, free_port, percentiles, seed, start  # noqa: E402
from sandbox import slack_payloads as payloads  # noqa: E402
from sandbox.slack_standin import TEAM_ID, SlackStandIn  # noqa: E402
from storage import db  # noqa: E402


def raw(body: str, content_type: str = "application/x-www-form-urlencoded") -> bytes:
    headers = payloads.signed_headers(SECRET, body, content_type=content_type)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (
        f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}"
        f"Content-Length: {len(body.encode())}\r\n\r\n{body}"
    ).encode()


def vote_request(user_id: str, poll_id: int, option_id: int, response_url: str, n: int) -> bytes:
    """The `n`th click: like Slack, each has its own trigger_id and action_ts (the replay
    layer would rightly answer a repeated one without counting it)."""
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM_ID},
        "user": {"id": user_id},
        "api_app_id": "A0COPBOT",
        "trigger_id": f"{n}.{n}.trigger",
        "response_url": response_url,
        "container": {"type": "message", "channel_id": CHANNEL, "message_ts": "1.1"},
        "channel": {"id": CHANNEL},
        "actions": [
            {
                "type": "button",
                "action_id": "poll_vote",
                "value": f"{poll_id}:{option_id}",
                "block_id": "b",
                "action_ts": f"1700000000.{n:06d}",
            }
        ],
    }
    return raw(urlencode({"payload": json.dumps(payload)}))


def send_all(port: int, requests: list[bytes], concurrency: int) -> list[float]:
    local = threading.local()

    def one(request: bytes) -> float:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.connect()
        started = time.perf_counter()
        conn.sock.sendall(request)
        response = http.client.HTTPResponse(conn.sock)
        response.begin()
        response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise RuntimeError(f"bad answer {response.status}")
        if response.will_close:
            conn.close()
            local.conn = None
        return elapsed * 1000

    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(one, requests))


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

    url = args.database or f"sqlite:///{tempfile.mkdtemp(prefix='copbot-bench-')}/bench.db"
    if not db.is_sqlite(url):  # start from an empty schema, as the tests do
        meta = MetaData()
        meta.reflect(db.get_engine(url))
        meta.drop_all(db.get_engine(url))
    seed(url, 0)
    port = free_port()
    with SlackStandIn() as slack:
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.url,
            "DATABASE_URL": url,
            "COPBOT_LOG_LEVEL": "WARNING",
        }
        argv = [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1"]
        argv += ["--port", str(port), "--workers", str(args.workers)]
        argv += ["--threads", str(args.threads), "--no-scheduler"]
        server = start(argv, env, port)
        try:
            ask = payloads.slash_command(
                'poll "Which day suits the onsite meeting?" "Monday" "Tuesday" "Wednesday" '
                '"Thursday"',
                user_id="U0LEAD1",
                channel_id=CHANNEL,
                response_url=slack.response_url("ask"),
            )
            send_all(port, [raw(ask)], 1)
            slack.wait_for("chat.postMessage", timeout=10)
            engine = db.get_engine(url)
            with engine.connect() as conn:
                poll_id = conn.exec_driver_sql("SELECT max(id) FROM poll").scalar()
                options = [
                    r[0]
                    for r in conn.exec_driver_sql(
                        f"SELECT id FROM poll_option WHERE poll_id = {int(poll_id)} ORDER BY id"
                    )
                ]
            rng = random.Random(7)
            members = [f"UM{i:07d}" for i in range(args.members)]
            last: dict[str, int] = {}
            plan = []
            for i in range(args.votes):
                member = members[i % len(members)]
                option = rng.choice(options)
                last[member] = option
                plan.append(vote_request(member, poll_id, option, slack.response_url("v"), i))
            # one member's clicks must stay in order, so each member's votes are spread
            # across the run rather than sent at once (the last one wins)
            started = time.perf_counter()
            latencies = send_all(port, plan, args.concurrency)
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
            with engine.connect() as conn:
                stored = dict(
                    conn.exec_driver_sql(
                        f"SELECT voter, option_id FROM poll_vote WHERE poll_id = {int(poll_id)}"
                    ).all()
                )
        finally:
            server.terminate()
            server.wait(10)
    p50, _, p99 = percentiles(latencies)
    # the poll is anonymous: voters are keyed hashes, so compare the counts per option
    expected = Counter(last.values())
    got = Counter(stored.values())
    exact = got == expected and len(stored) == len(last)
    if not exact:
        print(f"expected {dict(expected)}, stored {dict(got)}")
    print(f"votes: {args.votes} from {args.members} members at concurrency {args.concurrency}")
    print(f"votes/s: {args.votes / elapsed:.0f}")
    print(f"ack latency ms: p50 {p50:.1f}, p99 {p99:.1f}")
    print(f"stored counts equal every member's last choice: {exact} ({len(stored)} voters)")
    caught_up = bool(updates) and want in json.dumps(updates[-1].json_arg("blocks"))
    print(
        f"chat.update calls: {len(updates)} ({len(updates) / args.votes:.3f} per vote); "
        f"the last one shows {want}: {caught_up}"
    )
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
