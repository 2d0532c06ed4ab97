"""Settings: defaults, validation with one clear line naming the variable, no secrets shown."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.cli import main
from bot.config import ConfigError, Settings


def test_defaults_follow_the_contract():
    s = Settings.from_mapping({})
    assert s.slack_api_url == "https://slack.com/api/"
    assert s.zoom_api_url == "https://api.zoom.us/v2"
    assert s.zoom_oauth_url == "https://zoom.us/oauth/token"
    assert s.database_url == "sqlite:///copbot.db"
    assert s.timezone == "UTC" and s.staff == frozenset()
    assert not s.zoom_configured


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"COPBOT_TIMEZONE": "Mars/Olympus"}, "COPBOT_TIMEZONE"),
        ({"COPBOT_TIMEZONE": "America"}, "COPBOT_TIMEZONE"),  # a directory: IsADirectoryError
        ({"COPBOT_TIMEZONE": "x" * 300}, "COPBOT_TIMEZONE"),  # OSError: name too long
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"DATABASE_URL": "mysql://u:p@h/db"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://u:p@h"}, "DATABASE_URL"),
        ({"SLACK_API_URL": "slack.com/api"}, "SLACK_API_URL"),
        ({"ZOOM_API_URL": "ftp://zoom"}, "ZOOM_API_URL"),
        ({"COPBOT_STAFF": "U123ABC, bob"}, "COPBOT_STAFF"),
        ({"SLACK_BOT_TOKEN": "xoxp-user-token"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_APP_TOKEN": "xoxb-not-an-app-token"}, "SLACK_APP_TOKEN"),
        ({"PORT": "http"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
    ],
)
def test_invalid_values_name_the_variable_in_one_line(env, name):
    with pytest.raises(ConfigError) as info:
        Settings.from_mapping(env)
    message = str(info.value)
    assert message.startswith(name)
    assert "\n" not in message


def test_staff_and_zoom():
    s = Settings.from_mapping(
        {
            "COPBOT_STAFF": "U01AAA, W02BBB ,",
            "ZOOM_ACCOUNT_ID": "a",
            "ZOOM_CLIENT_ID": "b",
            "ZOOM_CLIENT_SECRET": "c",
        }
    )
    assert s.staff == {"U01AAA", "W02BBB"}
    assert s.is_staff("U01AAA") and not s.is_staff("U03CCC")
    assert s.zoom_configured


def test_serve_needs_the_signing_secret():
    with pytest.raises(ConfigError, match="^SLACK_SIGNING_SECRET is not set"):
        Settings.from_mapping({"SLACK_BOT_TOKEN": "xoxb-1"}).require_for_http()
    Settings.from_mapping(
        {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    ).require_for_http()


def test_run_says_what_is_missing_and_where_to_get_it():
    with pytest.raises(ConfigError) as info:
        Settings.from_mapping({}).require_for_socket_mode()
    message = str(info.value)
    assert "SLACK_BOT_TOKEN" in message and "SLACK_APP_TOKEN" in message
    assert "connections:write" in message and "app_manifest.yml" in message
    with pytest.raises(ConfigError) as info:
        Settings.from_mapping({"SLACK_BOT_TOKEN": "xoxb-1"}).require_for_socket_mode()
    assert "SLACK_BOT_TOKEN" not in str(info.value)


def test_dotenv_fills_unset_variables_only(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("COPBOT_TIMEZONE=Europe/Paris\nCOPBOT_STAFF=U0FROMFILE\n")
    monkeypatch.setenv("COPBOT_STAFF", "U0FROMENV")
    monkeypatch.delenv("COPBOT_TIMEZONE", raising=False)
    s = Settings.load(env_file)
    assert s.timezone == "Europe/Paris"
    assert s.staff == {"U0FROMENV"}


def test_secrets_never_show_in_repr():
    s = Settings.from_mapping(
        {
            "SLACK_BOT_TOKEN": "xoxb-secret-bot",
            "SLACK_SIGNING_SECRET": "sign-secret",
            "SLACK_APP_TOKEN": "xapp-secret-app",
            "ZOOM_CLIENT_SECRET": "zoom-secret",
            "DATABASE_URL": "postgresql://copbot:dbpass@localhost/copbot",
        }
    )
    shown = repr(s) + str(s)
    for secret in ("xoxb-secret-bot", "sign-secret", "xapp-secret-app", "zoom-secret", "dbpass"):
        assert secret not in shown


def _clean_env(monkeypatch, tmp_path):
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
        "DATABASE_URL",
        "COPBOT_TIMEZONE",
        "COPBOT_STAFF",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_cli_run_without_credentials_prints_one_line_and_exits_2(monkeypatch, tmp_path, capsys):
    _clean_env(monkeypatch, tmp_path)
    assert main(["run"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("copbot: `copbot run` needs SLACK_BOT_TOKEN")
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "copbot.db").exists()  # nothing created before the check


def test_cli_bad_time_zone_stops_start_up(monkeypatch, tmp_path, capsys):
    _clean_env(monkeypatch, tmp_path)
    monkeypatch.setenv("COPBOT_TIMEZONE", "Nowhere/Land")
    assert main(["serve"]) == 2
    assert capsys.readouterr().err.startswith("copbot: COPBOT_TIMEZONE 'Nowhere/Land'")


def test_cli_serve_without_signing_secret(monkeypatch, tmp_path, capsys):
    _clean_env(monkeypatch, tmp_path)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    assert main(["serve", "--port", "0"]) == 2
    assert capsys.readouterr().err.startswith("copbot: SLACK_SIGNING_SECRET is not set")


def test_cli_db_upgrade_and_status(monkeypatch, tmp_path, capsys):
    _clean_env(monkeypatch, tmp_path)
    url = f"sqlite:///{tmp_path}/fresh.db"
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["db", "status"]) == 1
    assert "needs `copbot db upgrade`" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "status"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_console_script_is_installed():
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in ("run", "serve", "scheduler", "tick", "db"):
        assert command in out


def test_unreachable_database_is_one_line_without_the_password(monkeypatch, tmp_path, capsys):
    _clean_env(monkeypatch, tmp_path)
    monkeypatch.setenv("DATABASE_URL", "postgresql://copbot:hunter2@127.0.0.1:9/copbot")
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("copbot: cannot use the database at DATABASE_URL")
    assert "hunter2" not in err and "***" in err
    assert len(err.splitlines()) == 1


def test_log_level_is_validated():
    with pytest.raises(ConfigError, match="^COPBOT_LOG_LEVEL"):
        Settings.from_mapping({"COPBOT_LOG_LEVEL": "chatty"})
    assert Settings.from_mapping({"COPBOT_LOG_LEVEL": "debug"}).log_level == "DEBUG"


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"COPBOT_HOLIDAYS": "XX"}, "COPBOT_HOLIDAYS"),
        ({"COPBOT_PROGRAM_YEAR_START": "13-01"}, "COPBOT_PROGRAM_YEAR_START"),
        ({"COPBOT_PROGRAM_YEAR_START": "02-29"}, "COPBOT_PROGRAM_YEAR_START"),
        ({"COPBOT_PUBLIC_URL": "copbot.example.org"}, "COPBOT_PUBLIC_URL"),
    ],
)
def test_call_settings_are_validated(env, name):
    with pytest.raises(ConfigError) as info:
        Settings.from_mapping(env)
    assert str(info.value).startswith(name)


def test_call_settings():
    s = Settings.from_mapping(
        {
            "COPBOT_HOLIDAYS": "us",
            "COPBOT_PROGRAM_YEAR_START": "9-1",
            "COPBOT_PUBLIC_URL": "https://copbot.example.org/",
        }
    )
    assert (s.holidays, s.program_year_start, s.public_url) == (
        "US",
        (9, 1),
        "https://copbot.example.org",
    )
    assert Settings.from_mapping({}).program_year_start == (8, 1)


def test_zoom_hosts_is_a_pool_and_zoom_user_a_pool_of_one():
    assert Settings.from_mapping({}).zoom_hosts == ("me",)
    assert Settings.from_mapping({"ZOOM_USER": "host@example.org"}).zoom_hosts == (
        "host@example.org",
    )
    s = Settings.from_mapping(
        {
            "ZOOM_USER": "ignored@example.org",
            "ZOOM_HOSTS": " a@example.org, KDcuGIm1QgePTO8WbOqwIQ ,A@example.org,, b@example.org",
        }
    )
    # order kept, blanks and repeats (emails compare without case) dropped
    assert s.zoom_hosts == ("a@example.org", "KDcuGIm1QgePTO8WbOqwIQ", "b@example.org")


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"ZOOM_HOSTS": "a@example.org, not an email"}, "ZOOM_HOSTS"),
        ({"ZOOM_HOSTS": "a@example.org;b@example.org"}, "ZOOM_HOSTS"),
        ({"ZOOM_HOSTS": " , ,"}, "ZOOM_HOSTS"),
        ({"ZOOM_USER": "a@example.org,b@example.org"}, "ZOOM_USER"),
    ],
)
def test_bad_zoom_hosts_name_the_variable(env, name):
    with pytest.raises(ConfigError) as info:
        Settings.from_mapping(env)
    assert str(info.value).startswith(name) and "\n" not in str(info.value)
