"""How fast `/cop` is acknowledged: copbot serve against a bare Bolt app that only acks.

Both run on gunicorn with the same workers and threads, against the local Slack stand-in
and a seeded SQLite database; N signed `/cop help` and `/cop members` requests go to each
at a set concurrency. Prints p50/p95/p99 per app and copbot's ratio to the bare app.

    .venv/bin/python bench/ack_latency.py [--requests 2000] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.services import communities  # noqa: E402
from sandbox import slack_payloads as payloads  # noqa: E402
from sandbox.slack_standin import TEAM_ID, SlackStandIn  # noqa: E402
from storage import db  # noqa: E402

SECRET = "bench-signing-secret"
CHANNEL = "CBENCH001"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(url: str, members: int) -> None:
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
                created_by="U0LEAD1",
                first_leader="U0LEAD1",
            ),
        )
        communities.set_leaders(session, c, ["U0LEAD1", "U0LEAD2"])
        for i in range(members):
            communities.join(session, c, f"U{i:08d}")
    db.dispose_engines()


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


def signed_requests(total: int, texts: list[str]) -> list[bytes]:
    """Raw HTTP/1.1 requests, signed up front so the load itself costs the client little."""
    out = []
    for i in range(total):
        body = payloads.slash_command(texts[i % len(texts)], user_id="U0LEAD1", channel_id=CHANNEL)
        headers = payloads.signed_headers(SECRET, body)
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        out.append(
            (
                f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}"
                f"Content-Length: {len(body)}\r\n\r\n{body}"
            ).encode()
        )
    return out


def load(port: int, total: int, concurrency: int, texts: list[str]) -> list[float]:
    """Send `total` requests over `concurrency` keep-alive connections; latency in ms."""
    warm = signed_requests(min(200, total), texts)
    timed = signed_requests(total, texts)
    local = threading.local()

    def one(raw: bytes) -> float:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.connect()
        started = time.perf_counter()
        conn.sock.sendall(raw)
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
        list(pool.map(one, warm))  # warm-up: connections, caches
        return list(pool.map(one, timed))


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument(
        "--commands",
        nargs="+",
        default=["help", "members"],
        help="the /cop subcommands sent, in turn (default: help members)",
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="copbot-bench-"))
    url = f"sqlite:///{tmp}/bench.db"
    seed(url, args.members)
    results = {}
    cpu = {}
    with SlackStandIn() as slack:
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.url,
            "DATABASE_URL": url,
            "COPBOT_LOG_LEVEL": "WARNING",
        }
        servers = {
            "bare bolt": lambda port: [
                sys.executable,
                "-m",
                "gunicorn",
                "bench.bare_app:application",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                str(args.workers),
                "-k",
                "gthread",
                "--threads",
                str(args.threads),
                "--log-level",
                "warning",
            ],
            "copbot": lambda port: [
                sys.executable,
                "-m",
                "bot.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--threads",
                str(args.threads),
            ],
        }
        for name, argv in servers.items():
            port = free_port()
            proc = start(argv(port), env, port)
            try:
                before = tree_cpu_seconds(proc.pid)
                results[name] = load(port, args.requests, args.concurrency, args.commands)
                cpu[name] = (
                    (tree_cpu_seconds(proc.pid) - before)
                    * 1000
                    / (args.requests + min(200, args.requests))
                )
            finally:
                proc.terminate()
                proc.wait(timeout=15)

    print(
        f"{args.requests} signed /cop help + /cop members requests, "
        f"{args.concurrency} concurrent clients, {args.workers} workers x {args.threads} "
        f"threads, {os.cpu_count()} cores"
    )
    print(f"{'app':<10} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'server CPU ms/request':>22}")
    table = {name: percentiles(samples) for name, samples in results.items()}
    for name, (p50, p95, p99) in table.items():
        print(f"{name:<10} {p50:8.1f} {p95:8.1f} {p99:8.1f} {cpu[name]:22.2f}")
    ratio = [c / b for c, b in zip(table["copbot"], table["bare bolt"], strict=True)]
    print(f"{'ratio':<10} {ratio[0]:8.2f} {ratio[1]:8.2f} {ratio[2]:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
