"""The Slack stand-in holds calls against Slack's spec and answers like Slack."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.slack_standin import SlackSpec, SlackStandIn


def client(standin: SlackStandIn, token: str = "xoxb-t") -> WebClient:
    return WebClient(token=token, base_url=standin.url)


def test_spec_check_catches_unknown_methods_arguments_and_missing_required():
    spec = SlackSpec()
    assert spec.check("chat.postMessage", {"channel": "C1", "text": "hi"}) == []
    assert spec.check("chat.postMesage", {}) == ["chat.postMesage: not a Slack Web API method"]
    assert spec.check("chat.postMessage", {"channel": "C1", "colour": "red"}) == [
        "chat.postMessage: argument 'colour' is not in the spec"
    ]
    assert spec.check("views.open", {"view": "{}"}) == [
        "views.open: required argument 'trigger_id' is missing"
    ]
    assert spec.check("users.info", {"user": "U1", "include_locale": "maybe"}) == [
        "users.info: argument 'include_locale' should be boolean"
    ]
    assert spec.scope_of("chat.postMessage") == "chat:write"
    assert spec.scope_of("views.open") is None


def test_violations_are_recorded_and_answered_as_slack_would(slack_session):
    slack_session.reset()
    with pytest.raises(SlackApiError) as info:
        client(slack_session).api_call("chat.postMessage", json={"chanel": "C1", "text": "x"})
    assert info.value.response["error"] == "invalid_arguments"
    assert "argument 'chanel' is not in the spec" in slack_session.violations[0]
    with pytest.raises(SlackApiError) as info:
        client(slack_session).api_call("chat.shout", json={})
    assert info.value.response["error"] == "unknown_method"
    slack_session.reset()


def test_answers_record_and_script_failures(slack):
    slack.add_user("U1", "ana", tz="Europe/Paris", email="ana@example.org")
    c = client(slack)
    assert c.auth_test()["user_id"] == "U0COPBOT"
    assert c.users_info(user="U1")["user"]["tz"] == "Europe/Paris"
    with pytest.raises(SlackApiError):
        c.users_info(user="UNOBODY")
    posted = c.chat_postMessage(channel="C1", text="hello", blocks=[{"type": "divider"}])
    assert posted["ts"] and posted["channel"] == "C1"
    [call] = slack.calls_to("chat.postMessage")
    assert call.json_arg("blocks") == [{"type": "divider"}]
    assert call.headers["authorization"] == "Bearer xoxb-t"

    slack.fail("chat.postMessage", "channel_not_found", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as info:
            c.chat_postMessage(channel="C404", text="x")
        assert info.value.response["error"] == "channel_not_found"
    assert c.chat_postMessage(channel="C404", text="x")["ok"]


def test_missing_token_is_not_authed(slack):
    with pytest.raises(SlackApiError) as info:
        WebClient(base_url=slack.url).chat_postMessage(channel="C1", text="x")
    assert info.value.response["error"] == "not_authed"


def test_wait_for_times_out_with_what_it_saw(slack):
    client(slack).auth_test()
    with pytest.raises(AssertionError, match=r"saw \['auth.test'\]"):
        slack.wait_for("chat.postMessage", timeout=0.1)
