"""`copbot sandbox [--demo] [--port 8765] [--data DIR] [--reset]` (also `copbot-sandbox`):
the whole bot on this machine, with a local Slack and Zoom, used from a web page."""

from __future__ import annotations

import argparse
import errno
import logging
import sys
import time
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="copbot sandbox",
        description="Run copbot against a local Slack and Zoom, used from a page on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=8765, help="the page's port (default 8765)")
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(".copbot-sandbox"),
        help="folder for the database and workspace, kept between runs (default ./.copbot-sandbox)",
    )
    parser.add_argument("--reset", action="store_true", help="start over with an empty workspace")
    parser.add_argument(
        "--demo", action="store_true", help="fill the workspace with sample communities"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not 0 <= args.port <= 65535:
        print(f"copbot sandbox: --port {args.port} is not a port (1-65535)", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("slack_sdk").setLevel(logging.WARNING)
    started = time.monotonic()
    try:
        from sandbox.server import Sandbox
    except ImportError as e:  # installed without the sandbox extra
        print(
            "copbot sandbox needs the sandbox extra: "
            f".venv/bin/pip install -e '.[sandbox]' (missing: {e.name})",
            file=sys.stderr,
        )
        return 2
    try:
        sandbox = Sandbox(args.data, args.port, reset=args.reset)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            print(
                f"copbot sandbox: port {args.port} on 127.0.0.1 is in use; "
                "choose another with --port",
                file=sys.stderr,
            )
            return 2
        raise
    try:
        sandbox.start()
        sandbox.serve_in_background()
        print(
            f"copbot sandbox is ready at {sandbox.url}/ ({time.monotonic() - started:.1f} s; "
            f"data in {args.data}/). Ctrl-C stops it.",
            flush=True,
        )
        if args.demo:  # the page already answers; the demo appears on it as it is made
            from sandbox.demo import DemoError, fill

            try:
                done = fill(sandbox)
            except DemoError as e:  # the page shows Slack's error beside its cause
                done = f"the demo stopped part way: {e}"
            print(f"copbot sandbox: {done} ({time.monotonic() - started:.1f} s)", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\ncopbot sandbox: stopping", flush=True)
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
