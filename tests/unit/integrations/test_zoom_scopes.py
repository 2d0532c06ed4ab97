"""Zoom's granular scopes: the table of what each feature needs, the stand-in refusing a
route whose scope the token lacks (HTTP 400, code 4711) as Zoom does, the client naming
the scope to add, and the start-up warning, one line per missing scope."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

import pytest

from bot.config import Settings
from bot.flows.conferencing_alerts import warn_missing_scopes
from integrations import zoom_scopes
from integrations.after_call import FactsError
from integrations.conferencing import ConferencingError, MeetingRequest
from integrations.zoom import ZoomClient, ZoomScopeMissing
from integrations.zoom.after_call import ZoomAfterCall, ZoomMeetingFacts
from integrations.zoom.conferencing import ZoomConferencing
from sandbox import zoom_standin as zs
from tests.helpers.endpoint import zoom_env
from tests.helpers.paths import REPO_ROOT

START = datetime(2027, 1, 20, 18, 0, tzinfo=UTC)
ALL = zoom_scopes.needed()


def client(zoom) -> ZoomClient:
    return ZoomClient(
        zs.ACCOUNT_ID,
        zs.CLIENT_ID,
        zs.CLIENT_SECRET,
        api_url=zoom.api_url,
        oauth_url=zoom.oauth_url,
        sleep=lambda s: None,
    )


def request() -> MeetingRequest:
    return MeetingRequest("Webinar", START, 60, "America/Chicago", "Readings.", "call-1")


def without(*names: str) -> list[str]:
    return [s for s in ALL if s not in names]


# ---- the table ------------------------------------------------------------------------------
def test_every_route_of_the_table_is_a_zoom_operation_and_every_scope_is_granular():
    spec = zs.ZoomSpec()
    granular = re.compile(r"^[a-z_]+:(read|write|update|delete):[a-z_]+:admin$")
    for row in zoom_scopes.ZOOM_SCOPES:
        assert row.route in spec.operations, row.route
        assert granular.match(row.granular), row.granular
        assert row.classic and all(c.count(":") == 2 for c in row.classic)


def test_the_table_holds_what_zoom_documents_for_each_operation():
    by_route = {row.route: row.granular for row in zoom_scopes.ZOOM_SCOPES}
    assert by_route["POST /users/{userId}/meetings"] == "meeting:write:meeting:admin"
    assert by_route["GET /meetings/{meetingId}"] == "meeting:read:meeting:admin"
    assert by_route["PATCH /meetings/{meetingId}"] == "meeting:update:meeting:admin"
    assert by_route["DELETE /meetings/{meetingId}"] == "meeting:delete:meeting:admin"
    assert by_route["GET /users/{userId}/meetings"] == "meeting:read:list_meetings:admin"
    assert (
        by_route["GET /past_meetings/{meetingId}/instances"]
        == "meeting:read:list_past_instances:admin"
    )
    assert (
        by_route["GET /past_meetings/{meetingUUID}/participants"]
        == "meeting:read:list_past_participants:admin"
    )
    assert (
        by_route["GET /meetings/{meetingId}/recordings"]
        == "cloud_recording:read:list_recording_files:admin"
    )
    assert by_route["GET /users/{userId}"] == "user:read:user:admin"


def test_classic_scopes_cover_their_granular_ones():
    classic = {"meeting:write:admin", "meeting:read:admin", "recording:read:admin"}
    assert zoom_scopes.missing(classic, {"meetings", "attendance", "recordings"}) == ()
    [lacking] = zoom_scopes.missing({"meeting:read:admin"}, {"meetings"})[:1]
    assert lacking.granular == "meeting:write:meeting:admin"
    assert [r.granular for r in zoom_scopes.missing({"meeting:read:admin"}, {"meetings"})] == [
        "meeting:write:meeting:admin",
        "meeting:update:meeting:admin",
        "meeting:delete:meeting:admin",
    ]


def test_the_features_turned_on_decide_which_scopes_are_needed():
    on = Settings.from_mapping({}).zoom_features
    off = Settings.from_mapping({"COPBOT_ATTENDANCE": "off"}).zoom_features
    assert "meeting:read:list_past_participants:admin" in zoom_scopes.needed(on)
    assert "meeting:read:list_past_participants:admin" not in zoom_scopes.needed(off)
    assert "meeting:write:meeting:admin" in zoom_scopes.needed(off)


def test_scopes_are_read_from_zooms_4711_message():
    message = (
        "Invalid access token, does not contain scopes:"
        "[meeting:write:meeting, meeting:write:meeting:admin]."
    )
    named = zoom_scopes.scopes_in_message(message)
    assert named == ("meeting:write:meeting", "meeting:write:meeting:admin")
    assert zoom_scopes.scope_to_add(named) == "meeting:write:meeting:admin"
    assert zoom_scopes.scope_to_add(("recording:read", "recording:read:admin")) == (
        "recording:read:admin"
    )


# ---- the stand-in as Zoom ------------------------------------------------------------------
def test_the_token_answer_says_which_scopes_the_app_holds(zoom):
    c = client(zoom)
    assert c.scopes() == frozenset(ALL)
    zoom.scopes = ("meeting:write:meeting:admin",)
    assert client(zoom).scopes() == {"meeting:write:meeting:admin"}


def test_a_route_whose_scope_the_token_lacks_is_refused_with_4711(zoom):
    zoom.scopes = without("meeting:write:meeting:admin")
    c = client(zoom)
    with pytest.raises(ZoomScopeMissing) as caught:
        c.create_meeting(
            "me", topic="T", start=START, duration_minutes=60, timezone="UTC", marker="m"
        )
    error = caught.value
    assert (error.status, error.code) == (400, 4711)
    assert error.message == (
        "Invalid access token, does not contain scopes:"
        "[meeting:write:meeting, meeting:write:meeting:admin]."
    )
    assert error.scope == "meeting:write:meeting:admin"
    assert zoom.meetings == {}
    # one fresh token was tried (the scope may have been added since), not more
    assert zoom.token_requests == 2
    assert len(zoom.calls_to("POST /users/{userId}/meetings")) == 2


def test_a_scope_added_since_the_token_was_made_is_picked_up_by_a_fresh_token(zoom):
    zoom.scopes = without("meeting:write:meeting:admin")
    c = client(zoom)
    c.token()
    zoom.scopes = ALL  # the admin adds it; the cached token does not carry it
    meeting = c.create_meeting(
        "me", topic="T", start=START, duration_minutes=60, timezone="UTC", marker="m"
    )
    assert meeting.id in zoom.meetings
    assert zoom.token_requests == 2


def test_a_classic_app_is_refused_naming_classic_scopes(zoom):
    zoom.scopes = ("meeting:write:admin", "meeting:read:admin")
    facts = ZoomMeetingFacts(ZoomAfterCall(client(zoom)))
    with pytest.raises(FactsError) as caught:
        facts.recording(85000000001)
    assert "recording:read:admin" in str(caught.value)
    meeting = client(zoom).create_meeting(
        "me", topic="T", start=START, duration_minutes=60, timezone="UTC"
    )
    assert meeting.id in zoom.meetings  # classic meeting:write:admin covers creating


# ---- the words people read --------------------------------------------------------------------
def test_a_missing_scope_reaches_the_leader_as_the_scope_to_add_never_zoom_failed(zoom):
    zoom.scopes = without("meeting:write:meeting:admin")
    with pytest.raises(ConferencingError) as caught:
        ZoomConferencing(client(zoom)).create(request())
    text = str(caught.value)
    assert "meeting:write:meeting:admin" in text
    assert "Add Scopes" in text
    assert "refused" not in text and "did not answer" not in text


def test_attendance_without_its_scope_says_which_scope(zoom):
    zoom.scopes = without("meeting:read:list_past_instances:admin")
    facts = ZoomMeetingFacts(ZoomAfterCall(client(zoom)))
    with pytest.raises(FactsError) as caught:
        facts.instances(85000000001)
    assert "meeting:read:list_past_instances:admin" in str(caught.value)


# ---- start-up -----------------------------------------------------------------------------
def test_start_up_warns_once_per_missing_scope(zoom, db_url, caplog):
    zoom.scopes = without("meeting:update:meeting:admin", "user:read:user:admin")
    settings = Settings.from_mapping({"DATABASE_URL": db_url, **zoom_env(zoom)})
    from bot.deps import make_conferencing

    caplog.set_level(logging.WARNING, logger="bot.flows.conferencing_alerts")
    warned = warn_missing_scopes(settings, make_conferencing(settings))
    assert warned == ["meeting:update:meeting:admin", "user:read:user:admin"]
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.flows.conferencing_alerts"]
    assert len(lines) == 2
    assert "meeting:update:meeting:admin" in lines[0] and "move a meeting" in lines[0]
    assert "user:read:user:admin" in lines[1]


def test_start_up_with_every_scope_warns_of_nothing(zoom, db_url, caplog):
    settings = Settings.from_mapping({"DATABASE_URL": db_url, **zoom_env(zoom)})
    from bot.deps import make_conferencing

    caplog.set_level(logging.WARNING, logger="bot.flows.conferencing_alerts")
    assert warn_missing_scopes(settings, make_conferencing(settings)) == []
    assert zoom.token_requests == 1  # Zoom was asked
    assert [r for r in caplog.records if r.name == "bot.flows.conferencing_alerts"] == []


def test_start_up_with_zoom_unreachable_is_one_warning_not_a_stop(db_url, caplog):
    settings = Settings.from_mapping(
        {
            "DATABASE_URL": db_url,
            "ZOOM_ACCOUNT_ID": zs.ACCOUNT_ID,
            "ZOOM_CLIENT_ID": zs.CLIENT_ID,
            "ZOOM_CLIENT_SECRET": zs.CLIENT_SECRET,
            "ZOOM_OAUTH_URL": "http://127.0.0.1:9/oauth/token",
            "ZOOM_API_URL": "http://127.0.0.1:9/v2",
        }
    )
    from bot.deps import make_conferencing

    caplog.set_level(logging.WARNING, logger="bot.flows.conferencing_alerts")
    assert warn_missing_scopes(settings, make_conferencing(settings)) == []
    [line] = [r.getMessage() for r in caplog.records if r.name == "bot.flows.conferencing_alerts"]
    assert "could not ask Zoom" in line


# ---- the documents say what the table says ----------------------------------------------------
def test_the_readme_table_is_the_scope_table():
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("### Connecting Zoom", 1)[1].split("\n### ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
    documented = {}
    for line in rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        documented[cells[2].strip("`")] = set(re.findall(r"`([^`]+)`", cells[3]))
    assert documented == {row.granular: set(row.classic) for row in zoom_scopes.ZOOM_SCOPES}
    assert "`copbot doctor`" in section and "+ Add Scopes" in section


def test_env_example_names_every_scope():
    text = (REPO_ROOT / ".env.example").read_text()
    for scope in zoom_scopes.needed():
        assert scope in text, scope
