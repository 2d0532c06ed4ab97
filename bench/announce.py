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
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402
from sandbox import slack_payloads as payloads  # noqa: E402
from sandbox.slack_standin import SlackStandIn  # noqa: E402
from storage import db  # noqa: E402

STAFF = "U0STAFF01"


def seed(url: str, channels: int) -> list[str]:
    """A community in each of `channels` channels."""
    db.upgrade(url)
    names = [f"C{i:08d}" for i in range(channels)]
    with db.session_scope(db.get_engine(url)) as session:
        for i, channel in enumerate(names):
            common.new_community(session, channel, f"Community {i:03d}")
    db.dispose_engines()
    return names


def submission(callback: str, values: dict, meta: dict) -> bytes:
    payload = payloads.view_submission_payload(
        callback, values, user_id=STAFF, private_metadata=json.dumps(meta)
    )
    return common.interactive(payload)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=300)
    parser.add_argument("--per-channel", type=float, default=1.0, help="messages/s per channel")
    parser.add_argument(
        "--workspace-rate", type=float, default=20.0, help="messages/s in all (0: no limit)"
    )
    args = parser.parse_args()

    url = common.sqlite_url()
    channels = seed(url, args.channels)
    port = common.free_port()
    with SlackStandIn() as slack:
        slack.limit_posts(args.per_channel, burst=1, workspace=args.workspace_rate or None)
        env = common.server_env(slack, url, COPBOT_STAFF=STAFF)
        server = common.start(common.serve_argv(port, workers=2, threads=8), env, port)
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
            common.send(port, [submission("announce_preview", {}, meta)], 1)
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
            common.stop([server], timeout=10)
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
