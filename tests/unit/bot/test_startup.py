"""Starting copbot when Slack is away or refuses the token, PORT from .env, and quiet,
structured logs."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from wsgiref.util import setup_testing_defaults

import pytest
import requests

from bot.app import build_app
from bot.server import make_wsgi_app
from bot.slack_client import SlackCheck
from sandbox import slack_payloads as payloads
from tests.helpers.endpoint import SECRET, STAFF, free_port, make_settings


def cli_env(db_url: str, slack_url: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-startup-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_APP_TOKEN": "xapp-1-startup-test",
        "SLACK_API_URL": slack_url,
        "DATABASE_URL": db_url,
        "COPBOT_STAFF": STAFF,
        "COPBOT_LOG_LEVEL": "INFO",
        **extra,
    }
    env.pop("PORT", None)
    return env


def copbot(*args: str, env: dict[str, str], cwd, timeout: float = 60):
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def health(application) -> tuple[str, dict]:
    import json

    environ: dict = {}
    setup_testing_defaults(environ)
    environ["PATH_INFO"] = "/healthz"
    seen = {}

    def start_response(status, headers):
        seen["status"] = status

    body = b"".join(application(environ, start_response))
    return seen["status"], json.loads(body)


# ---- copbot serve --------------------------------------------------------------------
def test_serve_starts_with_slack_away_and_reads_port_from_dotenv(db_url, session, tmp_path):
    port = free_port()
    (tmp_path / ".env").write_text(f"PORT={port}\n")
    dead = f"http://127.0.0.1:{free_port()}/api/"  # nothing listens there
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--workers", "2"],
        env=cli_env(db_url, dead, COPBOT_LOG_LEVEL="WARNING"),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = requests.get(f"{base}/healthz", timeout=10)
                break
            except requests.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.send_signal(signal.SIGTERM)  # the master stops its workers
                    pytest.fail(f"copbot serve did not start: {proc.communicate(timeout=20)[0]}")
                time.sleep(0.2)
        assert response.status_code == 503
        assert response.json() == {"ok": False, "database": "ok", "slack": "unreachable"}
        body = payloads.slash_command("help", user_id="U1", channel_id="C1")
        answer = requests.post(
            f"{base}/slack/events",
            data=body,
            headers=payloads.signed_headers(SECRET, body),
            timeout=30,
        )
        assert answer.status_code == 200
        assert proc.poll() is None  # still serving
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            out = proc.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert "Traceback" not in out


def test_healthz_says_what_slack_said_and_recovers(settings, slack, engine):
    slack.fail("auth.test", "invalid_auth")
    check = SlackCheck(settings)
    application = make_wsgi_app(settings, slack_check=check)
    assert check.check() == "invalid_auth"
    status, body = health(application)
    assert status.startswith("503")
    assert body == {"ok": False, "database": "ok", "slack": "invalid_auth"}
    assert check.check() == "ok"  # the token works again
    status, body = health(application)
    assert status.startswith("200") and body == {"ok": True, "database": "ok", "slack": "ok"}


def test_the_check_retries_in_the_background_until_slack_answers(settings, slack):
    slack.fail("auth.test", "internal_error", status=503, times=3)
    check = SlackCheck(settings, first_delay=0.05, max_delay=0.1).start()
    deadline = time.monotonic() + 10
    while check.state != "ok" and time.monotonic() < deadline:
        time.sleep(0.05)
    check.stop()
    assert check.state == "ok"
    assert len(slack.calls_to("auth.test")) == 4


def test_an_unanswered_check_reports_unreachable(settings):
    dead = make_settings(settings.database_url, f"http://127.0.0.1:{free_port()}/api/")
    assert SlackCheck(dead).check() == "unreachable"


# ---- copbot run ----------------------------------------------------------------------
def test_run_with_a_refused_bot_token_is_one_line_and_exit_2(db_url, slack, session, tmp_path):
    slack.fail("auth.test", "invalid_auth", times=5)
    done = copbot("run", env=cli_env(db_url, slack.url), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("copbot: Slack refuses SLACK_BOT_TOKEN (invalid_auth)")
    assert "xoxb-startup-test" not in done.stderr + done.stdout


def test_run_with_a_refused_app_token_names_it(db_url, slack, session, tmp_path):
    slack.fail("apps.connections.open", "invalid_auth", times=5)
    done = copbot("run", env=cli_env(db_url, slack.url), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("copbot: Slack refuses SLACK_APP_TOKEN (invalid_auth)")
    assert "Traceback" not in done.stderr


def test_run_waits_for_slack_and_then_connects(db_url, slack, session, tmp_path):
    slack.fail("auth.test", "internal_error", status=503, times=2)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        env=cli_env(db_url, slack.url),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        slack.wait_for_socket_mode(timeout=30)
    finally:
        proc.terminate()
        out = proc.communicate(timeout=15)[0]
    assert len(slack.calls_to("auth.test")) == 3
    assert out.count("copbot keeps trying") == 1
    assert "Traceback" not in out


# ---- logs ----------------------------------------------------------------------------
def test_commands_do_not_log_alembic_or_bolt_chatter(db_url, slack, session, tmp_path):
    env = cli_env(f"sqlite:///{tmp_path}/quiet.db", slack.url)
    for args in (("db", "upgrade"), ("tick", "--now", "2027-01-20T17:00:00Z")):
        done = copbot(*args, env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "alembic" not in done.stderr and "apscheduler" not in done.stderr
        assert "token" not in done.stderr.lower()
    # at DEBUG they are heard: the check above can fail
    loud = copbot("db", "upgrade", env={**env, "COPBOT_LOG_LEVEL": "DEBUG"}, cwd=tmp_path).stderr
    assert "alembic" in loud


def test_building_the_app_gives_no_token_warning(settings, monkeypatch, caplog):
    monkeypatch.setenv("SLACK_BOT_TOKEN", settings.slack_bot_token)  # as in production
    caplog.set_level(logging.WARNING)
    build_app(settings)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_one_structured_line_per_request_without_text_or_secrets(as_user, caplog):
    caplog.set_level(logging.INFO, logger="copbot.requests")
    user = as_user("U1", "C1")
    user.reply("members please-do-not-log-me")
    user.reply("help")
    form = payloads.view_submission_payload(
        "community_new",
        {"name": {"value": payloads.input_value("plain_text_input", "typed-by-a-person")}},
        user_id="U1",
    )
    assert user.interact(form).status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "copbot.requests"]
    assert len(lines) == 3, lines
    assert lines[0].startswith("request kind=command id=/cop members user=U1 status=200 ms=")
    assert lines[1].startswith("request kind=command id=/cop help user=U1 status=200 ms=")
    assert lines[2].startswith("request kind=view_submission id=community_new user=U1 status=200")
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == "copbot.requests")
    everything = caplog.text
    for secret in ("please-do-not-log-me", "typed-by-a-person", "xoxb-test-token", SECRET):
        assert secret not in everything
