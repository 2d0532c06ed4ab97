"""Scale-out on one PostgreSQL: 1, 2 and 4 `copbot serve` hosts behind a round-robin client.

copbot's answer past one machine is stateless `copbot serve` processes behind a load
balancer and one PostgreSQL, which decides every race. For each host count this starts
that many `copbot serve` processes (each its own port, same database, same Slack
stand-in), asks a fresh poll, and sends signed Vote clicks to the hosts in turn at a set
concurrency (each member clicks once per round, rounds one after another, so each
member's last click is known). It prints votes/s and p50/p99 per host count, whether
the stored votes equal each member's last click exactly, and what bound the rate,
named from measurement: the machine's CPU (busy share, and how it splits between the
copbot hosts, PostgreSQL's backends and the client), PostgreSQL (its backends' share,
and lock waits seen in pg_stat_activity), or Slack's rate (calls made per minute
against the documented tier of each method).

    .venv/bin/python bench/scaleout.py --database-url postgresql://postgres@127.0.0.1:5433/NAME
        [--votes 1200] [--members 400] [--concurrency 20] [--hosts 1 2 4]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from sandbox.slack_standin import SlackStandIn  # noqa: E402
from storage import db  # noqa: E402

# Slack's documented tier of the Web API methods a vote leads to (per workspace, per
# method): chat.update is Tier 3, about 50 calls a minute
TIER_PER_MINUTE = {"chat.update": 50}


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def self_cpu() -> float:
    """This process's user + system CPU, in seconds."""
    t = os.times()
    return t.user + t.system


class Postgres:
    """The database's own backends (this database only) and their lock waits."""

    def __init__(self, url: str):
        self.engine = db.get_engine(url)
        self.lock_waits = 0
        self.samples = 0
        self._stop = threading.Event()

    def backends(self) -> list[int]:
        with self.engine.connect() as conn:
            return [
                r[0]
                for r in conn.exec_driver_sql(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ]

    def watch(self) -> threading.Thread:
        """Sample pg_stat_activity every 50 ms: how often a backend waits on a lock."""

        def run() -> None:
            with self.engine.connect() as conn:
                while not self._stop.wait(0.05):
                    waiting = conn.exec_driver_sql(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                        "current_database() AND wait_event_type = 'Lock'"
                    ).scalar()
                    self.lock_waits += int(waiting or 0)
                    self.samples += 1
                    conn.rollback()

        self._stop.clear()
        self.lock_waits = self.samples = 0
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    def stop(self, thread: threading.Thread) -> None:
        self._stop.set()
        thread.join()


def run(args, url: str, slack: SlackStandIn, hosts: int, env: dict[str, str]) -> dict:
    ports = [common.free_port() for _ in range(hosts)]
    servers = [
        common.start(common.serve_argv(port, args.workers, args.threads), env, port)
        for port in ports
    ]
    pg = Postgres(url)
    try:
        slack.reset()
        ask = common.command(
            'poll "Which day?" "Monday" "Tuesday" "Wednesday"', slack.response_url()
        )
        common.send(ports[:1], [ask], 1)
        slack.wait_for("chat.postMessage", timeout=15)
        poll_id, options = common.latest_poll(pg.engine)
        members = [f"U{i:08d}" for i in range(args.members)]
        rng = random.Random(hosts)
        last: dict[str, int] = {}
        rounds = []
        left = args.votes
        while left > 0:
            chunk = []
            for member in rng.sample(members, min(left, len(members))):
                option = rng.choice(options)
                last[member] = option
                chunk.append(common.vote(member, poll_id, option, slack.response_url("v")))
            rounds.append(chunk)
            left -= len(chunk)
        warm = [
            common.vote(m, poll_id, options[0], slack.response_url("w")) for m in ("UW1", "UW2")
        ]
        common.send(ports, warm * hosts, 2)
        pg_before = {pid: common.pid_cpu([pid]) for pid in pg.backends()}
        copbot_before = sum(common.tree_cpu_seconds(s.pid) for s in servers)
        client_before = self_cpu()
        busy_before, total_before = machine_cpu()
        updates_before = len(slack.calls_to("chat.update"))
        watcher = pg.watch()
        started = time.perf_counter()
        latencies = []
        for chunk in rounds:
            latencies += common.send(ports, chunk, args.concurrency)
        elapsed = time.perf_counter() - started
        pg.stop(watcher)
        busy, total = machine_cpu()
        copbot_cpu = sum(common.tree_cpu_seconds(s.pid) for s in servers) - copbot_before
        # backends opened during the run count from zero
        pg_cpu = sum(common.pid_cpu([pid]) - pg_before.get(pid, 0.0) for pid in pg.backends())
        client_cpu = self_cpu() - client_before
        updates = len(slack.calls_to("chat.update")) - updates_before
        rate_limited = len(slack.rate_limited)
        time.sleep(2.0)  # the last refresh of the poll's message
        stored = common.stored_votes(pg.engine, poll_id)
    finally:
        common.stop(servers, timeout=40)
    p50, _, p99 = common.percentiles(latencies)
    cores = os.cpu_count() or 1
    wall_cpu = elapsed * cores
    # the poll is anonymous (voters are keyed hashes), so the exact check is on the
    # counts: every member's last click, plus the two warm-up voters' first option
    expected = Counter(last.values())
    expected[options[0]] += 2
    return {
        "hosts": hosts,
        "votes": len(latencies),
        "per_second": len(latencies) / elapsed,
        "p50": p50,
        "p99": p99,
        "exact": stored == expected,
        "voters": sum(stored.values()) - 2,
        "machine_busy": (busy - busy_before) / max(1, total - total_before),
        "copbot": copbot_cpu / wall_cpu,
        "postgres": pg_cpu / wall_cpu,
        "client": client_cpu / wall_cpu,
        "lock_waits": pg.lock_waits / max(1, pg.samples),
        "updates_per_minute": updates / elapsed * 60,
        "rate_limited": rate_limited,
    }


def binding(row: dict) -> str:
    """What bound the rate, from the figures measured."""
    named = []
    if row["machine_busy"] >= 0.85:
        others = max(0.0, row["machine_busy"] - row["copbot"] - row["postgres"] - row["client"])
        named.append(
            f"CPU: the machine {row['machine_busy']:.0%} busy (copbot {row['copbot']:.0%}, "
            f"PostgreSQL {row['postgres']:.0%}, client {row['client']:.0%}, other "
            f"processes {others:.0%})"
        )
    if row["lock_waits"] >= 1.0:
        named.append(f"PostgreSQL row locks: {row['lock_waits']:.1f} backends waiting on average")
    if row["rate_limited"]:
        named.append(f"Slack's rate: {row['rate_limited']} calls answered 429")
    return "; ".join(named) or "nothing saturated: the client's concurrency"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="PostgreSQL, emptied first")
    parser.add_argument("--votes", type=int, default=1200, help="votes per host count")
    parser.add_argument("--members", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers per host")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--hosts", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    url = args.database_url
    if db.is_sqlite(url):
        raise SystemExit("scale-out is on PostgreSQL: give --database-url postgresql://…")
    common.empty(url)
    common.seed(url, args.members)
    rows = []
    with SlackStandIn() as slack:
        env = common.server_env(slack, url)
        for hosts in args.hosts:
            rows.append(run(args, url, slack, hosts, env))
    print(
        f"PostgreSQL; {args.votes} votes per host count from {args.members} members, "
        f"{args.concurrency} concurrent clients, round-robin, a new connection per request; "
        f"each host {args.workers} worker(s) x {args.threads} threads; {os.cpu_count()} "
        f"cores shared by hosts, PostgreSQL and the client; load average after: "
        f"{common.load_average()}"
    )
    print(
        f"{'hosts':>5} {'votes/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'exact':>6} "
        f"{'busy':>5} {'copbot':>7} {'pg':>5} {'client':>7} {'lockwait':>8} {'upd/min':>7}"
    )
    for r in rows:
        print(
            f"{r['hosts']:>5} {r['per_second']:8.0f} {r['p50']:7.1f} {r['p99']:7.1f} "
            f"{str(r['exact']):>6} {r['machine_busy']:5.0%} {r['copbot']:7.0%} "
            f"{r['postgres']:5.0%} {r['client']:7.0%} {r['lock_waits']:8.2f} "
            f"{r['updates_per_minute']:7.0f}"
        )
    print(
        "busy: the machine's CPU busy share (every process on it); copbot, pg, client: "
        "their share of all cores; lockwait: PostgreSQL backends waiting on a lock, on "
        "average; upd/min: chat.update calls a minute refreshing the poll's message "
        "(coalesced, after the ack; Slack's Tier 3 is about 50 a minute)"
    )
    for r in rows:
        print(f"{r['hosts']} host(s) bound by: {binding(r)}")
    return 0 if all(r["exact"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
