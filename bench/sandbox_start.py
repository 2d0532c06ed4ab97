"""How long `copbot sandbox --demo` takes from the command to a page that answers, to
the page showing the demo's communities, and from Ctrl-C to the process gone. Each run
starts in a fresh data folder (so the demo is filled every time), then once more in the
same folder (kept data, nothing to fill).

    .venv/bin/python bench/sandbox_start.py [--runs 3]
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
COPBOT = Path(sys.executable).with_name("copbot")

from bench.common import free_port  # noqa: E402


def one_run(data: Path) -> tuple[float, float, float]:
    port = free_port()
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(COPBOT), "sandbox", "--demo", "--port", str(port), "--data", str(data)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/api/state?user=ULEAD001"
    answered = None
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answered is None and answer.status == 200:
                    answered = time.monotonic() - started
                if b"Data Science Practice" in answer.read():
                    break
        except OSError:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"copbot sandbox exited with {proc.returncode}")
        time.sleep(0.02)
    ready = time.monotonic() - started
    stopping = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=20)
    return answered, ready, time.monotonic() - stopping


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    answers, fresh, stops = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            answered, ready, stop = one_run(Path(tmp) / f"run{i}")
            print(
                f"run {i}: page answers {answered:.2f} s, demo shown {ready:.2f} s, "
                f"stopped {stop:.2f} s",
                flush=True,
            )
            answers.append(answered)
            fresh.append(ready)
            stops.append(stop)
        _, kept, _ = one_run(Path(tmp) / "run0")
    print(
        f"copbot sandbox --demo to a page that answers: median "
        f"{statistics.median(answers):.2f} s; "
        f"to the page showing the demo: median {statistics.median(fresh):.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in fresh)}); with kept data {kept:.2f} s; "
        f"Ctrl-C to exit: median {statistics.median(stops):.2f} s"
    )


if __name__ == "__main__":
    main()
