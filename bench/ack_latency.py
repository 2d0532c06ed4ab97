"""How fast copbot acknowledges Slack, path by path, beside a bare Bolt app that only acks.

Both apps run at once on gunicorn with the same workers and threads, against the local
Slack stand-in and one seeded database (a fresh SQLite file, or the PostgreSQL database
given by `--database-url`, emptied first). For each path, signed requests go to one app
and then the other, in rounds that alternate which goes first, so both meet the same
machine load:

- `command`: `/cop help`, `/cop calls` and `/cop members` in turn;
- `button`: the plan modal's Back button (saves the section, then `views.update`);
- `vote`: Vote clicks on one anonymous poll, each member changing their mind;
- `modal`: the plan's section submitted (saved, answered with `response_action: update`
  and the next section's view).

Prints p50/p95/p99 per path and app, copbot's ratio to the bare app, the server CPU per
request, and whether the stored votes equal each member's last click. By default each
of the 20 clients sends its next request the moment it has an answer, which keeps the
server saturated (latency then follows CPU per request); `--rate N` sends N requests a
second on a schedule instead, as people click, counting each from when it was due.

    .venv/bin/python bench/ack_latency.py [--requests 300] [--concurrency 20] [--rate 20]
        [--database-url postgresql://...] [--paths command button vote modal]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
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

from bot.blocks import plan as plan_blocks  # noqa: E402
from bot.blocks import polls as poll_blocks  # noqa: E402
from bot.services import communities  # noqa: E402
from bot.services.planning_tool import section  # noqa: E402
from sandbox import slack_payloads as payloads  # noqa: E402
from sandbox.slack_standin import TEAM_ID, SlackStandIn  # noqa: E402
from storage import db  # noqa: E402

SECRET = "bench-signing-secret"
CHANNEL = "CBENCH001"
LEADER = "U0LEAD1"
PATHS = ("command", "button", "vote", "modal")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def empty(url: str) -> None:
    """Drop every table of a PostgreSQL database (the benchmark starts from nothing)."""
    if db.is_sqlite(url):
        return
    engine = db.get_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    meta.drop_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


def seed(url: str, members: int) -> int:
    """A community with two leaders and `members` members; its id."""
    db.upgrade(url)
    with db.session_scope(db.get_engine(url)) as session:
        c = communities.create(
            session,
            communities.NewCommunity(
                team_id=TEAM_ID,
                channel_id=CHANNEL,
                name="Bench community",
                mission="",
                description="",
                areas=(),
                created_by=LEADER,
                first_leader=LEADER,
            ),
        )
        communities.set_leaders(session, c, [LEADER, "U0LEAD2"])
        for i in range(members):
            communities.join(session, c, f"U{i:08d}")
        community_id = c.id
    db.dispose_engines()
    return community_id


def start(argv: list[str], env: dict[str, str], port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                time.sleep(1.0)  # let every worker finish booting
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"server on port {port} did not start: {argv}")


def raw(body: str, content_type: str = "application/x-www-form-urlencoded") -> bytes:
    """One signed HTTP/1.1 request (signed up front: the load costs the client little)."""
    headers = payloads.signed_headers(SECRET, body, content_type=content_type)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (
        f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}"
        f"Content-Length: {len(body.encode())}\r\n\r\n{body}"
    ).encode()


def interactive(payload: dict) -> bytes:
    return raw(urlencode({"payload": json.dumps(payload)}))


_serial = iter(range(1, 10**9))


def command(text: str, response_url: str) -> bytes:
    return raw(
        payloads.slash_command(text, user_id=LEADER, channel_id=CHANNEL, response_url=response_url)
    )


def vote(user_id: str, poll_id: int, option_id: int, response_url: str) -> bytes:
    """A Vote click as Slack sends it: each with its own trigger_id and action_ts."""
    n = next(_serial)
    return interactive(
        {
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
                    "action_id": poll_blocks.VOTE_ACTION,
                    "value": f"{poll_id}:{option_id}",
                    "block_id": "b",
                    "action_ts": f"1700000000.{n:06d}",
                }
            ],
        }
    )


def section_state(number: int, words: str) -> dict:
    state = {}
    for q in section(number).questions:
        if q.kind == "areas":
            value = payloads.input_value("checkboxes", ["relationships", "practice"])
        else:
            value = payloads.input_value("plain_text_input", f"{words}: {q.key}")
        state[q.key] = {"value": value}
    return state


def section_submission(community_id: int, words: str) -> bytes:
    """Section 2 of the plan saved: copbot answers with section 3 (response_action)."""
    return interactive(
        payloads.view_submission_payload(
            plan_blocks.SECTION_CALLBACK,
            section_state(2, words),
            user_id=LEADER,
            private_metadata=plan_blocks.metadata(community_id, 2),
            view_id=f"VB{next(_serial):08d}",
        )
    )


def back_click(community_id: int, words: str) -> bytes:
    """The plan modal's Back button on section 3 (a click inside a modal)."""
    n = next(_serial)
    payload = payloads.block_action_payload(
        plan_blocks.BACK_ACTION,
        "3",
        user_id=LEADER,
        view={
            "type": "modal",
            "callback_id": plan_blocks.SECTION_CALLBACK,
            "private_metadata": plan_blocks.metadata(community_id, 3),
        },
        state_values=section_state(3, words),
        view_id=f"VK{n:08d}",
    )
    payload["actions"][0]["action_ts"] = f"1700000001.{n:06d}"
    return interactive(payload)


def send(
    port: int, requests: list[bytes], concurrency: int, rate: float | None = None
) -> list[float]:
    """Send over `concurrency` keep-alive connections; each request's latency in ms. With
    `rate`, request i is due at i/rate seconds (an open loop, as people click) and its
    latency counts from when it was due, so a client waiting for a free connection
    counts too; without, each connection sends its next request at once (a closed loop:
    the server is kept saturated)."""
    local = threading.local()
    begin = time.perf_counter()
    due = iter(range(len(requests)))
    due_lock = threading.Lock()

    def one(request: bytes) -> float:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.connect()
        started = time.perf_counter()
        if rate:
            with due_lock:
                at = begin + next(due) / rate
            if at > started:
                time.sleep(at - started)
            started = at
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


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (gunicorn's workers), in seconds."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid] + [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return q[49], q[94], q[98]


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="timed requests per path")
    parser.add_argument("--rounds", type=int, default=3, help="alternations per path")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--paths", nargs="+", choices=PATHS, default=list(PATHS))
    parser.add_argument(
        "--database-url", help="a PostgreSQL DATABASE_URL, emptied first (default: SQLite)"
    )
    parser.add_argument("--no-scheduler", action="store_true", help="copbot serve without passes")
    parser.add_argument(
        "--rate",
        type=float,
        help="requests a second per app, arriving on a schedule (an open loop); "
        "default: each client sends its next request at once (saturated)",
    )
    args = parser.parse_args()

    url = args.database_url or (f"sqlite:///{tempfile.mkdtemp(prefix='copbot-bench-')}/bench.db")
    empty(url)
    community_id = seed(url, args.members)
    members = [f"U{i:08d}" for i in range(args.members)]
    rng = random.Random(7)
    samples: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], float] = {}
    last_vote: dict[str, int] = {}
    with SlackStandIn() as slack:
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.url,
            "DATABASE_URL": url,
            "COPBOT_LOG_LEVEL": "WARNING",
        }
        gunicorn = ["-w", str(args.workers), "-k", "gthread", "--threads", str(args.threads)]
        bare_port, copbot_port = free_port(), free_port()
        serve = [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1"]
        serve += ["--port", str(copbot_port), "--workers", str(args.workers)]
        serve += ["--threads", str(args.threads)]
        serve += ["--no-scheduler"] if args.no_scheduler else []
        servers = {
            "bare": start(
                [sys.executable, "-m", "gunicorn", "bench.bare_app:application"]
                + ["-b", f"127.0.0.1:{bare_port}", *gunicorn, "--log-level", "warning"],
                env,
                bare_port,
            ),
            "copbot": start(serve, env, copbot_port),
        }
        ports = {"bare": bare_port, "copbot": copbot_port}
        try:
            # a poll to vote on, asked the way a leader asks it
            ask = command(
                'poll "Which day suits the onsite meeting?" "Monday" "Tuesday" "Wednesday"',
                slack.response_url("ask"),
            )
            send(copbot_port, [ask], 1)
            slack.wait_for("chat.postMessage", timeout=10)
            with db.get_engine(url).connect() as conn:
                poll_id = conn.exec_driver_sql("SELECT max(id) FROM poll").scalar()
                options = [
                    r[0]
                    for r in conn.exec_driver_sql(
                        f"SELECT id FROM poll_option WHERE poll_id = {int(poll_id)} ORDER BY id"
                    )
                ]
            db.dispose_engines()
            texts = ["help", "calls", "members"]

            def batch(path: str, app: str, size: int) -> list[bytes]:
                url_ = slack.response_url(path)
                if path == "command":
                    return [command(texts[i % 3], url_) for i in range(size)]
                if path == "vote":
                    out = []  # a member clicks once a batch: their last click is clear
                    for member in rng.sample(members, min(size, len(members))):
                        option = rng.choice(options)
                        if app == "copbot":
                            last_vote[member] = option
                        out.append(vote(member, poll_id, option, url_))
                    return out
                words = [f"{app} answer {rng.randrange(10**6)}" for _ in range(size)]
                if path == "button":
                    return [back_click(community_id, w) for w in words]
                return [section_submission(community_id, w) for w in words]

            per_round = max(1, args.requests // args.rounds)
            for path in args.paths:
                for app in ("bare", "copbot"):  # warm-up: connections, caches, imports
                    send(
                        ports[app],
                        batch(path, app, min(60, per_round)),
                        args.concurrency,
                        args.rate,
                    )
                for r in range(args.rounds):
                    order = ("bare", "copbot") if r % 2 == 0 else ("copbot", "bare")
                    for app in order:
                        requests = batch(path, app, per_round)
                        before = tree_cpu_seconds(servers[app].pid)
                        samples.setdefault((path, app), []).extend(
                            send(ports[app], requests, args.concurrency, args.rate)
                        )
                        spent = tree_cpu_seconds(servers[app].pid) - before
                        cpu[(path, app)] = cpu.get((path, app), 0.0) + spent
            # the votes: what is stored must be each member's last click
            time.sleep(1.0)
            with db.get_engine(url).connect() as conn:
                stored = Counter(
                    r[0]
                    for r in conn.exec_driver_sql(
                        f"SELECT option_id FROM poll_vote WHERE poll_id = {int(poll_id)}"
                    )
                )
        finally:
            for proc in servers.values():
                proc.terminate()
            for proc in servers.values():
                proc.wait(timeout=30)

    database = "PostgreSQL" if not db.is_sqlite(url) else "SQLite"
    arrivals = (
        f"arriving at {args.rate:g} a second (open loop)"
        if args.rate
        else "each client sending its next at once (saturated)"
    )
    print(
        f"{database}; {arrivals}; {per_round * args.rounds} timed requests per path and app in "
        f"{args.rounds} alternating rounds; {args.concurrency} concurrent clients; "
        f"{args.workers} workers x {args.threads} threads each; {args.members} members; "
        f"{os.cpu_count()} cores; load average after: {load_average()}"
    )
    print(
        f"{'path':<8} {'app':<7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'CPU ms/req':>10}"
        f"   {'ratio p50':>9} {'p99':>5}"
    )
    for path in args.paths:
        bare = percentiles(samples[(path, "bare")])
        for app in ("bare", "copbot"):
            p50, p95, p99 = percentiles(samples[(path, app)])
            per = cpu[(path, app)] * 1000 / len(samples[(path, app)])
            ratio = f"   {p50 / bare[0]:9.2f} {p99 / bare[2]:5.2f}" if app == "copbot" else ""
            print(f"{path:<8} {app:<7} {p50:7.1f} {p95:7.1f} {p99:7.1f} {per:10.2f}{ratio}")
    if "vote" in args.paths:
        exact = stored == Counter(last_vote.values())
        print(
            f"votes stored equal each member's last click: {exact} ({sum(stored.values())} voters)"
        )
        return 0 if exact else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
