"""Where a request's time goes: statements, commits and a cProfile per path.

Builds copbot's WSGI app in this process (no gunicorn, no scheduler), seeds the database
as bench/ack_latency.py does, and calls the app directly with the same signed requests,
one at a time: per path it prints the SQL statements and commits per request (counted by
SQLAlchemy's events, on the request thread only, so the work after the ack is apart),
the time per request, and with `--profile` the functions that took the most of it.

    .venv/bin/python bench/profile_paths.py [--requests 200] [--profile 25]
        [--database-url postgresql://...] [--paths command button vote modal]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common as bench  # noqa: E402
from sandbox.slack_standin import SlackStandIn  # noqa: E402
from storage import db  # noqa: E402


def call(app, request: bytes) -> int:
    head, _, body = request.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/slack/events",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "CONTENT_LENGTH": str(len(body)),
    }
    for line in lines[2:]:
        name, _, value = line.partition(": ")
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        elif key != "CONTENT_LENGTH":
            environ[f"HTTP_{key}"] = value
    status = []
    response = app(environ, lambda s, h, *a: status.append(s))
    out = b"".join(response)
    getattr(response, "close", lambda: None)()  # as a WSGI server does once it is written
    code = int(status[0].split()[0])
    if code != 200:
        raise SystemExit(f"HTTP {code}: {out[:200]!r}")
    return code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions")
    parser.add_argument("--paths", nargs="+", choices=bench.PATHS, default=list(bench.PATHS))
    parser.add_argument("--database-url", help="PostgreSQL, emptied first (default: SQLite)")
    args = parser.parse_args()

    url = args.database_url or bench.sqlite_url("copbot-prof-")
    bench.empty(url)
    community_id = bench.seed(url, args.members)
    with SlackStandIn() as slack:
        os.environ.update(bench.server_env(slack, url))
        from bot.config import Settings
        from bot.server import make_wsgi_app

        app = make_wsgi_app(Settings.from_mapping(os.environ))
        deps = app.deps
        call(app, bench.command('poll "Which day?" "Monday" "Tuesday"', slack.response_url()))
        slack.wait_for("chat.postMessage", timeout=10)
        poll_id, options = bench.latest_poll(deps.engine)
        members = [f"U{i:08d}" for i in range(args.members)]
        texts = ["help", "calls", "members"]

        def make(path: str, i: int) -> bytes:
            if path == "command":
                return bench.command(texts[i % 3], slack.response_url())
            if path == "vote":
                member = members[i % len(members)]
                return bench.vote(member, poll_id, options[i % len(options)], slack.response_url())
            if path == "button":
                return bench.back_click(community_id, f"answer {i}")
            return bench.section_submission(community_id, f"answer {i}")

        counts = bench.Counts(deps.engine, this_thread=True)
        print(f"{'SQLite' if db.is_sqlite(url) else 'PostgreSQL'}, {args.requests} requests a path")
        print(f"{'path':<8} {'ms/req':>7} {'statements':>10} {'commits':>8}")
        for path in args.paths:
            for i in range(20):
                call(app, make(path, 10**6 + i))
            deps.background.wait_idle()
            requests = [make(path, i) for i in range(args.requests)]
            counts.reset()
            profile = cProfile.Profile()
            started = time.perf_counter()
            profile.enable()
            for request in requests:
                if call(app, request) != 200:
                    raise SystemExit(f"{path}: not 200")
            profile.disable()
            ms = (time.perf_counter() - started) * 1000 / args.requests
            deps.background.wait_idle()
            print(
                f"{path:<8} {ms:7.2f} {counts.statements / args.requests:10.1f} "
                f"{counts.commits / args.requests:8.1f}"
            )
            if args.profile:
                out = io.StringIO()
                stats = pstats.Stats(profile, stream=out).sort_stats("cumulative")
                stats.print_stats(args.profile)
                print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
