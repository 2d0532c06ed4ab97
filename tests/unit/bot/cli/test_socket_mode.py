"""`copbot run` as shipped: Socket Mode against the stand-in's WebSocket, end to end."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.blocks import community as cb
from sandbox import slack_payloads as payloads
from tests.helpers.communities import communities, new_values
from tests.helpers.endpoint import STAFF


@pytest.fixture
def running(db_url, slack, session, tmp_path):
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-socket-test",
        "SLACK_APP_TOKEN": "xapp-1-socket-test",
        "SLACK_API_URL": slack.url,
        "DATABASE_URL": db_url,
        "COPBOT_STAFF": STAFF,
        "COPBOT_LOG_LEVEL": "WARNING",
    }
    env.pop("SLACK_SIGNING_SECRET", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        slack.wait_for_socket_mode(timeout=30)
    except AssertionError:
        proc.kill()
        pytest.fail(f"copbot run did not connect: {proc.stdout.read()}")
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_run_connects_and_answers_commands_and_modals(running, slack, engine):
    [opened] = slack.calls_to("apps.connections.open")
    assert opened.headers["authorization"] == "Bearer xapp-1-socket-test"
    slack.add_channel("CSOCK001", members=["U1"])

    ack = slack.send_envelope(
        "slash_commands", payloads.slash_command_fields("help", user_id="U1", channel_id="CSOCK001")
    )
    assert "/cop members" in ack["text"] and ack["response_type"] == "ephemeral"

    ack = slack.send_envelope(
        "slash_commands", payloads.slash_command_fields("new", user_id="U1", channel_id="CSOCK001")
    )
    view = slack.wait_for("views.open")[0].json_arg("view")
    assert view["callback_id"] == cb.NEW_COMMUNITY_CALLBACK

    submission = payloads.view_submission_payload(
        cb.NEW_COMMUNITY_CALLBACK, new_values(name="", channel="CSOCK001"), user_id="U1"
    )
    ack = slack.send_envelope("interactive", submission)
    assert ack["response_action"] == "errors" and cb.NAME in ack["errors"]
    assert communities(engine) == []

    submission = payloads.view_submission_payload(
        cb.NEW_COMMUNITY_CALLBACK,
        new_values(name="Socket people", channel="CSOCK001"),
        user_id="U1",
    )
    slack.send_envelope("interactive", submission)
    slack.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == "CSOCK001")
    assert [c.name for c in communities(engine)] == ["Socket people"]

    ack = slack.send_envelope(
        "slash_commands",
        payloads.slash_command_fields("members", user_id="U1", channel_id="CSOCK001"),
    )
    assert ack["text"].startswith("Socket people: 1 leader and 0 members.")
