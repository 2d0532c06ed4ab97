"""`copbot sandbox`: one process, a URL printed, a port in use said in one line, Ctrl-C
stops it, the data kept between runs and `--reset` starting over; the clock moves only
forward and is back at zero once the sandbox stops."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import tomllib
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest

from bot import cli
from sandbox.demo import PLAN_ANSWERS
from storage.models import set_clock_offset, utcnow
from tests.helpers.paths import REPO_ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_copbot_sandbox_is_the_sandbox_entry_point(capsys):
    scripts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts[cli.SANDBOX_ENTRY_POINT] == "sandbox.cli:main"
    with pytest.raises(SystemExit) as done:
        cli.main(["sandbox", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "copbot sandbox" in out and "--demo" in out and "--reset" in out
    assert "sandbox" in cli.build_parser().format_help()


def test_a_port_in_use_is_one_line_naming_the_flag(tmp_path, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = cli.main(["sandbox", "--port", str(port), "--data", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert (
        err == f"copbot sandbox: port {port} on 127.0.0.1 is in use; choose another with --port\n"
    )


def _start(data: Path, *extra: str) -> tuple[subprocess.Popen, str, float]:
    port = free_port()
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "sandbox", "--port", str(port), "--data", str(data)]
        + list(extra),
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines = []
    last = "copbot sandbox: demo" if "--demo" in extra else "is ready at"
    for line in proc.stdout:
        lines.append(line)
        if last in line:
            break
    url = f"http://127.0.0.1:{port}"
    with urllib.request.urlopen(url + "/", timeout=5) as page:
        assert b"copbot sandbox" in page.read()
    return proc, "".join(lines), time.monotonic() - started


def _stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0, out
    return out


def _state(url_port: str, user: str = "ULEAD001") -> dict:
    with urllib.request.urlopen(f"{url_port}/api/state?user={user}", timeout=5) as answer:
        return json.loads(answer.read())


def test_demo_start_ctrl_c_kept_data_and_reset(tmp_path):
    data = tmp_path / "data"
    # how fast is bench/sandbox_start.py's to show, not a timed assertion here
    proc, out, _seconds = _start(data, "--demo")
    url = out.split("is ready at ")[1].split("/ ")[0]
    try:
        assert "demo: 2 communities" in out
        texts = [m["text"] for m in _state(url)["messages"]]
        assert any("Data Science Practice" in t for t in texts)
        with urllib.request.urlopen(f"{url}/api/config", timeout=5) as answer:
            assert json.loads(answer.read())["start_channel"] == "CDATA0001"  # the demo's
    finally:
        assert "stopping" in _stop(proc)
    assert (data / "copbot.db").is_file() and (data / "workspace.json").is_file()
    with sqlite3.connect(data / "copbot.db") as db:  # "a plan 3 sections along", answered
        answered = dict(db.execute("SELECT question_key, answer FROM plan_answer").fetchall())
    assert {k: answered[k] for k in PLAN_ANSWERS} == PLAN_ANSWERS  # 12 written answers
    assert answered["purpose.areas"]  # and the community's purpose area

    proc, out, _ = _start(data, "--demo")  # kept: nothing is filled twice
    url = out.split("is ready at ")[1].split("/ ")[0]
    try:
        assert "already has 2 communities" in out
        assert any("Data Science Practice" in m["text"] for m in _state(url)["messages"])
    finally:
        _stop(proc)

    proc, out, _ = _start(data, "--reset")
    url = out.split("is ready at ")[1].split("/ ")[0]
    try:
        assert _state(url)["messages"] == []
        with urllib.request.urlopen(f"{url}/api/config", timeout=5) as answer:
            assert json.loads(answer.read())["start_channel"] == "CGENERAL1"  # nothing yet
    finally:
        _stop(proc)


def test_the_clock_moves_forward_only_and_resets_when_the_sandbox_stops(tmp_path):
    from sandbox.server import Sandbox

    running = Sandbox(tmp_path, 0).start()
    try:
        before = utcnow()
        assert running.clock.advance("reminder") == [
            "no call reminder is coming: schedule a call first"
        ]
        running.clock.advance("day")
        assert timedelta(hours=23, minutes=59) < utcnow() - before < timedelta(days=1, minutes=1)
        with pytest.raises(ValueError):
            running.clock.advance("yesterday")
        with pytest.raises(ValueError):
            set_clock_offset(timedelta(days=-1))
    finally:
        running.stop()
    assert abs(utcnow() - before) < timedelta(minutes=1)
    saved = json.loads((tmp_path / "workspace.json").read_text())
    assert saved["clock_offset"] == 86400


def test_a_demo_slack_refuses_stops_with_the_reason_shown(tmp_path):
    from sandbox.demo import DemoError, fill
    from sandbox.server import Sandbox

    running = Sandbox(tmp_path, 0).start().serve_in_background()
    try:
        running.workspace.fail("views.open", "internal_error")
        with pytest.raises(DemoError, match="no modal opened for ana"):
            fill(running)
        [problem] = running.workspace.problems
        assert (problem.error, problem.user, problem.cause) == (
            "internal_error",
            "ULEAD001",
            "/cop new",
        )
    finally:
        running.stop()


def test_without_chromium_or_playwright_the_browser_tests_say_why(monkeypatch, tmp_path):
    import importlib.util

    from tests.helpers import browser

    assert browser.skip_reason() is None or "skipped" in browser.skip_reason()
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "no-chromium")
    assert browser.skip_reason() == (
        "browser tests skipped: /usr/bin/chromium is missing (apt-get install chromium)"
    )
    monkeypatch.setattr(browser, "CHROMIUM", Path(sys.executable))
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert browser.skip_reason().startswith("browser tests skipped: playwright is not installed")
    addopts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["pytest"][
        "ini_options"
    ]
    assert "-rs" in addopts["addopts"].split()


def test_without_the_sandbox_extra_it_says_which_extra(monkeypatch, capsys):
    from sandbox import cli as sandbox_cli

    monkeypatch.setitem(sys.modules, "jsonschema", None)  # as if not installed
    for name in [m for m in sys.modules if m.startswith("sandbox.")]:
        if name not in ("sandbox.cli",):
            monkeypatch.delitem(sys.modules, name)
    assert sandbox_cli.main(["--port", str(free_port())]) == 2
    assert capsys.readouterr().err == (
        "copbot sandbox needs the sandbox extra: .venv/bin/pip install -e '.[sandbox]' "
        "(missing: jsonschema)\n"
    )
