"""Zoom webhooks through `POST /zoom/events` on copbot's real WSGI endpoint, delivered by
the Zoom stand-in as Zoom does (signed, retried): URL validation, bad and stale
signatures, each event handled once, unknown meetings ignored."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import func
from sqlmodel import select

from bot.deps import Deps
from bot.scheduler import tick
from bot.slack_client import make_web_client
from bot.webhooks import zoom as zoom_events
from sandbox import zoom_webhooks as zs
from storage.db import session_scope
from storage.models import AfterCallJob, Attendance, CallAttendance, CallResource, ZoomDelivery
from tests.helpers.endpoint import HOOK_SECRET
from tests.helpers.records import ended_call, new_community, participant

NOTES_VECTOR = {
    "secret": "ZOOM_TEST_SECRET_TOKEN",
    "plain": "qgg8vlvZRS6UYooatFL8Aw",
    "encrypted": "031efe489f811fbc53a1a24c46273af2dc4c950383fb27ab9fe4d3f2543a3518",
    "timestamp": "1654503849",
    "body": b'{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,'
    b'"event":"endpoint.url_validation"}',
    "signature": "v0=cdf2f911b9e16ac3161575155fac0cb1424a28edc661b992accf98bfd56f9d72",
}
MEETING = 85000000077


def _count(engine, model) -> int:
    with session_scope(engine) as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def call(session, slack, zoom):
    community = new_community(session, channel="CHOOK001", leader="U1")
    start = datetime.now(UTC) - timedelta(hours=2)
    return ended_call(session, community, start, meeting_id=MEETING)


def test_the_algorithm_matches_the_derived_vectors_of_the_notes():
    v = NOTES_VECTOR
    assert zoom_events.encrypted_token(v["secret"], v["plain"]) == v["encrypted"]
    assert zoom_events.signature(v["secret"], v["timestamp"], v["body"]) == v["signature"]
    headers = {"x-zm-request-timestamp": v["timestamp"], "x-zm-signature": v["signature"]}
    now = int(v["timestamp"])
    assert zoom_events.verified(v["secret"], headers, v["body"], now + 299) is None
    assert zoom_events.verified(v["secret"], headers, v["body"], now + 301) == "stale timestamp"
    assert zoom_events.verified("other", headers, v["body"], now) == "wrong signature"
    assert zs.sign_webhook(v["secret"], v["body"], now)["x-zm-signature"] == v["signature"]


def test_url_validation_is_answered_with_the_hmac_of_the_plain_token(hook_endpoint, session):
    [answer] = zs.deliver_webhook(
        f"{hook_endpoint}/zoom/events", zs.url_validation("abc123token"), HOOK_SECRET
    )
    assert answer.status_code == 200
    assert answer.json() == {
        "plainToken": "abc123token",
        "encryptedToken": zoom_events.encrypted_token(HOOK_SECRET, "abc123token"),
    }


def test_bad_or_stale_signatures_get_401_store_nothing_and_log_one_line(
    hook_endpoint, call, engine, caplog
):
    url = f"{hook_endpoint}/zoom/events"
    body = zs.webhook("meeting.ended", {"id": MEETING, "uuid": "abcUUID=="})
    stale = int(time.time()) - 301
    forged = zs.sign_webhook("not-the-secret", body)
    cases = [
        forged,
        zs.sign_webhook(HOOK_SECRET, body, stale),
        {"Content-Type": "application/json"},
        {**zs.sign_webhook(HOOK_SECRET, body), "x-zm-request-timestamp": "soon"},
    ]
    for headers in cases:
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="bot.webhooks.zoom"):
            answer = requests.post(url, data=body, headers=headers, timeout=5)
        assert answer.status_code == 401
        lines = [r for r in caplog.records if r.name == "bot.webhooks.zoom"]
        assert len(lines) == 1 and "refused" in lines[0].getMessage()
    # a body changed after signing
    signed = zs.sign_webhook(HOOK_SECRET, body)
    assert requests.post(url, data=body + b" ", headers=signed, timeout=5).status_code == 401
    assert _count(engine, ZoomDelivery) == 0 and _count(engine, AfterCallJob) == 0


def test_without_a_secret_the_route_is_not_there(endpoint, session):
    body = zs.url_validation("abc")
    answer = requests.post(
        f"{endpoint}/zoom/events", data=body, headers=zs.sign_webhook("x", body), timeout=5
    )
    assert answer.status_code == 404


def test_meeting_ended_retried_by_zoom_is_handled_once_and_read_by_the_next_pass(
    hook_endpoint, hook_settings, call, engine, slack, zoom
):
    uuid = "ended/uuid//withslashes=="
    slack.add_user("U1", "ana", email="ana@example.org")
    zoom.add_user("ana@example.org")  # a user of the Zoom account: email shown
    start = call.start_at
    zoom.add_past_meeting(
        MEETING,
        uuid,
        start,
        [participant("Ana", "ana@example.org", join=start, leave=start + timedelta(minutes=50))],
    )
    body = zs.webhook("meeting.ended", {"id": MEETING, "uuid": uuid, "topic": "x"})
    url = f"{hook_endpoint}/zoom/events"
    # Zoom sends it again when it thinks the first delivery failed: three deliveries
    answers = [zs.deliver_webhook(url, body, HOOK_SECRET)[0] for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert _count(engine, ZoomDelivery) == 1
    with session_scope(engine) as s:
        [job] = s.exec(select(AfterCallJob).where(AfterCallJob.kind == "attendance")).all()
        assert job.meeting_uuid == uuid and job.state == "pending"
    deps = Deps.create(hook_settings)
    client = make_web_client(hook_settings)
    now = datetime.now(UTC)
    tick(deps, client, now)
    tick(deps, client, now + timedelta(minutes=1))
    [page] = zoom.calls_to("GET /past_meetings/{meetingUUID}/participants")
    assert "%252F" in page.path and "%252F%252F" in page.path  # encoded twice
    with session_scope(engine) as s:
        [counted] = s.exec(select(CallAttendance)).all()
        assert counted.came == 1 and counted.minutes == 50
        assert s.exec(select(Attendance.slack_user_id)).all() == ["U1"]


def test_concurrent_deliveries_of_one_event_are_handled_once(hook_endpoint, call, engine):
    body = zs.webhook("meeting.ended", {"id": MEETING, "uuid": "raceUUID=="})
    url = f"{hook_endpoint}/zoom/events"
    answers: list[int] = []

    def send() -> None:
        answers.append(zs.deliver_webhook(url, body, HOOK_SECRET, retries=0)[0].status_code)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert answers == [200] * 8
    assert _count(engine, ZoomDelivery) == 1 and _count(engine, AfterCallJob) == 1


def test_recording_completed_is_archived_and_posted_in_the_thread_once(
    hook_endpoint, call, engine, slack, as_user
):
    obj = {
        "id": MEETING,
        "uuid": "recUUID==",
        "share_url": "https://zoom.example/rec/share/abc",
        "password": "rec!pass",
        "recording_files": [],
    }
    body = zs.webhook("recording.completed", obj)
    url = f"{hook_endpoint}/zoom/events"
    for _ in range(3):
        assert zs.deliver_webhook(url, body, HOOK_SECRET)[0].status_code == 200
    as_user("U1").settle()
    posts = [
        c for c in slack.calls_to("chat.postMessage") if c.args.get("thread_ts") == call.message_ts
    ]
    assert len(posts) == 1
    assert "https://zoom.example/rec/share/abc" in json.dumps(posts[0].args)
    assert "rec!pass" in json.dumps(posts[0].args)
    with session_scope(engine) as s:
        [item] = s.exec(select(CallResource)).all()
        assert item.kind == "recording" and item.call_id == call.id
        [job] = s.exec(select(AfterCallJob).where(AfterCallJob.kind == "recording")).all()
        assert job.state == "done"


def test_events_about_meetings_no_call_has_are_ignored_with_a_log_line(
    hook_endpoint, call, engine, caplog
):
    url = f"{hook_endpoint}/zoom/events"
    body = zs.webhook(
        "recording.completed",
        {"id": 99999999999, "uuid": "strangerUUID==", "share_url": "https://zoom.example/r/x"},
    )
    with caplog.at_level(logging.INFO, logger="bot.webhooks.zoom"):
        assert zs.deliver_webhook(url, body, HOOK_SECRET)[0].status_code == 200
    assert any("no call has it" in r.getMessage() for r in caplog.records)
    assert _count(engine, CallResource) == 0 and _count(engine, AfterCallJob) == 0


def test_a_body_that_is_not_an_event_gets_400(hook_endpoint, session):
    url = f"{hook_endpoint}/zoom/events"
    for body in (b"not json", b"[]", b'{"payload": {}}', b'{"event": "x", "payload": 3}'):
        answer = requests.post(url, data=body, headers=zs.sign_webhook(HOOK_SECRET, body))
        assert answer.status_code == 400, body


def test_settings_keep_the_secret_out_of_sight_and_check_the_switch():
    from bot.config import ConfigError, Settings

    settings = Settings.from_mapping(
        {"ZOOM_WEBHOOK_SECRET": "s3cret-token", "COPBOT_ATTENDANCE": "off"}
    )
    assert settings.zoom_webhook_secret == "s3cret-token" and settings.attendance is False
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings)
    assert Settings.from_mapping({}).attendance is True
    with pytest.raises(ConfigError, match="COPBOT_ATTENDANCE must be on or off"):
        Settings.from_mapping({"COPBOT_ATTENDANCE": "maybe"})


def test_hostile_signature_headers_get_401_not_500(hook_endpoint, call, engine):
    """Without the secret, no header makes the route fail: a non-ASCII signature, a
    timestamp of non-ASCII digits or of thousands of digits."""
    url = f"{hook_endpoint}/zoom/events"
    body = zs.webhook("meeting.ended", {"id": MEETING, "uuid": "abcUUID=="})
    signed = zs.sign_webhook(HOOK_SECRET, body)
    cases = [
        {**signed, "x-zm-signature": "v0=\u00e9".encode().decode("latin-1")},
        {**signed, "x-zm-request-timestamp": "\u00b2"},
        {**signed, "x-zm-request-timestamp": "9" * 5000},
    ]
    for headers in cases:
        raw = {
            k: v.encode("utf-8") if v.isascii() else v.encode("latin-1") for k, v in headers.items()
        }
        answer = requests.post(url, data=body, headers=raw, timeout=5)
        assert answer.status_code == 401, headers
    assert _count(engine, ZoomDelivery) == 0 and _count(engine, AfterCallJob) == 0


@pytest.mark.parametrize(
    "obj",
    [
        {"id": 1e400, "uuid": "u1=="},
        {"id": 2**70, "uuid": "u2=="},
        {"id": MEETING, "uuid": "u" * 300},
        {"id": MEETING},
        {"id": MEETING, "uuid": ["not", "text"]},
        {"id": MEETING, "uuid": "u3==", "recording_files": ["x", 3, None]},
        {"id": MEETING, "uuid": "u4==", "share_url": "javascript:alert(1)"},
    ],
)
def test_oddly_typed_signed_events_are_answered_and_change_nothing_visible(
    hook_endpoint, call, engine, slack, obj
):
    url = f"{hook_endpoint}/zoom/events"
    body = (
        json.dumps({"event": "recording.completed", "payload": {"object": obj}})
        .replace("Infinity", "1e400")
        .encode()
    )
    answer = requests.post(url, data=body, headers=zs.sign_webhook(HOOK_SECRET, body), timeout=5)
    assert answer.status_code == 200
    assert _count(engine, CallResource) == 0
    assert slack.calls_to("chat.postMessage") == []


@pytest.mark.parametrize(
    "body",
    [
        b'{"event": "meeting.ended", "payload": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"event": "meeting.ended", "payload": {"object": ' + b'{"a":' * 5000 + b"1"
        + b"}" * 5000 + b"}}",
        b"[" * 100_000 + b"]" * 100_000,
    ],
)  # fmt: skip
def test_a_signed_body_nested_deeper_than_zoom_sends_gets_400(hook_endpoint, session, body):
    answer = requests.post(
        f"{hook_endpoint}/zoom/events", data=body, headers=zs.sign_webhook(HOOK_SECRET, body)
    )
    assert answer.status_code == 400
    assert _count(session.get_bind(), ZoomDelivery) == 0


def test_depth_is_counted_outside_strings_and_zoom_s_own_events_pass():
    brackets_in_text = json.dumps({"event": "x", "payload": {"topic": "[{" * 100}}).encode()
    assert not zoom_events.too_deep(brackets_in_text)
    escaped_quote = b'{"a": "\\"[[[[", "b": ' + b"[" * 40 + b"]" * 40 + b"}"
    assert zoom_events.too_deep(escaped_quote)
    recording = {
        "event": "recording.completed",
        "payload": {"object": {"recording_files": [{"download_url": "https://x", "x": [{}]}]}},
    }
    assert not zoom_events.too_deep(json.dumps(recording).encode())
