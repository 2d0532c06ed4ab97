"""`copbot doctor` against the Slack and Zoom stand-ins: one line per check, `ok  NAME
detail` or `FAIL  NAME  what to do`, exit 1 when any line FAILs, never a Traceback."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time

import requests

from bot import slack_client as manifest
from bot.cli import doctor
from bot.config import Settings
from integrations import zoom_scopes
from sandbox import zoom_standin as zs
from storage import db
from tests.helpers.endpoint import STAFF, zoom_env

HEX_SECRET = "0123456789abcdef0123456789abcdef"


def env(db_url: str, slack, zoom, **extra: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": HEX_SECRET,
        "SLACK_API_URL": slack.url,
        "DATABASE_URL": db_url,
        "COPBOT_STAFF": STAFF,
        **zoom_env(zoom),
        **extra,
    }


def run(values: dict[str, str]) -> tuple[int, list[str]]:
    out = io.StringIO()
    status = doctor.main(lambda: Settings.from_mapping(values), out)
    return status, out.getvalue().splitlines()


def named(lines: list[str], name: str) -> str:
    [line] = [x for x in lines if x.split("  ")[1] == name]
    return line


def fails(lines: list[str]) -> list[str]:
    return [x for x in lines if x.startswith("FAIL  ")]


def test_a_good_set_up_is_all_ok_one_line_per_check(db_url, slack, zoom, engine):
    status, lines = run(env(db_url, slack, zoom))
    assert status == 0, lines
    assert all(x.startswith("ok  ") and len(x.split("  ")) >= 3 for x in lines), lines
    names = [x.split("  ")[1] for x in lines]
    for expected in (
        "slack token",
        "slack scopes",
        "signing secret",
        "zoom token",
        "zoom host me",
        "database",
        "webhook secret",
        "public url",
        "resources",
    ):
        assert expected in names
    # each granular scope the turned-on features need is a line of its own
    for scope in zoom_scopes.needed(Settings.from_mapping({}).zoom_features):
        assert f"zoom scope {scope}" in names
    assert "host@example.org, Licensed, active" in named(lines, "zoom host me")
    assert [c.method for c in slack.calls_to("auth.test")] == ["auth.test"]


def test_a_zoom_token_missing_two_scopes_is_two_fail_lines_naming_them(db_url, slack, zoom):
    zoom.scopes = [
        s
        for s in zoom_scopes.needed()
        if s not in ("meeting:update:meeting:admin", "meeting:read:list_past_participants:admin")
    ]
    status, lines = run(env(db_url, slack, zoom))
    assert status == 1
    assert [x.split("  ")[1] for x in fails(lines)] == [
        "zoom scope meeting:update:meeting:admin",
        "zoom scope meeting:read:list_past_participants:admin",
    ]
    line = named(lines, "zoom scope meeting:update:meeting:admin")
    assert "Add Scopes" in line and "move a meeting" in line
    assert named(lines, "zoom scope meeting:write:meeting:admin").startswith("ok  ")


def test_attendance_off_does_not_need_its_scopes(db_url, slack, zoom):
    zoom.scopes = [
        s for s in zoom_scopes.needed() if s != "meeting:read:list_past_participants:admin"
    ]
    status, lines = run(env(db_url, slack, zoom, COPBOT_ATTENDANCE="off"))
    assert status == 0, fails(lines)
    assert not any("list_past_participants" in x for x in lines)


def test_a_classic_app_is_ok_where_a_classic_scope_covers(db_url, slack, zoom):
    zoom.scopes = ["meeting:write:admin", "meeting:read:admin", "user:read:admin"]
    status, lines = run(env(db_url, slack, zoom))
    assert status == 1
    assert "classic scope meeting:write:admin" in named(
        lines, "zoom scope meeting:update:meeting:admin"
    )
    assert [x.split("  ")[1] for x in fails(lines)] == [
        "zoom scope cloud_recording:read:list_recording_files:admin"
    ]


def test_an_unreachable_zoom_is_a_fail_line_not_a_traceback(db_url, slack, zoom):
    values = env(
        db_url,
        slack,
        zoom,
        ZOOM_OAUTH_URL="http://127.0.0.1:9/oauth/token",
        ZOOM_API_URL="http://127.0.0.1:9/v2",
    )
    status, lines = run(values)
    assert status == 1
    line = named(lines, "zoom token")
    assert line.startswith("FAIL  zoom token  Zoom did not answer at http://127.0.0.1:9")
    assert named(lines, "database").startswith("ok  ")  # the other checks still ran


def test_refused_zoom_credentials_say_what_to_copy(db_url, slack, zoom):
    status, lines = run(env(db_url, slack, zoom, ZOOM_CLIENT_SECRET="wrong"))
    assert status == 1
    assert "ZOOM_CLIENT_SECRET" in named(lines, "zoom token")


def test_each_host_must_exist_and_be_able_to_host(db_url, slack, zoom):
    zoom.add_user("free@example.org", type=1)
    zoom.add_user("gone@example.org", status="inactive")
    for user, says in (
        ("free@example.org", "Basic (free) user"),
        ("gone@example.org", "is inactive"),
        ("nobody@example.org", "Zoom has no user nobody@example.org"),
    ):
        status, lines = run(env(db_url, slack, zoom, ZOOM_USER=user))
        assert status == 1
        line = named(lines, f"zoom host {user}")
        assert line.startswith("FAIL  ") and says in line
    assert len(zoom.calls_to("GET /users/{userId}")) == 3


def test_a_host_check_without_its_scope_names_the_scope(db_url, slack, zoom):
    zoom.scopes = [s for s in zoom_scopes.needed() if s != "user:read:user:admin"]
    status, lines = run(env(db_url, slack, zoom))
    assert status == 1
    assert "user:read:user:admin" in named(lines, "zoom host me")


def test_a_database_behind_on_migrations_fails(tmp_path, slack, zoom):
    url = f"sqlite:///{tmp_path / 'behind.db'}"
    _, head = db.schema_status(url)
    db.upgrade(url, _one_before(head))
    status, lines = run(env(url, slack, zoom))
    assert status == 1
    line = named(lines, "database")
    assert line.startswith("FAIL  database  ") and "run `copbot db upgrade`" in line
    assert head in line
    db.upgrade(url)
    assert run(env(url, slack, zoom))[0] == 0


def _one_before(revision: str) -> str:
    from alembic.script import ScriptDirectory

    from storage.db import _alembic_config

    return (
        ScriptDirectory.from_config(_alembic_config("sqlite://"))
        .get_revision(revision)
        .down_revision
    )


def test_an_unreachable_database_fails(slack, zoom):
    url = "postgresql://nobody@127.0.0.1:9/copbot"
    status, lines = run(env(url, slack, zoom))
    assert status == 1
    assert named(lines, "database").startswith("FAIL  database  cannot use")


def test_slack_refusing_the_token_and_missing_scopes(db_url, slack, zoom):
    slack.fail("auth.test", "invalid_auth")
    status, lines = run(env(db_url, slack, zoom))
    assert status == 1
    assert "Slack refuses SLACK_BOT_TOKEN (invalid_auth)" in named(lines, "slack token")
    wanted = manifest.bot_scopes()
    slack.scopes = tuple(s for s in wanted if s not in ("pins:write", "users:read.email"))
    status, lines = run(env(db_url, slack, zoom))
    assert [x.split("  ")[1] for x in fails(lines)] == [
        "slack scope pins:write",
        "slack scope users:read.email",
    ]
    assert "reinstall" in named(lines, "slack scope pins:write")


def test_slack_unreachable_is_a_fail_line(db_url, slack, zoom):
    status, lines = run(env(db_url, slack, zoom, SLACK_API_URL="http://127.0.0.1:9/api/"))
    assert status == 1
    assert "Slack did not answer" in named(lines, "slack token")


def test_secrets_are_checked_for_their_shape(db_url, slack, zoom):
    status, lines = run(
        env(db_url, slack, zoom, SLACK_SIGNING_SECRET="not-a-secret", ZOOM_WEBHOOK_SECRET="a b")
    )
    assert status == 1
    assert named(lines, "signing secret").startswith("FAIL  ")
    assert named(lines, "webhook secret").startswith("FAIL  ")
    assert "not-a-secret" not in "\n".join(lines)  # secrets are never printed
    status, lines = run(env(db_url, slack, zoom, ZOOM_WEBHOOK_SECRET="abcdEFGH1234ijkl5678mn"))
    assert named(lines, "webhook secret") == "ok  webhook secret  set, 22 characters"


def test_the_public_url_must_answer(db_url, slack, zoom, endpoint):
    deadline = time.monotonic() + 10
    while requests.get(f"{endpoint}/healthz", timeout=5).status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert run(env(db_url, slack, zoom, COPBOT_PUBLIC_URL=endpoint))[0] == 0
    status, lines = run(env(db_url, slack, zoom, COPBOT_PUBLIC_URL="http://127.0.0.1:9"))
    assert status == 1
    assert "COPBOT_PUBLIC_URL" in named(lines, "public url")


def test_settings_that_do_not_load_are_a_fail_line(db_url, slack, zoom, tmp_path):
    bad = tmp_path / "resources.yaml"
    bad.write_text("- not: [a mapping")
    status, lines = run(env(db_url, slack, zoom, COPBOT_RESOURCES=str(bad)))
    assert status == 1
    [line] = lines
    assert line.startswith("FAIL  resources  COPBOT_RESOURCES")
    status, lines = run(env(db_url, slack, zoom, COPBOT_TIMEZONE="Mars/Base"))
    assert lines == [
        "FAIL  settings  COPBOT_TIMEZONE 'Mars/Base' is not an IANA time zone "
        "(e.g. America/Chicago) (fix it in the environment or .env)"
    ]


def test_the_command_line_prints_the_lines_and_exits_1_without_a_traceback(
    db_url, slack, zoom, tmp_path
):
    values = env(db_url, slack, zoom, ZOOM_OAUTH_URL="http://127.0.0.1:9/oauth/token")
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "doctor"],
        env={"PATH": os.environ.get("PATH", ""), **values},
        cwd=tmp_path,  # no .env here
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    out = done.stdout.splitlines()
    assert any(x.startswith("FAIL  zoom token  ") for x in out)
    assert any(x.startswith("ok  slack token  ") for x in out)
    assert zs.ACCOUNT_ID in named(out, "zoom token") or "Zoom did not answer" in named(
        out, "zoom token"
    )
