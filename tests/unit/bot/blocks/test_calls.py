"""Every call message builder with hostile text: nothing a person typed acts in Slack
(no mention, no broadcast, no fake link), and the wording reads as a person writes."""

from __future__ import annotations

import ast
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.blocks import calls as cb
from bot.blocks import year_plan as yb
from bot.blocks.limits import check_message
from storage.models import Call, CallKind, Community, MeetingState
from tests.helpers.paths import REPO_ROOT

HOSTILE = "<!channel> <@U1> <http://evil|Zoom> & |"
ACTING = ("<!channel>", "<@U1>", "<http://evil", "<!here>", "javascript:")


def _community() -> Community:
    return Community(
        id=7,
        team_id="T1",
        name=HOSTILE,
        name_key="x",
        slack_channel_id="C1",
        created_by="U9",
    )


def _call(**kw: Any) -> Call:
    fields: dict[str, Any] = dict(
        id=3,
        uid="abc",
        community_id=7,
        start_at=datetime(2027, 1, 20, 18, tzinfo=UTC),
        duration_minutes=60,
        timezone="America/Chicago",
        topic=HOSTILE,
        agenda=HOSTILE,
        host_user_id="UHOST1",
        alternate_user_id="UALT1",
        kind=CallKind.COMMUNITY.value,
        meeting_state=MeetingState.READY.value,
        meeting_error=HOSTILE,
        meeting_id=123,
        join_url=HOSTILE,
        passcode="<!here>",
        recording_url=HOSTILE,
        slides_url="javascript:alert(1)",
        created_by="UHOST1",
    )
    fields.update(kw)
    return Call(**fields)


def mrkdwn_texts(node: Any, top: bool = True) -> list[str]:
    """Every text Slack reads as mrkdwn: mrkdwn objects, and a message's fallback text."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn":
            found.append(node.get("text", ""))
        if top and isinstance(node.get("text"), str):
            found.append(node["text"])
        for key, value in node.items():
            if key != "text" or not isinstance(value, str):
                found += mrkdwn_texts(value, top=False)
    elif isinstance(node, list):
        for item in node:
            found += mrkdwn_texts(item, top=False)
    return found


def assert_inert(payload: Any) -> None:
    texts = mrkdwn_texts(payload)
    # a modal of inputs only holds plain text, which Slack never parses
    assert texts or payload.get("type") == "modal", "nothing to check"
    for text in texts:
        for bad in ACTING:
            assert bad not in text, f"{bad!r} acts in {text!r}"


def _payloads() -> dict[str, Any]:
    community = _community()
    pending = _call(id=4, meeting_state=MeetingState.PENDING.value, join_url=None)
    cancelled = _call(id=5, status="cancelled")
    return {
        "call_message": cb.call_message(
            _call(), community, calendar_url="http://copbot.test/c.ics"
        ),
        "call_message_pending": cb.call_message(pending, community),
        "call_message_cancelled": cb.call_message(cancelled, community),
        "calls_list": cb.calls_list(
            community,
            [_call(), pending],
            note=HOSTILE,
            may_manage=True,
            calendar_url=HOSTILE,
            call_calendar_url=lambda c: "http://copbot.test/x.ics",
        ),
        "schedule_modal": cb.schedule_modal(
            community, host="UHOST1", zone="America/Chicago", day="2027-01-20", call=_call()
        ),
        "year_modal": yb.year_modal(
            community,
            date(2027, 8, 1),
            [],
            zone="America/Chicago",
            milestones=[HOSTILE],
            skipped_months=[HOSTILE],
        ),
        "year_accepted_text": {
            "text": yb.year_accepted_text(
                1,
                1,
                moved=[HOSTILE],
                additional=[HOSTILE],
                skipped=[HOSTILE],
                problems=[HOSTILE],
            )
        },
    }


@pytest.mark.parametrize("name", list(_payloads()))
def test_hostile_text_never_acts(name):
    payload = _payloads()[name]
    assert_inert(payload)
    if "blocks" in payload and payload.get("type") != "modal":
        assert check_message(payload) == []


def test_every_builder_is_checked():
    public = {
        n.name
        for module in ("calls", "year_plan")
        for n in ast.parse((REPO_ROOT / f"bot/blocks/{module}.py").read_text()).body
        if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")
    }
    checked = {name.split("_pending")[0].split("_cancelled")[0] for name in _payloads()}
    # times, a length and the Join button (a call id) only: no text a person typed
    assert public - checked <= {"when", "ends_at", "join_button", "duration_input"}


def test_the_join_link_is_a_link_only_when_it_is_http():
    good = cb.call_message(_call(join_url="https://zoom.example/j/1"), _community())
    assert "<https://zoom.example/j/1|Join on Zoom>" in json.dumps(good)
    assert "join at https://zoom.example/j/1" in good["text"]
    bad = cb.call_message(_call(join_url="javascript:alert(1)"), _community())
    assert "javascript" not in json.dumps(bad)


def test_wording_counts_as_a_person_writes():
    one = yb.year_accepted_text(1, 1, moved=[], additional=["A"], skipped=[], problems=["x"])
    assert one.startswith("Scheduled 1 call and recorded 1 step for reminders.")
    assert "this one is an additional call: A." in one
    assert "1 Zoom meeting is not made yet (x); `/cop calls` has a Retry button." in one
    many = yb.year_accepted_text(
        5, 17, moved=[], additional=["A", "B"], skipped=[], problems=["x", "y"]
    )
    assert many.startswith("Scheduled 5 calls and recorded 17 steps for reminders.")
    assert "these are additional calls: A and B." in many
    assert "2 Zoom meetings are not made yet (x); `/cop calls` has Retry buttons." in many
    for text in (one, many):
        assert "(s)" not in text
    community = Community(id=1, team_id="T", name="Cop", name_key="cop", slack_channel_id="C")
    community.created_by = "U1"
    listed = cb.calls_list(community, [_call(topic="Intro")], note=None, may_manage=False)
    assert listed["text"].startswith("1 upcoming call of Cop: Intro on")
    assert cb.calls_list(community, [], note=None, may_manage=False)["text"] == (
        "No upcoming calls of Cop"
    )


def test_listeners_and_flows_never_see_zoom():
    """Zoom's own errors and client stay behind the conferencing seam."""
    for path in [*REPO_ROOT.glob("bot/listeners/**/*.py"), *REPO_ROOT.glob("bot/flows/**/*.py")]:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                assert module != "integrations.zoom", path.name
                assert not module.startswith("integrations.zoom."), path.name
