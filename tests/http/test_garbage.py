"""Malformed payloads through the signed endpoint: garbage in every button value,
private_metadata and form of every listener the app registers gets an answer (never
HTTP 500) and changes nothing in the database."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel

from bot.listeners import register_all
from sandbox import slack_payloads as payloads
from sandbox.slack_standin import TEAM_ID
from tests.helpers.endpoint import STAFF
from tests.helpers.records import new_community
from tests.helpers.slack import schedule_form

CHANNEL = "CCOMM001"
GARBAGE_VALUES = ["", "abc", "-1", "0", "1.5", "99999999", str(2**70), "{}", "null", "1:2:3"]
GARBAGE_METADATA = [
    "",
    "not json",
    "{}",
    "[]",
    "null",
    '"text"',
    "12:99",
    '{"community": "x", "call": "y"}',
    '{"community": 99999999, "call": 99999999}',
    '{"community": -1, "call": [1]}',
    '{"c": 1, "n": "x"}',
]
GARBAGE_STATES: list[dict[str, Any]] = [
    {},
    {"x": {"y": {"type": "plain_text_input", "value": "<!channel>"}}},
    {"x": "not a dict"},
]
RESPONSE_URL = ""  # set by the fixture: the stand-in's
UNTRACKED = {"handled_request", "handled_event"}  # the replay guard's own bookkeeping


class _Recorder:
    """Stands in for the Bolt app while `register_all` runs: notes every listener."""

    def __init__(self) -> None:
        self.registered: list[tuple[str, Any]] = []

    def __getattr__(self, kind: str):
        def register(constraint: Any, *args: Any, **kwargs: Any):
            self.registered.append((kind, constraint))
            return lambda fn: fn

        return register


def registered() -> list[tuple[str, Any]]:
    recorder = _Recorder()
    register_all(recorder)  # type: ignore[arg-type]
    return recorder.registered


def sample_id(constraint: Any) -> str:
    """An id the listener's constraint matches (a string, or a pattern like ^prefix)."""
    if isinstance(constraint, re.Pattern):
        return constraint.pattern.strip("^$") + "_7"
    assert isinstance(constraint, str), constraint
    return constraint


def snapshot(engine) -> dict[str, list]:
    tables = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name not in UNTRACKED:
                rows = conn.execute(sa_select(table)).all()
                tables[table.name] = sorted(repr(tuple(r)) for r in rows)
    return tables


@pytest.fixture
def world(as_user, session, slack, zoom):
    """A community led by U1 with its channel, and the app's real endpoint."""
    slack.add_user("U1", "ana", tz="America/Chicago")
    community = new_community(session, channel=CHANNEL, leader="U1", team=TEAM_ID)
    session.commit()
    # a scheduled call (with its Zoom meeting) that garbage must not touch
    leader = as_user("U1", CHANNEL)
    year = date.today().year + 1
    scheduled = leader.interact(schedule_form(community.id, f"{year}-01-13"))
    assert scheduled.status_code == 200 and not scheduled.content, scheduled.text
    leader.settle()
    assert zoom.meetings
    global RESPONSE_URL
    RESPONSE_URL = slack.response_url("garbage")
    return as_user


def test_the_recorder_sees_every_listener_the_app_has(settings, endpoint):
    from bot.app import build_app

    app = build_app(settings)
    found = registered()
    assert len(found) == len(app._listeners)
    kinds = {kind for kind, _ in found}
    assert {"action", "view", "command", "event"} <= kinds


def block_action(action_id: str, value: Any, user: str, *, in_view: bool) -> dict:
    action = {"type": "button", "action_id": action_id, "block_id": "b", "action_ts": "1.5"}
    if value is not None:
        action["value"] = value
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": TEAM_ID},
        "user": {"id": user},
        "api_app_id": "A0COPBOT",
        "trigger_id": "1.1.trigger",
        "actions": [action],
    }
    if in_view:
        payload["container"] = {"type": "view", "view_id": "VGARBAGE"}
        payload["view"] = {
            "id": "VGARBAGE",
            "hash": "1.h",
            "type": "modal",
            "callback_id": "whatever",
            "private_metadata": value if isinstance(value, str) else "",
            "state": {"values": {}},
        }
    else:
        payload["container"] = {"type": "message", "channel_id": CHANNEL, "message_ts": "1.1"}
        payload["channel"] = {"id": CHANNEL}
        payload["response_url"] = RESPONSE_URL
    return payload


@pytest.mark.parametrize("user", ["U1", "UMALLORY", STAFF])
def test_garbage_in_every_button_and_form_is_answered_and_changes_nothing(
    world, engine, slack, zoom, user
):
    person = world(user, CHANNEL)
    before = snapshot(engine)
    meetings = dict(zoom.meetings)
    answered = []
    view_apologies = []
    for kind, constraint in registered():
        if kind == "action":
            action_id = sample_id(constraint)
            for value in [*GARBAGE_VALUES, None]:
                for in_view in (False, True):
                    payload = block_action(action_id, value, user, in_view=in_view)
                    answered.append((action_id, value, person.interact(payload).status_code))
        elif kind == "view":
            callback_id = sample_id(constraint)
            for meta in GARBAGE_METADATA:
                for state in GARBAGE_STATES:
                    payload = payloads.view_submission_payload(
                        callback_id, state, user_id=user, private_metadata=meta
                    )
                    response = person.interact(payload)
                    answered.append((callback_id, meta, response.status_code))
                    if response.content:
                        answer = json.loads(response.content)  # an answer Slack can read
                        if "went wrong on my side" in json.dumps(answer):
                            view_apologies.append((callback_id, meta, state))
            broken = payloads.view_submission_payload(callback_id, {}, user_id=user)
            del broken["view"]["state"]
            answered.append((callback_id, "no state", person.interact(broken).status_code))
    person.settle()
    assert [a for a in answered if a[2] != 200] == []
    assert len(answered) > 100
    # every listener said what was wrong itself: none fell through to the app's apology
    apologies = [c.args for c in slack.calls if "went wrong on my side" in json.dumps(c.args)]
    assert apologies == []
    assert view_apologies == []  # a form's apology is the answer itself, a pushed view
    assert snapshot(engine) == before
    assert zoom.meetings == meetings


@pytest.mark.parametrize(
    "body",
    [
        "payload=not-json",
        "payload=%7B%7D",  # {}
        "payload=%5B%5D",  # []
        "payload=",
        "nothing=here",
        "",
    ],
)
def test_malformed_bodies_are_answered_without_a_server_error(world, body):
    response = world("U1").post(body)
    assert response.status_code < 500, response.text


def test_a_failing_listener_answers_an_apology_and_logs_the_kind(world, monkeypatch, caplog):
    from bot.listeners import commands

    def broken(req):
        raise RuntimeError("boom")

    monkeypatch.setitem(commands.HANDLERS, "members", broken)
    caplog.set_level("INFO")
    body = world("U1").reply("members secret words")
    assert body["response_type"] == "ephemeral"
    assert body["text"].startswith("Something went wrong")
    failed = [r for r in caplog.records if r.getMessage().startswith("request failed")]
    assert failed and "kind=command id=/cop members user=U1" in failed[0].getMessage()
    assert "secret words" not in caplog.text
