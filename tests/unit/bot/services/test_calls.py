"""The call rules without Slack: validation, holidays, daylight saving, the program year,
claims, and the calendar files."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar

from bot.services import call_meetings as meetings
from bot.services import calls as rules
from integrations.calendar import call_ics, feed_ics
from storage.models import CallKind, MeetingState
from tests.helpers.records import new_community

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)


def form(**kw) -> rules.CallForm:
    fields = dict(
        date="2027-01-20",
        time="12:00",
        zone="America/Chicago",
        duration="60",
        topic="Webinar #3",
        agenda="Readings posted.",
        host="U1",
        alternate="",
        kind="community",
    )
    fields.update(kw)
    return rules.CallForm(**fields)


def check(**kw):
    return rules.validate(form(**kw), now=NOW, holidays_country="US")


def test_a_valid_call_is_stored_in_utc():
    draft, errors = check()
    assert errors == {}
    assert draft.start_at == datetime(2027, 1, 20, 18, 0, tzinfo=UTC)  # CST is UTC-6
    assert (draft.timezone, draft.duration_minutes, draft.kind) == (
        "America/Chicago",
        60,
        CallKind.COMMUNITY,
    )


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"date": "2026-11-01"}, "date", "in the past"),
        ({"date": "2026-11-22", "time": "08:00"}, "time", "in the past"),
        ({"time": "25:00"}, "time", "25:00 is not a time of day"),
        ({"time": "12:60"}, "time", "not a time of day"),
        ({"duration": "0"}, "duration", "from 1 to 1440"),
        ({"duration": "1441"}, "duration", "from 1 to 1440"),
        ({"duration": "ninety"}, "duration", "from 1 to 1440"),
        ({"zone": "Mars/Olympus"}, "zone", "not a time zone"),
        ({"topic": "   "}, "topic", "Give the call a topic"),
        ({"topic": "t" * 201}, "topic", "200 characters"),
        ({"agenda": "a" * 2001}, "agenda", "2000 characters"),
        ({"host": ""}, "host", "who hosts"),
        ({"alternate": "U1"}, "alternate", "someone else"),
        ({"kind": "party"}, "kind", "community call or an additional call"),
        ({"date": "2027-01-18"}, "date", "Martin Luther King Jr. Day, a public holiday"),
        ({"date": "2027-03-14", "time": "02:30"}, "time", "does not exist on March 14"),
    ],
)
def test_bad_input_is_an_error_on_its_field(changes, field, words):
    draft, errors = check(**changes)
    assert draft is None
    assert field in errors and words in errors[field], errors


def test_holidays_are_only_checked_when_configured():
    draft, errors = rules.validate(form(date="2027-01-18"), now=NOW, holidays_country=None)
    assert errors == {} and draft is not None


def test_the_repeated_hour_of_autumn_is_the_first_one():
    draft, _ = check(date="2027-11-07", time="01:30")  # CDT -> CST at 02:00
    assert draft.start_at == datetime(2027, 11, 7, 6, 30, tzinfo=UTC)


def test_program_year():
    assert rules.program_year(date(2027, 1, 20), (8, 1)) == (date(2026, 8, 1), date(2027, 8, 1))
    assert rules.program_year(date(2027, 8, 1), (8, 1)) == (date(2027, 8, 1), date(2028, 8, 1))
    assert rules.year_label(date(2026, 8, 1)) == "2026–27"


@pytest.fixture
def community(session):
    return new_community(session, team="T1", channel="C1", name="Survivorship", leader="U1")


def _schedule(session, community, day: str, kind: str = "community"):
    draft, errors = check(date=day, kind=kind)
    assert errors == {}
    return rules.create(session, community, draft, "U1", with_meeting=True)


def test_a_seventh_community_call_is_refused_and_can_be_additional(session, community):
    days = ["2026-12-02", "2027-01-13", "2027-02-03", "2027-03-03", "2027-04-07", "2027-05-05"]
    assert rules.calls_planned_note(session, community, date(2026, 11, 22), (8, 1)).startswith(
        "No community call of 2026–27 is scheduled yet; a program year has 3 to 6."
    )
    _schedule(session, community, days[0])
    assert rules.calls_planned_note(session, community, date(2026, 11, 22), (8, 1)).startswith(
        "Only 1 community call of 2026–27 is scheduled; a program year has 3 to 6."
    )
    _schedule(session, community, days[1])
    assert rules.calls_planned_note(session, community, date(2026, 11, 22), (8, 1)).startswith(
        "Only 2 community calls of 2026–27 are scheduled;"
    )
    _schedule(session, community, days[2])
    assert rules.calls_planned_note(session, community, date(2026, 11, 22), (8, 1)) is None
    for day in days[3:]:
        _schedule(session, community, day)
    draft, _ = check(date="2027-06-02")
    refusal = rules.year_limit_error(session, community, draft, (8, 1))
    assert refusal.startswith("2026–27 already has 6 community calls")
    assert "Additional call" in refusal
    extra, _ = check(date="2027-06-02", kind="additional")
    assert rules.year_limit_error(session, community, extra, (8, 1)) is None
    # the next program year starts afresh, and a cancelled call frees its place
    later, _ = check(date="2027-08-04")
    assert rules.year_limit_error(session, community, later, (8, 1)) is None
    first = _schedule(session, community, "2027-06-09", kind="additional")
    assert first.kind == "additional"
    calls = rules.upcoming(session, community.id, NOW)
    assert rules.cancel(session, calls[0]) and not rules.cancel(session, calls[0])
    assert rules.year_limit_error(session, community, draft, (8, 1)) is None


def test_rescheduling_a_call_does_not_count_it_twice(session, community):
    for day in ["2026-12-02", "2027-01-13", "2027-02-03", "2027-03-03", "2027-04-07", "2027-05-05"]:
        call = _schedule(session, community, day)
    moved, _ = check(date="2027-05-12")
    assert rules.year_limit_error(session, community, moved, (8, 1), excluding=call.id) is None
    rules.reschedule(session, call, moved)
    assert call.sequence == 1 and call.start_at.date() == date(2027, 5, 12)


def test_only_one_claim_on_a_meeting_and_stale_claims_expire(session, community):
    call = _schedule(session, community, "2027-01-13")
    assert meetings.claim_meeting(session, call.id, NOW)
    assert not meetings.claim_meeting(session, call.id, NOW + timedelta(seconds=30))
    assert meetings.claim_meeting(session, call.id, NOW + timedelta(minutes=3))  # a dead worker
    meetings.meeting_made(session, call.id, 123, "https://zoom.example/j/123", "pw")
    assert not meetings.claim_meeting(session, call.id, NOW + timedelta(hours=1))
    session.refresh(call)
    assert call.meeting_state == MeetingState.READY.value


def test_upcoming_lists_calls_until_they_end(session, community):
    call = _schedule(session, community, "2027-01-13")
    during = call.start_at + timedelta(minutes=30)
    after = call.start_at + timedelta(minutes=61)
    assert [c.id for c in rules.upcoming(session, community.id, during)] == [call.id]
    assert rules.upcoming(session, community.id, after) == []


def test_ics_for_a_call_its_change_and_its_cancellation(session, community):
    call = _schedule(session, community, "2027-01-13")
    call.join_url, call.passcode = "https://zoom.example/j/1", "pw"
    first = Calendar.from_ical(call_ics(call, community))
    [event] = first.walk("VEVENT")
    assert first["METHOD"] == "PUBLISH"
    assert str(event["UID"]) == f"{call.uid}@copbot"
    assert event["SEQUENCE"] == 0
    assert event.decoded("DTSTART") == call.start_at
    assert event.decoded("DTEND") == call.start_at + timedelta(minutes=60)
    assert "https://zoom.example/j/1" in str(event["DESCRIPTION"])
    moved, _ = check(date="2027-01-14")
    rules.reschedule(session, call, moved)
    [event] = Calendar.from_ical(call_ics(call, community)).walk("VEVENT")
    assert event["SEQUENCE"] == 1 and str(event["UID"]) == f"{call.uid}@copbot"
    rules.cancel(session, call)
    cancelled = Calendar.from_ical(call_ics(call, community))
    [event] = cancelled.walk("VEVENT")
    assert cancelled["METHOD"] == "CANCEL" and event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 2


def test_feed_has_every_call(session, community):
    calls = [_schedule(session, community, d) for d in ("2027-01-13", "2027-02-03")]
    feed = Calendar.from_ical(feed_ics(community, calls))
    assert [str(e["UID"]) for e in feed.walk("VEVENT")] == [f"{c.uid}@copbot" for c in calls]
