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
import os
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


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="timed requests per path")
    parser.add_argument("--rounds", type=int, default=3, help="alternations per path")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--paths", nargs="+", choices=common.PATHS, default=list(common.PATHS))
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
    return parser.parse_args()


def start_servers(args: argparse.Namespace, env: dict[str, str]) -> dict[str, tuple]:
    """The bare app and copbot, each on a port of its own: app -> (process, port)."""
    gunicorn = ["-w", str(args.workers), "-k", "gthread", "--threads", str(args.threads)]
    bare_port, copbot_port = common.free_port(), common.free_port()
    bare = [sys.executable, "-m", "gunicorn", "bench.bare_app:application"]
    bare += ["-b", f"127.0.0.1:{bare_port}", *gunicorn, "--log-level", "warning"]
    serve = common.serve_argv(copbot_port, args.workers, args.threads, not args.no_scheduler)
    return {
        "bare": (common.start(bare, env, bare_port), bare_port),
        "copbot": (common.start(serve, env, copbot_port), copbot_port),
    }


def report(args: argparse.Namespace, url: str, samples: dict, cpu: dict, timed: int) -> None:
    """The table: percentiles and CPU per request, per path and app."""
    database = "PostgreSQL" if not db.is_sqlite(url) else "SQLite"
    arrivals = (
        f"arriving at {args.rate:g} a second (open loop)"
        if args.rate
        else "each client sending its next at once (saturated)"
    )
    print(
        f"{database}; {arrivals}; {timed} timed requests per path and app in "
        f"{args.rounds} alternating rounds; {args.concurrency} concurrent clients; "
        f"{args.workers} workers x {args.threads} threads each; {args.members} members; "
        f"{os.cpu_count()} cores; load average after: {common.load_average()}"
    )
    print(
        f"{'path':<8} {'app':<7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'CPU ms/req':>10}"
        f"   {'ratio p50':>9} {'p99':>5}"
    )
    for path in args.paths:
        bare = common.percentiles(samples[(path, "bare")])
        for app in ("bare", "copbot"):
            p50, p95, p99 = common.percentiles(samples[(path, app)])
            per = cpu[(path, app)] * 1000 / len(samples[(path, app)])
            ratio = f"   {p50 / bare[0]:9.2f} {p99 / bare[2]:5.2f}" if app == "copbot" else ""
            print(f"{path:<8} {app:<7} {p50:7.1f} {p95:7.1f} {p99:7.1f} {per:10.2f}{ratio}")


def main() -> int:
    args = parse_options()
    url = args.database_url or common.sqlite_url()
    common.empty(url)
    community_id = common.seed(url, args.members)
    members = [f"U{i:08d}" for i in range(args.members)]
    rng = random.Random(7)
    samples: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], float] = {}
    last_vote: dict[str, int] = {}
    with SlackStandIn() as slack:
        started = start_servers(args, common.server_env(slack, url))
        servers = {app: proc for app, (proc, _) in started.items()}
        ports = {app: port for app, (_, port) in started.items()}
        try:
            # a poll to vote on, asked the way a leader asks it
            ask = common.command(
                'poll "Which day suits the onsite meeting?" "Monday" "Tuesday" "Wednesday"',
                slack.response_url("ask"),
            )
            common.send(ports["copbot"], [ask], 1)
            slack.wait_for("chat.postMessage", timeout=10)
            poll_id, options = common.latest_poll(db.get_engine(url))
            db.dispose_engines()
            texts = ["help", "calls", "members"]

            def batch(path: str, app: str, size: int) -> list[bytes]:
                url_ = slack.response_url(path)
                if path == "command":
                    return [common.command(texts[i % 3], url_) for i in range(size)]
                if path == "vote":
                    out = []  # a member clicks once a batch: their last click is clear
                    for member in rng.sample(members, min(size, len(members))):
                        option = rng.choice(options)
                        if app == "copbot":
                            last_vote[member] = option
                        out.append(common.vote(member, poll_id, option, url_))
                    return out
                words = [f"{app} answer {rng.randrange(10**6)}" for _ in range(size)]
                if path == "button":
                    return [common.back_click(community_id, w) for w in words]
                return [common.section_submission(community_id, w) for w in words]

            per_round = max(1, args.requests // args.rounds)
            for path in args.paths:
                for app in ("bare", "copbot"):  # warm-up: connections, caches, imports
                    common.send(
                        ports[app],
                        batch(path, app, min(60, per_round)),
                        args.concurrency,
                        args.rate,
                    )
                for r in range(args.rounds):
                    order = ("bare", "copbot") if r % 2 == 0 else ("copbot", "bare")
                    for app in order:
                        requests = batch(path, app, per_round)
                        before = common.tree_cpu_seconds(servers[app].pid)
                        samples.setdefault((path, app), []).extend(
                            common.send(ports[app], requests, args.concurrency, args.rate)
                        )
                        spent = common.tree_cpu_seconds(servers[app].pid) - before
                        cpu[(path, app)] = cpu.get((path, app), 0.0) + spent
            # the votes: what is stored must be each member's last click
            time.sleep(1.0)
            stored = common.stored_votes(db.get_engine(url), poll_id)
        finally:
            common.stop(list(servers.values()))

    report(args, url, samples, cpu, per_round * args.rounds)
    if "vote" in args.paths:
        exact = stored == Counter(last_vote.values())
        print(
            f"votes stored equal each member's last click: {exact} ({sum(stored.values())} voters)"
        )
        return 0 if exact else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
