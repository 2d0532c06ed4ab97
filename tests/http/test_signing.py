"""Request signing: Slack's published example, and the endpoint refusing bad signatures."""

from __future__ import annotations

import json
import time

import pytest
import requests
from slack_sdk.signature import SignatureVerifier

from bot.blocks import community as cb
from sandbox import slack_payloads as payloads
from tests.helpers.communities import CHANNEL, communities, new_values
from tests.helpers.endpoint import SECRET
from tests.helpers.paths import SPECS


@pytest.fixture(scope="module")
def vector() -> dict:
    return json.loads((SPECS / "slack_signing_vector.json").read_text())


def test_signature_matches_slacks_worked_example(vector):
    got = payloads.signature(vector["signing_secret"], vector["timestamp"], vector["request_body"])
    assert got == vector["expected_signature"]


def test_bolts_verifier_accepts_the_example_at_its_time_and_not_later(vector):
    ts = int(vector["timestamp"])
    headers = {
        "x-slack-request-timestamp": vector["timestamp"],
        "x-slack-signature": vector["expected_signature"],
    }
    at_the_time = SignatureVerifier(vector["signing_secret"], clock=_Clock(ts + 10))
    assert at_the_time.is_valid_request(vector["request_body"], headers)
    six_minutes_later = SignatureVerifier(vector["signing_secret"], clock=_Clock(ts + 360))
    assert not six_minutes_later.is_valid_request(vector["request_body"], headers)
    tampered = vector["request_body"].replace("roadrunner", "coyote")
    assert not at_the_time.is_valid_request(tampered, headers)


class _Clock:
    def __init__(self, now: int):
        self._now = now

    def now(self) -> float:
        return float(self._now)


def _post(endpoint: str, body: str, headers: dict) -> requests.Response:
    return requests.post(f"{endpoint}/slack/events", data=body.encode(), headers=headers, timeout=5)


@pytest.mark.parametrize("case", ["missing", "wrong", "stale", "other-secret"])
def test_bad_signatures_get_401_and_store_nothing(endpoint, slack, session, engine, case):
    body = payloads.view_submission(cb.NEW_COMMUNITY_CALLBACK, new_values(), user_id="U1")
    headers = payloads.signed_headers(SECRET, body)
    if case == "missing":
        del headers["X-Slack-Signature"], headers["X-Slack-Request-Timestamp"]
    elif case == "wrong":
        headers["X-Slack-Signature"] = "v0=" + "0" * 64
    elif case == "stale":
        headers = payloads.signed_headers(SECRET, body, timestamp=int(time.time()) - 301)
    else:
        headers = payloads.signed_headers("not-the-secret", body)
    response = _post(endpoint, body, headers)
    assert response.status_code == 401
    assert communities(engine) == []
    assert slack.calls == []


def test_a_correct_signature_is_accepted(endpoint, slack, session, engine):
    slack.add_channel(CHANNEL, members=["U1"])
    body = payloads.view_submission(cb.NEW_COMMUNITY_CALLBACK, new_values(), user_id="U1")
    response = _post(endpoint, body, payloads.signed_headers(SECRET, body))
    assert response.status_code == 200
    assert len(communities(engine)) == 1
