"""One announcement to many channels: `copbot serve` against a Slack stand-in that
enforces chat.postMessage's rate limit (about one message a second per channel, plus a
workspace rate; beyond it HTTP 429 with Retry-After).

Staff fill in the form and press Send (two signed view submissions); the bench then waits
for every channel's copy. Prints the time to the last copy, the 429s answered (and so
honoured: each was followed by a successful retry), and whether any channel got none or
two.

    .venv/bin/python bench/announce.py [--channels 300] [--workspace-rate 50]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ack_latency import SECRET, free_port, start  # noqa: E402
from bench.polls import raw, send_all  # noqa: E402
from bot.services import communities  # noqa: E402
from sandbox import slack_payloads as payloads  # noqa: E402
from sandbox.slack_standin import TEAM_ID, SlackStandIn  # noqa: E402
from storage import db  # noqa: E402

STAFF = "U0STAFF01"


def seed(url: str, channels: int) -> list[str]:
    db.upgrade(url)
    names = [f"C{i:08d}" for i in range(channels)]
    with db.session_scope(db.get_engine(url)) as session:
        for i, channel in enumerate(names):
            communities.create(
                session,
                communities.NewCommunity(
                    team_id=TEAM_ID,
                    channel_id=channel,
                    name=f"Community {i:03d}",
                    mission="",
                    description="",
                    areas=(),
                    created_by="U0LEAD1",
                    first_leader="U0LEAD1",
                ),
            )
    db.dispose_engines()
    return names


def submission(callback: str, values: dict, meta: dict) -> bytes:
    payload = payloads.view_submission_payload(
        callback, values, user_id=STAFF, private_metadata=json.dumps(meta)
    )
    return raw(urlencode({"payload": json.dumps(payload)}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=300)
    parser.add_argument("--per-channel", type=float, default=1.0, help="messages/s per channel")
    parser.add_argument(
        "--workspace-rate", type=float, default=20.0, help="messages/s in all (0: no limit)"
    )
    args = parser.parse_args()

    url = f"sqlite:///{tempfile.mkdtemp(prefix='copbot-bench-')}/bench.db"
    channels = seed(url, args.channels)
    port = free_port()
    with SlackStandIn() as slack:
        slack.limit_posts(args.per_channel, burst=1, workspace=args.workspace_rate or None)
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.url,
            "DATABASE_URL": url,
            "COPBOT_STAFF": STAFF,
            "COPBOT_LOG_LEVEL": "WARNING",
        }
        argv = [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1"]
        argv += ["--port", str(port), "--workers", "2", "--threads", "8", "--no-scheduler"]
        server = start(argv, env, port)
        try:
            form = {
                "announce_text": {
                    "value": payloads.input_value(
                        "plain_text_input",
                        "The October survey results are in, with the year's call schedule.",
                    )
                },
                "announce_targets": {
                    "value": {
                        "type": "multi_static_select",
                        "selected_options": [
                            {"text": {"type": "plain_text", "text": "all"}, "value": "all"}
                        ],
                    }
                },
                "announce_mention": {"value": payloads.input_value("radio_buttons", "none")},
            }
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.connect()
            conn.sock.sendall(submission("announce_create", form, {}))
            response = http.client.HTTPResponse(conn.sock)
            response.begin()
            preview = json.loads(response.read())
            meta = json.loads(preview["view"]["private_metadata"])
            started = time.perf_counter()
            send_all(port, [submission("announce_preview", {}, meta)], 1)
            wanted = set(channels)

            def delivered() -> list:
                limited = {id(c) for c in slack.rate_limited}
                return [
                    c
                    for c in slack.calls_to("chat.postMessage")
                    if id(c) not in limited and c.args.get("channel") in wanted
                ]

            deadline = time.monotonic() + 600
            while len({c.args["channel"] for c in delivered()}) < len(wanted):
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            elapsed = time.perf_counter() - started
            time.sleep(2)  # anything doubled would arrive now
            got = Counter(c.args["channel"] for c in delivered())
        finally:
            server.terminate()
            server.wait(10)
    missing = len(wanted - set(got))
    doubled = sum(1 for n in got.values() if n > 1)
    limited = [c for c in slack.rate_limited if c.args.get("channel") in wanted]
    print(
        f"channels: {args.channels}; limit {args.per_channel}/s per channel, "
        f"{args.workspace_rate or 'no'}/s per workspace"
    )
    print(f"time to the last copy: {elapsed:.1f} s")
    print(f"429 answers honoured (each channel's copy retried after Retry-After): {len(limited)}")
    print(f"channels without a copy: {missing}; channels with two or more: {doubled}")
    return 0 if not missing and not doubled else 1


if __name__ == "__main__":
    sys.exit(main())
