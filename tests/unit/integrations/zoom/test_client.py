"""The Zoom client against the local Zoom stand-in: tokens, retries, idempotent creates."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from integrations.zoom import (
    ZoomAuthError,
    ZoomBadRequest,
    ZoomClient,
    ZoomNotFound,
    ZoomUnavailable,
)
from sandbox import zoom_standin as zs

CREATE = "POST /users/{userId}/meetings"
START = datetime(2027, 1, 20, 18, 0, tzinfo=UTC)


class Sleeps:
    def __init__(self):
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def client(zoom, **kw) -> ZoomClient:
    kw.setdefault("sleep", Sleeps())
    return ZoomClient(
        zs.ACCOUNT_ID,
        zs.CLIENT_ID,
        zs.CLIENT_SECRET,
        api_url=zoom.api_url,
        oauth_url=zoom.oauth_url,
        rng=lambda: 0.5,
        **kw,
    )


def create(c: ZoomClient, **kw):
    return c.create_meeting(
        "me",
        topic="Webinar #1",
        start=START,
        duration_minutes=60,
        timezone="America/Chicago",
        agenda="Readings posted.",
        **kw,
    )


def test_create_sends_what_zoom_documents(zoom):
    meeting = create(client(zoom))
    [call] = zoom.calls_to(CREATE)
    assert call.body["type"] == 2
    assert call.body["start_time"] == "2027-01-20T18:00:00Z"
    assert call.body["timezone"] == "America/Chicago" and call.body["duration"] == 60
    assert call.headers["authorization"].startswith("Bearer standin-token-")
    assert meeting.id in zoom.meetings and meeting.join_url.startswith("https://")
    assert meeting.start_time == START


def test_the_token_is_cached_and_shared_by_threads(zoom):
    c = client(zoom)
    threads = [threading.Thread(target=lambda: c.get_meeting(create(c).id)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert zoom.token_requests == 1


def test_an_expiring_token_is_renewed_before_it_expires(zoom):
    zoom.token_lifetime = 30  # under the 60-second margin: never reused
    c = client(zoom)
    create(c)
    create(c)
    assert zoom.token_requests == 2


def test_a_401_refreshes_the_token_once(zoom):
    c = client(zoom)
    meeting = create(c)
    zoom.expire_tokens()
    assert c.get_meeting(meeting.id).id == meeting.id
    assert zoom.token_requests == 2
    assert len(zoom.calls_to("GET /meetings/{meetingId}")) == 2


def test_a_second_401_is_an_auth_error_not_a_loop(zoom):
    c = client(zoom)
    meeting = create(c)
    zoom.fail("GET /meetings/{meetingId}", 401, code=124, message="Invalid access token.", times=5)
    with pytest.raises(ZoomAuthError, match="code 124"):
        c.get_meeting(meeting.id)
    assert len(zoom.calls_to("GET /meetings/{meetingId}")) == 2


def test_wrong_credentials_are_an_auth_error(zoom):
    c = ZoomClient(
        zs.ACCOUNT_ID, zs.CLIENT_ID, "wrong", api_url=zoom.api_url, oauth_url=zoom.oauth_url
    )
    with pytest.raises(ZoomAuthError, match="Invalid client_id or client_secret"):
        create(c)


def test_429_honours_retry_after(zoom):
    sleeps = Sleeps()
    c = client(zoom, sleep=sleeps)
    zoom.fail(CREATE, 429, code=429, message="Too many requests", retry_after=3)
    create(c)
    assert sleeps.waits == [3.0]
    assert len(zoom.calls_to(CREATE)) == 2 and len(zoom.meetings) == 1


def test_429_without_retry_after_backs_off_exponentially(zoom):
    sleeps = Sleeps()
    c = client(zoom, sleep=sleeps)
    zoom.fail("GET /users/{userId}/meetings", 429, times=3)
    c.find_by_marker("me", "nothing")
    assert sleeps.waits == [0.5, 1.0, 2.0]  # base 0.5, doubling, jitter fixed at 1.0x


def test_500_then_success(zoom):
    c = client(zoom)
    meeting = create(c)
    zoom.fail("PATCH /meetings/{meetingId}", 500)
    c.update_meeting(meeting.id, topic="Webinar #1 (moved)", start=START + timedelta(days=7))
    assert zoom.meetings[meeting.id]["topic"] == "Webinar #1 (moved)"
    assert zoom.meetings[meeting.id]["start_time"] == "2027-01-27T18:00:00Z"


def test_retries_are_bounded(zoom):
    sleeps = Sleeps()
    c = client(zoom, sleep=sleeps, max_attempts=3)
    zoom.fail("GET /users/{userId}/meetings", 503, times=10)
    with pytest.raises(ZoomUnavailable):
        c.find_by_marker("me", "x")
    assert len(sleeps.waits) == 2
    assert len(zoom.calls_to("GET /users/{userId}/meetings")) == 3


def test_a_timed_out_create_is_not_made_twice(zoom):
    import time

    c = client(zoom, timeout=0.3, sleep=time.sleep)  # real waits: Zoom must catch up
    zoom.delay(CREATE, 0.6)  # Zoom is slow: the client gives up, the meeting is made anyway
    meeting = create(c, marker="copbot-call-42")
    assert len(zoom.meetings) == 1
    assert meeting.id in zoom.meetings
    assert "[copbot-call-42]" in zoom.meetings[meeting.id]["agenda"]
    assert len(zoom.calls_to(CREATE)) == 1


def test_a_500_on_create_looks_before_creating_again(zoom):
    c = client(zoom)
    zoom.fail(CREATE, 500)
    meeting = create(c, marker="copbot-call-7")
    assert len(zoom.meetings) == 1 and meeting.id in zoom.meetings
    assert len(zoom.calls_to("GET /users/{userId}/meetings")) == 1
    assert len(zoom.calls_to(CREATE)) == 2  # the 500 made nothing, so it was sent again


def test_400_is_zooms_message_in_plain_words(zoom):
    c = client(zoom)
    zoom.fail(CREATE, 400, code=300, message="Invalid start_time.")
    with pytest.raises(ZoomBadRequest) as info:
        create(c)
    assert info.value.message == "Invalid start_time." and info.value.code == 300


def test_get_and_delete_and_missing_meetings(zoom):
    c = client(zoom)
    meeting = create(c)
    assert c.get_meeting(meeting.id).topic == "Webinar #1"
    c.delete_meeting(meeting.id)
    assert meeting.id not in zoom.meetings
    c.delete_meeting(meeting.id)  # already gone: fine
    with pytest.raises(ZoomNotFound):
        c.get_meeting(meeting.id)


def test_the_standin_holds_requests_against_the_spec(zoom):
    c = client(zoom)
    with pytest.raises(ZoomBadRequest):
        c.request("POST", "/users/me/meetings", json={"topic": "x", "colour": "red"})
    assert zoom.violations == [
        "POST /users/{userId}/meetings: body field 'colour' is not in the spec"
    ]
    zoom.violations.clear()
    with pytest.raises(ZoomBadRequest):
        c.request("POST", "/users/me/meetings", json={"topic": "x", "type": 5})
    assert "5 is not one of [1, 2, 3, 8]" in zoom.violations[0]
    zoom.violations.clear()


def test_secrets_stay_out_of_repr(zoom):
    assert zs.CLIENT_SECRET not in repr(client(zoom))


# ---- one meeting per call, whatever Zoom does -------------------------------------------
def test_a_long_agenda_still_finds_the_meeting_a_timed_out_create_made(zoom):
    import time

    c = client(zoom, timeout=0.3, sleep=time.sleep)
    zoom.delay(CREATE, 0.6)
    meeting = c.create_meeting(
        "me",
        topic="Webinar #1",
        start=START,
        duration_minutes=60,
        timezone="America/Chicago",
        agenda="x" * 1990,  # the list shows 250 characters of it: the marker must lead
        marker="copbot-call-long",
    )
    assert len(zoom.calls_to(CREATE)) == 1 and list(zoom.meetings) == [meeting.id]
    assert zoom.meetings[meeting.id]["agenda"].startswith("[copbot-call-long]")
    assert meeting.password == "cop123"  # the whole meeting, not the list's short form


def test_the_marker_is_found_on_a_later_page(zoom):
    import time

    for n in range(1, 351):  # the user has many meetings: ours lands on page 2
        zoom.meetings[n] = {
            "id": n,
            "topic": f"Other {n}",
            "type": 2,
            "start_time": "2027-01-01T10:00:00Z",
            "agenda": "",
            "join_url": f"https://zoom.example/j/{n}",
        }
    c = client(zoom, timeout=0.3, sleep=time.sleep)
    zoom.delay(CREATE, 0.6)
    meeting = create(c, marker="copbot-call-paged")
    assert len(zoom.calls_to(CREATE)) == 1 and len(zoom.meetings) == 351
    pages = [int(x.params["page_number"]) for x in zoom.calls_to("GET /users/{userId}/meetings")]
    assert pages == [1, 2]
    assert meeting.id > 350


def test_the_list_shows_pages_and_short_agendas_as_zoom_does(zoom):
    c = client(zoom)
    for _ in range(3):
        create(c, marker="m")
    zoom.meetings[next(iter(zoom.meetings))]["agenda"] = "a" * 400
    first = c.request("GET", "/users/me/meetings", params={"page_size": 2}).json()
    second = c.request("GET", "/users/me/meetings", params={"page_size": 2, "page_number": 2})
    assert first["total_records"] == 3 and len(first["meetings"]) == 2
    assert len(second.json()["meetings"]) == 1
    assert len(first["meetings"][0]["agenda"]) == 250


@pytest.mark.parametrize(
    "script",
    [
        {"status": 503},
        {"status": 500},
        {"status": 200, "bad_json": True},
        {"drop": True},
    ],
)
def test_token_endpoint_failures_are_zoom_errors(zoom, script):
    from integrations.conferencing import ConferencingError, MeetingRequest
    from integrations.zoom.conferencing import ZoomConferencing

    zoom.fail_token(**script, times=100)
    c = client(zoom)
    with pytest.raises(ZoomUnavailable):
        create(c)
    request = MeetingRequest("Webinar", START, 60, "UTC", "", "copbot:x")
    with pytest.raises(ConferencingError, match="Zoom did not answer in time"):
        ZoomConferencing(c).create(request)
    assert zoom.meetings == {}


def test_a_slow_token_endpoint_is_a_zoom_error_and_a_later_try_works(zoom):
    import time

    zoom.delay_token(0.6, times=20)
    c = client(zoom, timeout=0.2, max_attempts=2, sleep=time.sleep, backoff_base=0.01)
    with pytest.raises(ZoomUnavailable):
        c.get_meeting(1)
    zoom.reset()
    zoom.fail_token(503)  # one failure, then the token comes: the retry gets it
    assert create(client(zoom)).id in zoom.meetings


def test_a_create_ends_within_its_longest_time(zoom):
    import time

    c = client(zoom, timeout=0.2, max_total_seconds=1.0, sleep=time.sleep, backoff_base=0.05)
    zoom.delay(CREATE, 0.5, times=100, then_succeed=False)
    zoom.delay("GET /users/{userId}/meetings", 0.5, times=100, then_succeed=False)
    started = time.monotonic()
    with pytest.raises(ZoomUnavailable):
        create(c, marker="slow")
    assert time.monotonic() - started <= c.longest_create_seconds
    time.sleep(0.6)  # let the stand-in's slow answers drain
