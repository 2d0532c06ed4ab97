"""The sandbox's Slack plays Slack's side: what it sends an app (signed, with the fields
Slack sends), and what it does with the app's acks and Web API calls, with Slack's error
names. A scripted app stands in for copbot here, so each rule is checked on its own."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox import slack_payloads as payloads
from sandbox.person import Slack, values_for
from sandbox.slack_standin import SlackSpec
from sandbox.workspace import Message, Workspace

SECRET = "unit-secret"
ANA, BEN = "ULEAD001", "ULEAD002"
CHANNEL = "CDATA0001"


class ScriptedApp:
    """An app on 127.0.0.1 that checks each request's signature, keeps it, and answers with
    the next scripted (body, delay)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[tuple[object, float]] = []
        app = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"])).decode()
                ts = self.headers["X-Slack-Request-Timestamp"]
                assert self.headers["X-Slack-Signature"] == payloads.signature(SECRET, ts, raw)
                if self.headers["Content-Type"].startswith("application/json"):
                    app.requests.append(json.loads(raw))
                else:
                    fields = {k: v[0] for k, v in parse_qs(raw).items()}
                    payload = fields.get("payload")
                    app.requests.append(json.loads(payload) if payload else fields)
                body, delay = app.answers.pop(0) if app.answers else ("", 0.0)
                time.sleep(delay)
                data = (json.dumps(body) if isinstance(body, dict) else body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def answer(self, body: object = "", delay: float = 0.0) -> None:
        self.answers.append((body, delay))


@pytest.fixture(scope="module")
def spec():
    return SlackSpec()


@pytest.fixture
def world(spec):
    workspace = Workspace(spec=spec).start()
    for user, name, tz in ((ANA, "ana", "America/New_York"), (BEN, "ben", "Europe/Berlin")):
        workspace.add_user(user, name, tz=tz)
        workspace.dm_of(user)
    workspace.add_channel(CHANNEL, "data-science").bot_member = True
    workspace.add_channel("COTHER001", "other")
    app = ScriptedApp()
    slack = Slack(workspace, app.url, SECRET)
    client = WebClient(token="xoxb-unit", base_url=workspace.url)
    yield workspace, app, slack, client
    app.server.shutdown()
    workspace.stop()


def error_of(call) -> str:
    with pytest.raises(SlackApiError) as raised:
        call()
    return raised.value.response["error"]


MODAL = {
    "type": "modal",
    "callback_id": "cb",
    "title": {"type": "plain_text", "text": "A modal"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [
        {
            "type": "input",
            "block_id": "name",
            "label": {"type": "plain_text", "text": "Name"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
    ],
}


# ---- what the app receives ------------------------------------------------------------------
def test_a_slash_command_arrives_signed_with_slacks_fields_and_escaped_text(world):
    workspace, app, slack, _ = world
    slack.command(ANA, CHANNEL, "/cop leaders @ana @ben <b>&")
    [sent] = app.requests
    assert sent["command"] == "/cop"
    assert sent["text"] == "leaders <@ULEAD001|ana> <@ULEAD002|ben> &lt;b&gt;&amp;"
    assert sent["user_id"] == ANA and sent["channel_id"] == CHANNEL
    assert sent["response_url"].startswith(workspace.base_url + "/hooks/")
    assert sent["trigger_id"] in workspace.triggers


def test_an_ephemeral_ack_is_seen_by_its_person_only_and_in_channel_by_all(world):
    workspace, app, slack, _ = world
    app.answer({"text": "just you"})
    app.answer({"text": "everyone", "response_type": "in_channel"})
    slack.command(ANA, CHANNEL, "/cop help")
    slack.command(ANA, CHANNEL, "/cop help")
    assert [m.text for m in workspace.visible(ANA)] == ["just you", "everyone"]
    assert [m.text for m in workspace.visible(BEN)] == ["everyone"]


def test_an_ack_later_than_3_seconds_is_slacks_operation_timeout(world):
    workspace, app, slack, _ = world
    app.answer({"text": "too late"}, delay=3.3)
    outcome = slack.command(ANA, CHANNEL, "/cop help")
    assert outcome.error == "operation_timeout"
    [problem] = workspace.problems
    assert (problem.error, problem.user, problem.channel) == ("operation_timeout", ANA, CHANNEL)
    assert workspace.visible(ANA) == []  # the late answer is not shown


def test_a_command_that_does_not_exist_is_refused_before_the_app_hears_of_it(world):
    workspace, app, slack, _ = world
    assert slack.command(ANA, CHANNEL, "/nope").error == "invalid_command"
    assert app.requests == []


def test_app_home_opened_is_an_event_callback(world):
    _, app, slack, _ = world
    slack.open_home(ANA)
    [event] = app.requests
    assert event["type"] == "event_callback"
    assert event["event"]["type"] == "app_home_opened" and event["event"]["tab"] == "home"


def test_shortcut_and_message_action_payloads(world):
    workspace, app, slack, client = world
    posted = client.chat_postMessage(channel=CHANNEL, text="hello")
    slack.shortcut(ANA, "quick")
    slack.message_action(ANA, CHANNEL, posted["ts"], "on_message")
    shortcut, action = app.requests
    assert shortcut["type"] == "shortcut" and shortcut["callback_id"] == "quick"
    assert action["type"] == "message_action" and action["message"]["text"] == "hello"
    assert action["response_url"].startswith(workspace.base_url + "/hooks/")


# ---- trigger_id -----------------------------------------------------------------------------
def test_a_trigger_id_opens_one_modal_once_within_3_seconds(world):
    workspace, _, _, client = world
    trigger = workspace.issue_trigger(ANA)
    view = client.views_open(trigger_id=trigger, view=MODAL)["view"]
    assert workspace.stacks[ANA] == [view["id"]]
    assert error_of(lambda: client.views_open(trigger_id=trigger, view=MODAL)) == (
        "exchanged_trigger_id"
    )
    assert error_of(lambda: client.views_open(trigger_id="1.2.nope", view=MODAL)) == (
        "invalid_trigger_id"
    )
    late = workspace.issue_trigger(ANA)
    workspace.triggers[late].issued -= 3.5
    assert error_of(lambda: client.views_open(trigger_id=late, view=MODAL)) == "expired_trigger_id"
    assert [p.error for p in workspace.problems] == [
        "exchanged_trigger_id",
        "invalid_trigger_id",
        "expired_trigger_id",
    ]


# ---- views ------------------------------------------------------------------------------------
def test_views_update_with_a_stale_hash_is_a_hash_conflict(world):
    workspace, _, _, client = world
    view = client.views_open(trigger_id=workspace.issue_trigger(ANA), view=MODAL)["view"]
    updated = client.views_update(view_id=view["id"], hash=view["hash"], view=MODAL)["view"]
    assert updated["hash"] != view["hash"]
    assert error_of(
        lambda: client.views_update(view_id=view["id"], hash=view["hash"], view=MODAL)
    ) == ("hash_conflict")
    assert error_of(lambda: client.views_update(view_id="V404", view=MODAL)) == "not_found"


def test_views_push_stops_at_three_modals(world):
    workspace, _, _, client = world
    client.views_open(trigger_id=workspace.issue_trigger(ANA), view=MODAL)
    client.views_push(trigger_id=workspace.issue_trigger(ANA), view=MODAL)
    client.views_push(trigger_id=workspace.issue_trigger(ANA), view=MODAL)
    assert error_of(
        lambda: client.views_push(trigger_id=workspace.issue_trigger(ANA), view=MODAL)
    ) == ("push_limit_reached")
    assert len(workspace.stacks[ANA]) == 3


def test_invalid_blocks_are_refused_with_the_reason(world):
    workspace, _, _, client = world
    too_many = [{"type": "divider"}] * 51
    assert error_of(
        lambda: client.chat_postMessage(channel=CHANNEL, text="x", blocks=too_many)
    ) == ("invalid_blocks")
    [problem] = workspace.problems
    assert "50" in problem.detail
    assert workspace.visible(ANA) == []


def _open(workspace, client, user=ANA, view=MODAL) -> str:
    return client.views_open(trigger_id=workspace.issue_trigger(user), view=view)["view"]["id"]


@pytest.mark.parametrize(
    ("ack", "left"),
    [
        ("", 0),
        ({"response_action": "clear"}, 0),
        ({"response_action": "update", "view": {**MODAL, "callback_id": "next"}}, 1),
        ({"response_action": "push", "view": {**MODAL, "callback_id": "next"}}, 2),
        ({"response_action": "errors", "errors": {"name": "Too short"}}, 1),
    ],
)
def test_response_action_on_submission(world, ack, left):
    workspace, app, slack, client = world
    view_id = _open(workspace, client)
    app.answer(ack)
    slack.submit(ANA, view_id, values_for(MODAL, {"name": "x"}))
    [submitted] = app.requests
    assert submitted["type"] == "view_submission"
    assert submitted["view"]["state"]["values"]["name"]["value"]["value"] == "x"
    assert len(workspace.stacks[ANA]) == left
    if left:
        top = workspace.views[workspace.stacks[ANA][-1]]
        expected = ack["view"]["callback_id"] if "view" in ack else "cb"
        assert top["callback_id"] == expected
    if "errors" in ack:
        assert workspace.view_errors[view_id] == {"name": "Too short"}


def test_errors_for_a_block_that_is_not_an_input_are_reported(world):
    workspace, app, slack, client = world
    view_id = _open(workspace, client)
    app.answer({"response_action": "errors", "errors": {"nowhere": "?"}})
    slack.submit(ANA, view_id, {})
    assert [p.error for p in workspace.problems] == ["invalid_response_action"]


def test_closing_a_modal_sends_view_closed_only_when_asked(world):
    workspace, app, slack, client = world
    _open(workspace, client)
    slack.close(ANA)
    _open(workspace, client, view={**MODAL, "notify_on_close": True})
    slack.close(ANA, all_views=True)
    [closed] = app.requests
    assert closed["type"] == "view_closed" and closed["view"]["notify_on_close"] is True
    assert workspace.stacks[ANA] == []


def test_a_button_in_a_modal_sends_the_view_with_its_state(world):
    workspace, app, slack, client = world
    view_id = _open(workspace, client)
    button = {"type": "button", "action_id": "go", "block_id": "nav", "value": "1"}
    slack.click(ANA, button, view_id=view_id, values=values_for(MODAL, {"name": "typed"}))
    [clicked] = app.requests
    assert clicked["container"] == {"type": "view", "view_id": view_id}
    assert clicked["view"]["state"]["values"]["name"]["value"]["value"] == "typed"
    assert clicked["actions"][0]["action_id"] == "go"
    # nobody clicks in someone else's modal
    assert slack.click(BEN, button, view_id=view_id).error == "not_found"


def test_app_home_is_per_person(world):
    workspace, _, _, client = world
    home = {"type": "home", "blocks": [{"type": "divider"}]}
    client.views_publish(user_id=ANA, view=home)
    assert set(workspace.homes) == {ANA}
    assert error_of(lambda: client.views_publish(user_id=ANA, view=MODAL)) == "invalid_arguments"


# ---- messages and response_url -----------------------------------------------------------------
def test_posting_where_the_app_is_not_a_member_is_not_in_channel(world):
    workspace, _, _, client = world
    assert error_of(lambda: client.chat_postMessage(channel="COTHER001", text="x")) == (
        "not_in_channel"
    )
    assert error_of(lambda: client.chat_postMessage(channel="CNOWHERE1", text="x")) == (
        "channel_not_found"
    )
    client.conversations_join(channel="COTHER001")
    client.chat_postMessage(channel="COTHER001", text="now I can")
    client.chat_postMessage(channel=ANA, text="to ana's DM")
    assert [m.channel for m in workspace.visible(ANA)] == ["COTHER001", "DLEAD001"]
    assert [m.channel for m in workspace.visible(BEN)] == ["COTHER001"]


def test_threads_updates_and_ephemerals(world):
    workspace, _, _, client = world
    parent = client.chat_postMessage(channel=CHANNEL, text="parent")["ts"]
    client.chat_postMessage(channel=CHANNEL, text="reply", thread_ts=parent)
    client.chat_update(channel=CHANNEL, ts=parent, text="edited")
    client.chat_postEphemeral(channel=CHANNEL, user=BEN, text="psst")
    assert error_of(lambda: client.chat_update(channel=CHANNEL, ts="1.2", text="x")) == (
        "message_not_found"
    )
    messages = workspace.visible(BEN)
    assert [(m.text, m.thread_ts, m.edited) for m in messages] == [
        ("edited", None, True),
        ("reply", parent, False),
        ("psst", None, False),
    ]
    assert [m.text for m in workspace.visible(ANA)] == ["edited", "reply"]


def test_response_url_replaces_deletes_and_stops_after_five_uses(world):
    workspace, app, slack, client = world
    ts = client.chat_postMessage(channel=CHANNEL, text="with a button")["ts"]
    button = {"type": "button", "action_id": "b", "block_id": "x", "value": "1"}
    slack.click(ANA, button, channel=CHANNEL, ts=ts)
    [clicked] = app.requests
    assert (
        clicked["container"]["message_ts"] == ts and clicked["message"]["text"] == "with a button"
    )
    hook = clicked["response_url"]
    post = requests.post
    assert post(hook, json={"text": "replaced", "replace_original": True}).ok
    assert workspace.find(CHANNEL, ts).text == "replaced"
    assert post(hook, json={"text": "new ephemeral"}).ok
    assert post(hook, json={"text": "for all", "response_type": "in_channel"}).ok
    assert post(hook, json={"delete_original": True}).ok
    assert workspace.find(CHANNEL, ts) is None
    assert [m.text for m in workspace.visible(ANA)] == ["new ephemeral", "for all"]
    assert [m.text for m in workspace.visible(BEN)] == ["for all"]
    assert post(hook, json={"text": "fifth"}).ok
    sixth = post(hook, json={"text": "sixth"})
    assert sixth.status_code == 404 and sixth.json()["error"] == "used_url"
    assert [p.error for p in workspace.problems] == ["used_url"]


def test_a_person_cannot_click_in_someone_elses_ephemeral(world):
    workspace, _, slack, _ = world
    mine = workspace.add_message(Message(CHANNEL, "1.000001", "psst", ephemeral_to=ANA))
    button = {"type": "button", "action_id": "b", "block_id": "x"}
    assert slack.click(BEN, button, channel=CHANNEL, ts=mine.ts).error == "message_not_found"


def test_the_workspace_survives_a_restart(world):
    workspace, _, _, client = world
    client.chat_postMessage(channel=CHANNEL, text="kept")
    client.views_publish(user_id=ANA, view={"type": "home", "blocks": []})
    again = Workspace()
    again.restore(json.loads(json.dumps(workspace.snapshot())))
    assert [m.text for m in again.messages] == ["kept"]
    assert ANA in again.homes


def test_the_close_button_goes_back_unless_the_view_clears_on_close(world):
    workspace, _, slack, client = world
    _open(workspace, client)
    client.views_push(trigger_id=workspace.issue_trigger(ANA), view=MODAL)
    slack.close(ANA)
    assert len(workspace.stacks[ANA]) == 1
    client.views_push(
        trigger_id=workspace.issue_trigger(ANA), view={**MODAL, "clear_on_close": True}
    )
    slack.close(ANA)
    assert workspace.stacks[ANA] == []


# ---- files (files.uploadV2) ---------------------------------------------------------------------
def test_an_uploaded_file_is_shared_in_its_conversation_with_its_comment(world):
    workspace, _app, _slack, client = world
    dm = workspace.dm_of(ANA)
    client.files_upload_v2(
        channel=dm,
        filename="plan.md",
        title="Plan: Data",
        content="# Plan\n\nÜber.\n",
        initial_comment="The plan of *Data*.",
    )
    [shared] = [m for m in workspace.visible(ANA) if m.files]
    assert shared.channel == dm and shared.text == "The plan of *Data*."
    [entry] = shared.files
    assert (entry["name"], entry["title"], entry["mimetype"]) == (
        "plan.md",
        "Plan: Data",
        "text/markdown",
    )
    assert entry["size"] == len("# Plan\n\nÜber.\n".encode())
    assert workspace.file_for(ANA, entry["id"])["content"] == "# Plan\n\nÜber.\n"
    assert workspace.file_for(BEN, entry["id"]) is None  # not in Ben's conversations


def test_file_uploads_are_refused_as_slack_refuses_them(world):
    workspace, _app, _slack, client = world
    assert (
        error_of(
            lambda: client.files_completeUploadExternal(
                files=[{"id": "F99999999"}], channel_id=CHANNEL
            )
        )
        == "file_not_found"
    )
    # a file uploaded but shared where the app is not a member
    assert (
        error_of(lambda: client.files_upload_v2(channel="COTHER001", filename="a.md", content="a"))
        == "not_in_channel"
    )
    assert (
        error_of(lambda: client.files_upload_v2(channel="CNOPE0001", filename="a.md", content="a"))
        == "channel_not_found"
    )
    assert not any(m.files for m in workspace.messages)
