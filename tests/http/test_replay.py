"""Replayed deliveries through the signed endpoint: a view submission, button click or
command that arrives twice (Slack retries, double clicks) answers as the first did and
does nothing more; the next real step of an updated view is not mistaken for a replay."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from bot.blocks import calls as cb
from bot.blocks import plan as pb
from bot.services import calls as rules
from bot.services import plans
from bot.services.planning_tool import section
from sandbox import slack_payloads as payloads
from sandbox.slack_standin import TEAM_ID
from storage.db import session_scope
from storage.models import Call, Community, HandledRequest
from tests.helpers.records import new_community
from tests.helpers.slack import schedule_form as conftest_schedule_form

CHANNEL = "CCOMM001"
CREATE = "POST /users/{userId}/meetings"
Y = date.today().year + 1


@pytest.fixture
def leader(as_user, session, slack, zoom):
    slack.add_user("U1", "ana", tz="America/Chicago")
    new_community(session, channel=CHANNEL, leader="U1", team=TEAM_ID)
    session.commit()
    return as_user("U1")


def community_id(engine) -> int:
    with session_scope(engine) as s:
        return s.exec(select(Community)).one().id


def stored_calls(engine) -> list[Call]:
    with session_scope(engine) as s:
        return list(s.exec(select(Call)).all())


def schedule_form(engine, date_text: str = f"{Y}-01-13", **payload_args) -> dict:
    return conftest_schedule_form(community_id(engine), date_text, **payload_args)


def answer(response) -> dict:
    assert response.status_code == 200, response.text
    return response.json() if response.content else {}


def test_a_schedule_form_delivered_three_times_makes_one_call(leader, zoom, engine):
    body = payloads.interactive(schedule_form(engine))
    answers = [answer(leader.post(body)) for _ in range(3)]
    leader.settle()
    assert answers == [{}, {}, {}]
    assert len(stored_calls(engine)) == 1
    assert len(zoom.calls_to(CREATE)) == 1


def test_concurrent_deliveries_of_one_submission_make_one_call(leader, zoom, engine):
    body = payloads.interactive(schedule_form(engine))
    answers: list[dict] = []
    start = threading.Barrier(5)

    def deliver(retry: int) -> None:
        start.wait()
        headers = {"X-Slack-Retry-Num": str(retry)} if retry else {}
        answers.append(answer(leader.post(body, headers=headers)))

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    leader.settle()
    assert answers == [{}] * 5
    assert len(stored_calls(engine)) == 1
    assert len(zoom.calls_to(CREATE)) == 1


def test_a_replay_gets_the_first_answer_even_when_it_was_an_error(leader, zoom, engine):
    body = payloads.interactive(schedule_form(engine, "2026-01-05", view_hash="7.hash"))
    first = answer(leader.post(body))
    assert first["response_action"] == "errors" and rules.DATE in first["errors"]
    retry = answer(leader.post(body, headers={"X-Slack-Retry-Num": "1"}))
    assert retry == first
    # the person fixes the date and submits the same view again (same id and hash:
    # an errors answer does not update the view): that is a new request
    fixed = answer(leader.interact(schedule_form(engine, view_hash="7.hash")))
    leader.settle()
    assert fixed == {}
    assert len(stored_calls(engine)) == 1


def test_each_step_of_an_updated_view_happens_and_a_replayed_step_does_not(leader, slack, engine):
    cid = community_id(engine)

    def step(number: int, view_hash: str, prefix: str) -> dict:
        state = {
            q.key: {"value": payloads.input_value("plain_text_input", f"{prefix} {q.key}")}
            for q in section(number).questions
            if q.kind != "areas"
        }
        payload = payloads.view_submission_payload(
            pb.SECTION_CALLBACK,
            state,
            user_id="U1",
            private_metadata=pb.metadata(cid, number),
            view_id="VPLAN0001",
            view_hash=view_hash,
        )
        return answer(leader.interact(payload))

    one = step(1, "1.aaa", "First")
    assert one["response_action"] == "update"
    assert "Section 2 of 7" in json.dumps(one["view"])
    # Slack keeps the view's id across response_action: update and gives it a new hash
    two = step(2, "2.bbb", "Second")
    assert "Section 3 of 7" in json.dumps(two["view"])
    with session_scope(engine) as s:
        before = plans.load(s, s.get(Community, cid))
    assert before.answered_in(1) >= 1 and before.answered_in(2) >= 1
    assert before.resume_section() == 3
    # step 1 delivered again: the first answer, and nothing saved (it would go back to 2)
    assert step(1, "1.aaa", "First") == one
    with session_scope(engine) as s:
        after = plans.load(s, s.get(Community, cid))
    assert after.resume_section() == 3
    assert after.answers == before.answers


def cancel_click(user, call: Call, action_ts: str) -> dict:
    return {
        "type": "block_actions",
        "team": {"id": TEAM_ID},
        "user": {"id": user.user_id},
        "api_app_id": "A0COPBOT",
        "trigger_id": "99.99.trigger",
        "response_url": user.slack.response_url("action"),
        "container": {"type": "message", "channel_id": CHANNEL, "message_ts": call.message_ts},
        "channel": {"id": CHANNEL},
        "actions": [
            {
                "type": "button",
                "action_id": cb.CANCEL_ACTION,
                "value": str(call.id),
                "block_id": f"call-{call.id}",
                "action_ts": action_ts,
            }
        ],
    }


def test_a_click_delivered_twice_acts_once_and_tells_once(leader, slack, zoom, engine):
    assert answer(leader.interact(schedule_form(engine))) == {}
    leader.settle()
    [call] = stored_calls(engine)
    slack.reset()
    body = payloads.interactive(cancel_click(leader, call, "1700000000.000100"))
    assert leader.post(body).status_code == 200
    leader.settle()
    seen = len(slack.calls)
    assert leader.post(body, headers={"X-Slack-Retry-Num": "1"}).status_code == 200
    leader.settle()
    assert len(slack.calls) == seen  # no "already cancelled", no second note
    assert len(zoom.calls_to("DELETE /meetings/{meetingId}")) == 1
    # a new click (a new action_ts) is a new request: it is answered
    assert leader.post(payloads.interactive(cancel_click(leader, call, "1700000001.1"))).ok
    leader.settle()
    [told] = slack.wait_for("response_url", where=lambda c: "already" in c.args.get("text", ""))
    assert "already cancelled" in told.args["text"]


def test_a_command_delivered_twice_opens_one_modal(leader, slack):
    body = payloads.slash_command(
        "schedule", user_id="U1", channel_id=CHANNEL, response_url=slack.response_url()
    )
    first = leader.post(body)
    again = leader.post(body, headers={"X-Slack-Retry-Num": "1"})
    leader.settle()
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    assert len(slack.calls_to("views.open")) == 1


def test_old_claims_are_pruned(leader, engine):
    from datetime import timedelta

    from bot.listeners import replay
    from storage.models import utcnow

    with session_scope(engine) as s:
        s.add(
            HandledRequest(
                request_key="old", kind="command", received_at=utcnow() - timedelta(days=2)
            )
        )
    # the key whose crc32 is a multiple of 100 prunes
    key = next(
        k for k in (f"k{n}" for n in range(10_000)) if replay.zlib.crc32(k.encode()) % 100 == 0
    )
    assert replay.claim(engine, key, "command", datetime.now(UTC))
    with session_scope(engine) as s:
        assert s.get(HandledRequest, "old") is None
        assert s.get(HandledRequest, key) is not None


def test_the_answer_is_stored_for_replays_once_it_is_written(settings, slack, session, engine):
    """Over HTTP a request's answer goes out first: the replay guard stores it when the
    server closes the written response (a replay meanwhile waits for it)."""
    import io

    from bot.server import make_wsgi_app
    from tests.helpers.endpoint import SECRET

    application = make_wsgi_app(settings)
    body = payloads.slash_command("help", user_id="U1", channel_id=CHANNEL)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/slack/events",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(body.encode()),
        "CONTENT_LENGTH": str(len(body.encode())),
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
    }
    for name, value in payloads.signed_headers(SECRET, body).items():
        if name.lower() != "content-type":
            environ[f"HTTP_{name.upper().replace('-', '_')}"] = value
    status: list[str] = []
    try:
        response = application(environ, lambda s, _headers, *_: status.append(s))
        written = b"".join(response)
        assert status == ["200 OK"] and b"/cop members" in written
        with session_scope(engine) as s:
            [claimed] = s.exec(select(HandledRequest)).all()
            assert claimed.kind == "command" and claimed.status is None  # not yet stored
        response.close()  # the server has written the answer
        with session_scope(engine) as s:
            [stored] = s.exec(select(HandledRequest)).all()
            assert stored.status == 200 and stored.body == written.decode()
    finally:
        application.stop(5)
