"""The page's API: only the sandbox's own page may act (no other site's form, no other
Host), bad input gets a clear 400 and changes nothing, and files outside the page's
folder are never served."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from sandbox.server import Sandbox


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    running = Sandbox(tmp_path_factory.mktemp("page-api"), 0).start().serve_in_background()
    yield running
    running.stop()


def command(sandbox, headers=None, **body):
    body = {"user": "ULEAD001", "channel": "CGENERAL1", "text": "/cop help", **body}
    return requests.post(f"{sandbox.url}/api/command", json=body, headers=headers, timeout=10)


def test_the_page_runs_a_command(sandbox):
    assert command(sandbox).json() == {"ok": True, "error": None}
    texts = [m.text for m in sandbox.workspace.visible("ULEAD001")]
    assert any("copbot commands" in t for t in texts)


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Host": "evil.example:80"},
    ],
)
def test_another_site_cannot_act(sandbox, headers):
    before = len(sandbox.workspace.messages)
    answer = command(sandbox, headers=headers)
    assert answer.status_code == 403
    assert len(sandbox.workspace.messages) == before


def test_a_form_post_from_another_site_is_refused(sandbox):
    before = len(sandbox.workspace.messages)
    answer = requests.post(
        f"{sandbox.url}/api/command",
        data='{"user": "ULEAD001", "channel": "CGENERAL1", "text": "/cop help"}',
        headers={"Content-Type": "text/plain"},
        timeout=10,
    )
    assert answer.status_code == 403
    assert len(sandbox.workspace.messages) == before


@pytest.mark.parametrize(
    ("path", "body", "error"),
    [
        ("/api/command", {"user": "UNOBODY1", "channel": "CGENERAL1"}, "no such person"),
        ("/api/command", {"user": "ULEAD001", "channel": "CNOPE"}, "no such channel"),
        ("/api/say", {"user": "ULEAD001", "channel": "CGENERAL1", "text": " "}, "nothing to say"),
        ("/api/action", {"user": "ULEAD001", "action": {}}, "an action needs its action_id"),
        ("/api/clock", {"step": "yesterday"}, "unknown step 'yesterday'"),
    ],
)
def test_bad_input_is_a_clear_400(sandbox, path, body, error):
    now = sandbox.clock.now()
    answer = requests.post(f"{sandbox.url}{path}", json=body, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(error)
    assert sandbox.clock.now() - now < timedelta(minutes=1)


def test_only_the_pages_own_files_are_served(sandbox):
    assert requests.get(f"{sandbox.url}/static/app.js", timeout=5).status_code == 200
    for path in ("/static/../server.py", "/static/%2e%2e/server.py", "/static/nothing.js"):
        assert requests.get(f"{sandbox.url}{path}", timeout=5).status_code == 404, path


def test_an_unknown_zoom_meeting_says_so(sandbox):
    page = requests.get(f"{sandbox.url}/zoom/j/123", timeout=5)
    assert "There is no meeting 123 in the sandbox." in page.text


def test_the_bot_answers_on_the_same_port(sandbox):
    assert requests.get(f"{sandbox.url}/healthz", timeout=5).json()["database"] == "ok"


def test_the_favicon_is_served(sandbox):
    icon = requests.get(f"{sandbox.url}/favicon.ico", timeout=5)
    assert icon.status_code == 200 and icon.content[:4] == b"\x00\x00\x01\x00"


def test_the_zoom_join_page_says_the_start_in_the_meetings_own_zone(sandbox):
    sandbox.zoom.meetings[555] = {
        "id": 555,
        "topic": "Berlin call",
        "start_time": "2027-01-15T08:00:00Z",
        "timezone": "Europe/Berlin",
        "duration": 60,
    }
    page = requests.get(f"{sandbox.url}/zoom/j/555", timeout=5).text
    # 08:00 UTC is 09:00 in Berlin in winter; UTC is never labelled as Berlin
    assert "Friday, January 15, 2027 at 9:00 AM (Europe/Berlin)" in page
    assert "08:00" not in page


def test_a_message_shortcut_must_be_the_apps_and_name_a_message(sandbox):
    def post(**body):
        body = {"user": "ULEAD001", "channel": "CGENERAL1", "ts": "1.000001", **body}
        return requests.post(f"{sandbox.url}/api/shortcut", json=body, timeout=5)

    assert post(callback_id="nope").json()["error"] == "no such message shortcut"
    assert post(callback_id="save_evidence").json()["error"] == "no such message"


def test_the_clock_note_says_a_pass_in_words_not_log_lines():
    from bot.flows.reminders import PassResult
    from sandbox.clock import in_words

    assert in_words(PassResult()) == "The scheduler ran: nothing was due."
    result = PassResult(
        sent=["call_week call 1 v0 due 2027-01-08T10:00Z", "announcement 3 sent to 2 of 2"],
        missed=["call_hour call 2 v0 due 2027-01-08T09:00Z"],
    )
    said = in_words(result)
    assert said == (
        "The scheduler ran: 2 messages sent, 1 reminder not sent (the moment had passed)."
    )
    assert "call_week" not in said and "v0" not in said
