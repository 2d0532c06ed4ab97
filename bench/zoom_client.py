"""How many requests a second the Zoom client sustains against the local Zoom stand-in,
and what it adds per call over a bare `requests` call to the same endpoint.

    .venv/bin/python bench/zoom_client.py [--requests 2000] [--threads 1 4 8]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import percentiles  # noqa: E402
from integrations.zoom import ZoomClient  # noqa: E402
from sandbox import zoom_standin as zs  # noqa: E402


def timed(fn, count: int, threads: int) -> tuple[float, list[float]]:
    """(requests per second, per-call latencies in ms)"""
    latencies: list[float] = []
    lock = threading.Lock()

    def one(_: int) -> None:
        started = time.perf_counter()
        fn()
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            latencies.append(elapsed)

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(count)))
    return count / (time.perf_counter() - started), latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4, 8])
    args = parser.parse_args()

    with zs.ZoomStandIn() as zoom:
        client = ZoomClient(
            zs.ACCOUNT_ID,
            zs.CLIENT_ID,
            zs.CLIENT_SECRET,
            api_url=zoom.api_url,
            oauth_url=zoom.oauth_url,
        )
        start = datetime.now(UTC) + timedelta(days=30)
        meeting = client.create_meeting(
            "me", topic="Bench", start=start, duration_minutes=60, timezone="UTC"
        )
        token = client.token()
        local = threading.local()

        def bare_get() -> None:
            session = getattr(local, "session", None)
            if session is None:
                session = local.session = requests.Session()
            response = session.get(
                f"{zoom.api_url}/meetings/{meeting.id}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            response.raise_for_status()
            response.json()

        def client_get() -> None:
            client.get_meeting(meeting.id)

        def client_create() -> None:
            client.create_meeting(
                "me", topic="Bench", start=start, duration_minutes=30, timezone="UTC"
            )

        for fn in (bare_get, client_get):  # warm-up: connections, token
            timed(fn, 100, 4)
        print(f"{args.requests} requests a run against the local Zoom stand-in")
        print(f"{'what':<24} {'threads':>7} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7}")
        rows = {}
        for threads in args.threads:
            for name, fn in (
                ("requests, bare GET", bare_get),
                ("ZoomClient.get_meeting", client_get),
                ("ZoomClient.create", client_create),
            ):
                rps, lat = timed(fn, args.requests, threads)
                p50, _, p99 = percentiles(lat)
                rows[(name, threads)] = statistics.mean(lat)
                print(f"{name:<24} {threads:>7} {rps:8.0f} {p50:7.2f} {p99:7.2f}")
        one = args.threads[0]
        overhead = rows[("ZoomClient.get_meeting", one)] - rows[("requests, bare GET", one)]
        print(
            f"client overhead per call over a bare request ({one} thread(s)): "
            f"{overhead * 1000:.0f} µs (mean)"
        )
        print(f"token requests in all: {zoom.token_requests}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
