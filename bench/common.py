"""What the benchmarks share: a seeded database, `copbot serve` started against the Slack
stand-in, signed requests as Slack sends them (built by `sandbox.slack_payloads`), one
sender over keep-alive connections (closed loop, a set rate, or round robin over hosts),
percentiles, CPU readings, statement counts, and rows for filling a database quickly.

Each benchmark is a script of its own (`python bench/NAME.py`); it puts the checkout on
`sys.path` and imports this module as `bench.common`.
"""

from __future__ import annotations

import http.client
import itertools
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, event

from bot.blocks import plan as plan_blocks
from bot.blocks import polls as poll_blocks
from bot.services import communities
from bot.services.planning_tool import section
from sandbox import slack_payloads as payloads
from sandbox.slack_standin import TEAM_ID, SlackStandIn
from storage import db

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-signing-secret"
CHANNEL = "CBENCH001"
LEADER = "U0LEAD1"
# the request paths bench/ack_latency.py and bench/profile_paths.py time
PATHS = ("command", "button", "vote", "modal")


# ---- databases ------------------------------------------------------------------------------
def sqlite_url(prefix: str = "copbot-bench-") -> str:
    """A fresh SQLite file in a folder of its own."""
    return f"sqlite:///{tempfile.mkdtemp(prefix=prefix)}/bench.db"


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


def new_community(session, channel: str, name: str, leader: str = LEADER):
    """A community made as a leader makes it (the service's rules, not raw rows)."""
    fields = dict(team_id=TEAM_ID, channel_id=channel, name=name, mission="", description="")
    new = communities.NewCommunity(**fields, areas=(), created_by=leader, first_leader=leader)
    return communities.create(session, new)


def seed(url: str, members: int) -> int:
    """The schema, and a community with two leaders and `members` members; its id."""
    db.upgrade(url)
    with db.session_scope(db.get_engine(url)) as session:
        c = new_community(session, CHANNEL, "Bench community")
        communities.set_leaders(session, c, [LEADER, "U0LEAD2"])
        for i in range(members):
            communities.join(session, c, f"U{i:08d}")
        community_id = c.id
    db.dispose_engines()
    return community_id


def latest_poll(engine) -> tuple[int, list[int]]:
    """The newest poll's id and its options' ids, in order."""
    with engine.connect() as conn:
        poll_id = conn.exec_driver_sql("SELECT max(id) FROM poll").scalar()
        options = [
            r[0]
            for r in conn.exec_driver_sql(
                f"SELECT id FROM poll_option WHERE poll_id = {int(poll_id)} ORDER BY id"
            )
        ]
    return poll_id, options


def stored_votes(engine, poll_id: int) -> Counter:
    """Votes stored per option (the poll is anonymous: voters are keyed hashes)."""
    with engine.connect() as conn:
        return Counter(
            r[0]
            for r in conn.exec_driver_sql(
                f"SELECT option_id FROM poll_vote WHERE poll_id = {int(poll_id)}"
            )
        )


# rows for a bulk insert: far faster than the services when a benchmark needs thousands
def community_row(c: int, created_at: datetime, **fields: Any) -> dict:
    return {
        "id": c,
        "team_id": TEAM_ID,
        "name": f"Community {c}",
        "name_key": f"community {c}",
        "slack_channel_id": f"C{c:08d}",
        "mission": "",
        "description": "",
        "purpose_areas": "",
        "created_by": "U0000000",
        "created_at": created_at,
        "calendar_token": secrets.token_urlsafe(24),
        "call_reminders": "week,day,hour",
        "roster_version": 0,
    } | fields


def person_row(user_id: str, email: str | None = None) -> dict:
    return {
        "slack_user_id": user_id,
        "display_name": "",
        "real_name": "",
        "is_bot": False,
        "email": email,
    }


def membership_row(community_id: int, user_id: str, leader: bool, joined_at: datetime) -> dict:
    return {
        "community_id": community_id,
        "slack_user_id": user_id,
        "role": "leader" if leader else "member",
        "joined_at": joined_at,
        "reminders": "channel",
    }


def call_row(c: int, topic: str, start: datetime, created_at: datetime, **fields: Any) -> dict:
    return {
        "uid": secrets.token_urlsafe(18),
        "community_id": c,
        "start_at": start,
        "duration_minutes": 60,
        "timezone": "America/Chicago",
        "topic": topic,
        "agenda": "",
        "host_user_id": "U0000000",
        "kind": "additional",
        "status": "scheduled",
        "meeting_state": "none",
        "sequence": 0,
        "created_by": "U0000000",
        "created_at": created_at,
        "updated_at": created_at,
    } | fields


class Counts:
    """SQL statements and commits on an engine; with `this_thread`, only those on the
    thread that made the counter (the request's own, apart from the work after the ack)."""

    def __init__(self, engine, this_thread: bool = False) -> None:
        self.thread = threading.get_ident() if this_thread else None
        self.statements = self.commits = 0
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def reset(self) -> None:
        self.statements = self.commits = 0

    def _statement(self, *_args) -> None:
        self.statements += self.thread in (None, threading.get_ident())

    def _commit(self, *_args) -> None:
        self.commits += self.thread in (None, threading.get_ident())


# ---- servers --------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(slack: SlackStandIn, url: str, **extra: str) -> dict[str, str]:
    """copbot's environment: the stand-in's URL, the bench's signing secret, `url`."""
    return {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.url,
        "DATABASE_URL": url,
        "COPBOT_LOG_LEVEL": "WARNING",
        **extra,
    }


def serve_argv(port: int, workers: int, threads: int, scheduler: bool = False) -> list[str]:
    """`copbot serve` on 127.0.0.1:`port` (gunicorn, threaded workers)."""
    argv = [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--workers", str(workers), "--threads", str(threads)]
    return argv if scheduler else [*argv, "--no-scheduler"]


def start(argv: list[str], env: dict[str, str], port: int) -> subprocess.Popen:
    """Start a server and wait until it accepts connections on `port`."""
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


def stop(servers: Sequence[subprocess.Popen], timeout: float = 30) -> None:
    for proc in servers:
        proc.terminate()
    for proc in servers:
        proc.wait(timeout=timeout)


# ---- signed requests ------------------------------------------------------------------------
def raw(body: str, content_type: str = "application/x-www-form-urlencoded") -> bytes:
    """One signed HTTP/1.1 request (signed up front: the load costs the client little)."""
    headers = payloads.signed_headers(SECRET, body, content_type=content_type)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (
        f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}"
        f"Content-Length: {len(body.encode())}\r\n\r\n{body}"
    ).encode()


def interactive(payload: dict) -> bytes:
    return raw(payloads.interactive(payload))


def command(text: str, response_url: str, user_id: str = LEADER) -> bytes:
    """`/cop text` from `user_id` in the bench community's channel."""
    return raw(
        payloads.slash_command(text, user_id=user_id, channel_id=CHANNEL, response_url=response_url)
    )


def vote(user_id: str, poll_id: int, option_id: int, response_url: str) -> bytes:
    """A Vote click on the poll's message, each with its own trigger_id and action_ts."""
    return interactive(
        payloads.message_click_payload(
            poll_blocks.VOTE_ACTION,
            f"{poll_id}:{option_id}",
            user_id=user_id,
            channel_id=CHANNEL,
            response_url=response_url,
        )
    )


_serial = itertools.count(1)


def section_state(number: int, words: str) -> dict:
    """The plan section's inputs filled in: every answer `words`, two areas ticked."""
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
    return interactive(
        payloads.block_action_payload(
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
            action_ts=f"{int(time.time())}.{n:06d}",
        )
    )


# ---- sending --------------------------------------------------------------------------------
def send(
    ports: int | Sequence[int], requests: list[bytes], concurrency: int, rate: float | None = None
) -> list[float]:
    """Send `requests` from `concurrency` clients; each request's latency in ms.

    One port: each client keeps its connection alive. Several: round robin, as a load
    balancer spreads them, each request on a new connection to the next host. With
    `rate`, request i is due at i/rate seconds (an open loop, as people click) and its
    latency counts from when it was due, so waiting for a free client counts too;
    without, each client sends its next request at once (a closed loop: the server is
    kept saturated)."""
    round_robin = not isinstance(ports, int)
    hosts = list(ports) if round_robin else [ports]
    turn = itertools.count()
    local = threading.local()
    begin = time.perf_counter()
    due = itertools.count()
    due_lock = threading.Lock()

    def one(request: bytes) -> float:
        conn = getattr(local, "conn", None)
        if conn is None:
            port = hosts[next(turn) % len(hosts)]
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
        if round_robin or response.will_close:
            conn.close()
            local.conn = None
        return elapsed * 1000

    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(one, requests))


# ---- figures --------------------------------------------------------------------------------
def percentiles(samples: list[float]) -> tuple[float, float, float]:
    """p50, p95 and p99."""
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return q[49], q[94], q[98]


def pid_cpu(pids: Sequence[int]) -> float:
    """User + system CPU of these processes, in seconds (those gone count nothing)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (gunicorn's workers), in seconds."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return pid_cpu([pid, *map(int, children)])


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])
