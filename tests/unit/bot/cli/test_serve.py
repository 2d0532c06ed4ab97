"""`copbot serve` as shipped: gunicorn with several workers, signed requests, health check."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests

from bot.services.reminders.outbox import LEASE
from sandbox import slack_payloads as payloads
from storage.db import session_scope
from storage.models import SchedulerLease, utcnow
from tests.helpers.endpoint import SECRET, free_port, serve_command, serve_env


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _serve_env(db_url: str, slack) -> dict[str, str]:
    return serve_env(db_url, slack.url, COPBOT_LOG_LEVEL="WARNING")


@pytest.fixture
def served(db_url, slack, session, tmp_path):
    port = free_port()
    env = _serve_env(db_url, slack)
    proc = subprocess.Popen(
        serve_command(port, 2, 4),
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                break
        except requests.RequestException:  # not listening yet, or no worker booted yet
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.send_signal(signal.SIGTERM)  # the master stops its workers
            pytest.fail(f"copbot serve did not start: {proc.communicate(timeout=20)[0]}")
        time.sleep(0.1)
    yield base, proc
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


def test_serve_runs_workers_and_answers_signed_commands(served, slack):
    base, proc = served
    deadline = time.monotonic() + 10  # the second worker may still be booting
    while len(_children(proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(_children(proc.pid)) == 2  # two gunicorn workers
    assert requests.get(f"{base}/healthz", timeout=5).json() == {
        "ok": True,
        "database": "ok",
        "slack": "ok",
    }

    body = payloads.slash_command("help", user_id="U1", channel_id="C1")
    response = requests.post(
        f"{base}/slack/events", data=body, headers=payloads.signed_headers(SECRET, body), timeout=5
    )
    assert response.status_code == 200
    assert "/cop members" in response.json()["text"]

    forged = requests.post(
        f"{base}/slack/events",
        data=body,
        headers=payloads.signed_headers("forged", body),
        timeout=5,
    )
    assert forged.status_code == 401
    assert requests.get(f"{base}/nope", timeout=5).status_code == 404


def test_serve_shuts_down_cleanly_on_sigterm(served):
    _, proc = served
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0


def _lease(engine) -> tuple[str, datetime] | None:
    with session_scope(engine) as s:
        lease = s.get(SchedulerLease, LEASE)
        return (lease.holder, lease.expires_at) if lease is not None else None


def test_a_tick_right_after_sigterm_runs_its_pass(served, db_url, slack, engine, tmp_path):
    """A stopped `copbot serve` gives the scheduler's lease up: `copbot tick` right after
    runs its pass instead of waiting minutes for the lease to lapse."""
    _, proc = served
    deadline = time.monotonic() + 30  # a worker's first pass comes a few seconds after boot
    while (held := _lease(engine)) is None or held[1] <= utcnow():
        assert time.monotonic() < deadline, "no worker took the scheduler's lease"
        time.sleep(0.1)
    holder, expires_at = held
    assert expires_at > utcnow() + timedelta(seconds=30)  # kept for the loop's next pass
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=40) == 0, proc.communicate()[0]
    assert _lease(engine)[1] <= utcnow(), proc.communicate()[0]  # given up, by the same holder
    assert _lease(engine)[0] == holder
    tick = subprocess.run(
        [sys.executable, "-m", "bot.cli", "tick", "--now", "2031-01-05T00:00:00Z"],
        env=_serve_env(db_url, slack),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert tick.returncode == 0, tick.stderr
    assert "another scheduler" not in tick.stdout
    assert "nothing due at 2031-01-05T00:00:00Z" in tick.stdout  # its pass ran
