"""The one WebClient factory: SLACK_API_URL, 429 retries, and the profile cache."""

from __future__ import annotations

import time

from bot.flows.profiles import refresh_profiles
from bot.slack_client import make_web_client
from storage.db import session_scope
from storage.models import Person


def test_client_talks_to_the_configured_url(settings, slack):
    client = make_web_client(settings)
    assert client.base_url == slack.url
    assert client.auth_test()["ok"]
    assert slack.calls_to("auth.test")


def test_rate_limits_are_retried_after_retry_after(settings, slack):
    client = make_web_client(settings)
    slack.fail("chat.postMessage", "ratelimited", status=429, retry_after=1, times=1)
    started = time.monotonic()
    assert client.chat_postMessage(channel="C1", text="x")["ok"]
    assert time.monotonic() - started >= 0.9  # waited as Slack asked
    assert len(slack.calls_to("chat.postMessage")) == 2


def test_profiles_are_fetched_once_then_cached(settings, deps, slack, session):
    slack.add_user("U1", "ana", tz="America/Denver", email="ana@example.org")
    slack.add_user("UBOT1", "helper", is_bot=True)
    client = make_web_client(settings)
    refresh_profiles(client, deps, ["U1", "UBOT1", "U1"])
    refresh_profiles(client, deps, ["U1"])
    assert [c.args["user"] for c in slack.calls_to("users.info")] == ["U1", "UBOT1"]
    with session_scope(deps.engine) as s:
        ana, bot = s.get(Person, "U1"), s.get(Person, "UBOT1")
        assert (ana.display_name, ana.tz, ana.email, ana.is_bot) == (
            "ana",
            "America/Denver",
            "ana@example.org",
            False,
        )
        assert bot.is_bot


def test_a_failed_lookup_is_skipped_and_retried_later(settings, deps, slack, session):
    client = make_web_client(settings)
    refresh_profiles(client, deps, ["UGONE"])  # users.info: user_not_found
    with session_scope(deps.engine) as s:
        assert s.get(Person, "UGONE") is None
    slack.add_user("UGONE", "back")
    refresh_profiles(client, deps, ["UGONE"])
    with session_scope(deps.engine) as s:
        assert s.get(Person, "UGONE").display_name == "back"
