"""`/cop onsite` through the signed endpoint: the Annual Meeting, the slot rules as a
table, rooms decided by the database (also with racing threads), the channel told with
an .ics link, move and free."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import requests
from icalendar import Calendar
from sqlmodel import select

from bot.blocks import onsite as ob
from sandbox import slack_payloads as payloads
from sandbox.slack_standin import TEAM_ID
from storage.db import session_scope
from storage.models import OnsiteBlock, OnsiteMeeting, OnsiteRoom, OnsiteRoomSlot
from tests.helpers.endpoint import PUBLIC_URL, STAFF
from tests.helpers.records import new_community
from tests.helpers.slack import accepted, ack_text

CHANNEL = "CCOMM001"
OTHER = "CCOMM002"
THIRD = "CCOMM003"


def _thursday() -> date:
    """A Thursday about five months ahead: the meeting runs Thursday to Saturday."""
    day = date.today() + timedelta(days=150)
    return day + timedelta(days=(3 - day.weekday()) % 7)


THU = _thursday()
FRI, SAT = THU + timedelta(days=1), THU + timedelta(days=2)


def make(engine, name, channel, leader="U1") -> int:
    with session_scope(engine) as s:
        return new_community(s, name=name, channel=channel, leader=leader, team=TEAM_ID).id


def meeting_state(name="Annual Meeting", tz="America/Chicago", start=THU, end=SAT, rooms=None):
    rooms = "Room A: 40\nRoom B: 25" if rooms is None else rooms
    return {
        ob.NAME: {"value": payloads.input_value("plain_text_input", name)},
        ob.TIMEZONE: {"value": payloads.input_value("plain_text_input", tz)},
        ob.START: {"value": payloads.input_value("datepicker", start.isoformat())},
        ob.END: {"value": payloads.input_value("datepicker", end.isoformat())},
        ob.ROOMS: {"value": payloads.input_value("plain_text_input", rooms)},
    }


def submit_meeting(user, **kw) -> dict:
    response = user.interact(
        payloads.view_submission_payload(
            ob.MEETING_CALLBACK, meeting_state(**kw), user_id=user.user_id
        )
    )
    assert response.status_code == 200, response.text
    return response.json() if response.content else {}


def room_id(engine, name) -> int:
    with session_scope(engine) as s:
        return s.exec(select(OnsiteRoom).where(OnsiteRoom.name == name)).one().id


def meeting_id(engine) -> int:
    with session_scope(engine) as s:
        return s.exec(select(OnsiteMeeting)).one().id


def assign_state(engine, channel, room="Room A", day=FRI, start="10:00", end="12:00"):
    return {
        ob.COMMUNITY: {"value": payloads.input_value("conversations_select", channel)},
        ob.ROOM: {
            "value": {
                "type": "static_select",
                "selected_option": {
                    "text": {"type": "plain_text", "text": room},
                    "value": str(room_id(engine, room)),
                },
            }
        },
        ob.DAY: {"value": payloads.input_value("datepicker", day.isoformat())},
        ob.BLOCK_START: {"value": payloads.input_value("timepicker", start)},
        ob.BLOCK_END: {"value": payloads.input_value("timepicker", end)},
    }


def submit_assign(user, engine, channel, block=None, meta=None, **kw) -> dict:
    metadata = (
        meta if meta is not None else json.dumps({"meeting": meeting_id(engine), "block": block})
    )
    response = user.interact(
        payloads.view_submission_payload(
            ob.ASSIGN_CALLBACK,
            assign_state(engine, channel, **kw),
            user_id=user.user_id,
            private_metadata=metadata,
        )
    )
    assert response.status_code == 200, response.text
    return response.json() if response.content else {}


def blocks_stored(engine):
    with session_scope(engine) as s:
        return [
            (b.community_id, b.room_id, b.start_at, b.sequence)
            for b in s.exec(select(OnsiteBlock).order_by(OnsiteBlock.id)).all()
        ]


@pytest.fixture
def meeting(as_user, engine, slack):
    staff = as_user(STAFF)
    assert accepted(submit_meeting(staff))
    make(engine, "Survivorship", CHANNEL)
    make(engine, "Informatics", OTHER, leader="U5")
    make(engine, "Nursing", THIRD, leader="U6")
    return staff


# ---- the meeting ---------------------------------------------------------------------------
def test_staff_without_a_meeting_get_the_meeting_form_others_are_refused(as_user, slack):
    as_user(STAFF).command("onsite")
    view = slack.wait_for("views.open")[0].json_arg("view")
    assert view["callback_id"] == ob.MEETING_CALLBACK
    body = as_user("U1").reply("onsite meeting")
    assert "Only staff can assign onsite meeting blocks" in body["text"]
    assert len(slack.calls_to("views.open")) == 1


@pytest.mark.parametrize(
    "kw, field, words",
    [
        ({"tz": "Mars/Olympus"}, ob.TIMEZONE, "is not a time zone"),
        # directories and over-long names in the zone database: OSError inside ZoneInfo
        ({"tz": "America"}, ob.TIMEZONE, "Did you mean America/New_York or America/Chicago"),
        ({"tz": "Etc"}, ob.TIMEZONE, "Etc/UTC"),
        ({"tz": "x" * 300}, ob.TIMEZONE, "is not a time zone: use a name like America/Chicago"),
        ({"tz": "../../etc/passwd"}, ob.TIMEZONE, "is not a time zone"),
        ({"tz": "Europe/Berln"}, ob.TIMEZONE, "Did you mean Europe/Berlin"),
        ({"start": SAT, "end": THU}, ob.END, "ends before it starts"),
        ({"start": THU, "end": THU}, ob.END, "has neither"),
        ({"rooms": "Room A 40"}, ob.ROOMS, "Line 1 should be a room and its capacity"),
        ({"rooms": "A: 4\na: 5"}, ob.ROOMS, "listed twice"),
        ({"rooms": ""}, ob.ROOMS, "at least one room"),
        ({"name": "  "}, ob.NAME, "Give the meeting a name"),
    ],
)
def test_meeting_refusals_are_field_errors_and_store_nothing(as_user, engine, kw, field, words):
    body = submit_meeting(as_user(STAFF), **kw)
    assert body["response_action"] == "errors"
    assert words in body["errors"][field]
    with session_scope(engine) as s:
        assert s.exec(select(OnsiteMeeting)).all() == []


def test_meeting_is_stored_with_rooms_and_a_member_may_not_define_one(as_user, engine):
    body = submit_meeting(as_user("U1"))
    assert "Only staff" in body["errors"][ob.NAME]
    assert accepted(submit_meeting(as_user(STAFF), rooms="Hall 1: 120\n Room   B : 25 "))
    with session_scope(engine) as s:
        m = s.exec(select(OnsiteMeeting)).one()
        assert (m.year, m.timezone, m.start_date, m.end_date) == (
            THU.year,
            "America/Chicago",
            THU,
            SAT,
        )
        rooms = s.exec(select(OnsiteRoom).order_by(OnsiteRoom.id)).all()
        assert [(r.name, r.capacity) for r in rooms] == [("Hall 1", 120), ("Room B", 25)]


# ---- the slot rules, as a table -----------------------------------------------------------
RULES = [
    # day, start, end, field, the message (or None: accepted)
    (FRI, "10:00", "12:00", None, None),
    (SAT, "13:30", "15:30", None, None),
    (
        THU,
        "10:00",
        "12:00",
        ob.DAY,
        "Onsite blocks are two hours on a Friday or Saturday; Thursday 10:00-12:00 is neither",
    ),
    (FRI, "10:00", "11:30", ob.BLOCK_START, "Friday 10:00-11:30 is 90 minutes, not two hours"),
    (SAT, "09:00", "12:00", ob.BLOCK_START, "Saturday 09:00-12:00 is 3 hours, not two hours"),
    (THU, "10:00", "11:00", ob.DAY, "Thursday 10:00-11:00 is neither"),
    (FRI, "12:00", "10:00", ob.BLOCK_END, "Friday 12:00-10:00 ends before it starts"),
    (FRI, "10:15", "12:15", ob.BLOCK_START, "Blocks start on the hour or half past"),
    (FRI + timedelta(days=7), "10:00", "12:00", ob.DAY, "is outside it"),
    (THU - timedelta(days=1), "10:00", "12:00", ob.DAY, "is outside it"),
]


@pytest.mark.parametrize("day, start, end, field, words", RULES)
def test_slot_rules(meeting, engine, slack, day, start, end, field, words):
    body = submit_assign(meeting, engine, CHANNEL, day=day, start=start, end=end)
    if field is None:
        assert accepted(body)
        assert len(blocks_stored(engine)) == 1
        return
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == [field]
    assert words in body["errors"][field]
    assert blocks_stored(engine) == []
    meeting.settle()
    assert slack.calls_to("chat.postMessage") == []


def test_room_taken_at_an_overlapping_time_and_one_block_a_community(meeting, engine, slack):
    assert accepted(submit_assign(meeting, engine, CHANNEL))
    body = submit_assign(meeting, engine, OTHER, start="11:00", end="13:00")
    assert body["errors"][ob.ROOM].startswith("Room A is already taken at an overlapping time")
    assert "Survivorship, Friday 10:00-12:00" in body["errors"][ob.ROOM]
    # the next two hours, or another room at the same time, are free
    assert accepted(submit_assign(meeting, engine, OTHER, start="12:00", end="14:00"))
    assert accepted(submit_assign(meeting, engine, THIRD, room="Room B"))
    # a second block for a community is refused, naming the one it has
    body = submit_assign(meeting, engine, CHANNEL, room="Room B", day=SAT)
    assert (
        "Survivorship already has a block (Friday 10:00-12:00 in Room A)"
        in (body["errors"][ob.COMMUNITY])
    )
    assert len(blocks_stored(engine)) == 3
    # the very same submission again (a retry) answers as before and posts nothing more
    meeting.settle()
    posted = len(slack.calls_to("chat.postMessage"))
    assert accepted(submit_assign(meeting, engine, CHANNEL))
    meeting.settle()
    assert len(slack.calls_to("chat.postMessage")) == posted == 3


def test_two_staff_assigning_the_same_room_at_once_one_wins(meeting, engine, slack):
    barrier = threading.Barrier(2)
    results: dict[str, dict] = {}

    def go(channel):
        barrier.wait()
        results[channel] = submit_assign(meeting, engine, channel)

    threads = [threading.Thread(target=go, args=(c,)) for c in (CHANNEL, OTHER)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    winners = [c for c, body in results.items() if accepted(body)]
    losers = [body for body in results.values() if not accepted(body)]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0]["errors"][ob.ROOM].startswith("Room A is already taken at an overlapping time")
    assert len(blocks_stored(engine)) == 1
    with session_scope(engine) as s:
        assert len(s.exec(select(OnsiteRoomSlot)).all()) == 8  # its eight quarter hours


def test_channel_told_with_time_room_and_ics_then_move_and_free(meeting, engine, slack):
    assert accepted(submit_assign(meeting, engine, CHANNEL))
    meeting.settle()
    [post] = slack.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == CHANNEL)
    text = ack_text({"text": post.args["text"], "blocks": post.json_arg("blocks")})
    assert "<!date^" in text and "Room A" in text and "(40 seats)" in text
    with session_scope(engine) as s:
        block = s.exec(select(OnsiteBlock)).one()
    assert f"{PUBLIC_URL}/calendar/onsite/{block.uid}.ics" in text
    ics = requests.get(f"{meeting.endpoint}/calendar/onsite/{block.uid}.ics", timeout=5)
    assert ics.status_code == 200
    event = Calendar.from_ical(ics.content).walk("VEVENT")[0]
    assert event.decoded("dtstart") == block.start_at
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(hours=2)
    assert "Room A" in str(event["location"])
    # a member sees the block
    body = as_member(meeting).reply("onsite", CHANNEL)
    assert "Survivorship" in body["text"] and "Room A" in body["text"]
    # move: opened by staff, pre-filled; the channel is told again
    slack.reset()
    meeting.command(f"onsite move <#{CHANNEL}>")
    view = slack.wait_for("views.open")[0].json_arg("view")
    assert json.loads(view["private_metadata"])["block"] == block.id
    body = submit_assign(meeting, engine, CHANNEL, block=block.id, room="Room B", day=SAT)
    assert accepted(body)
    meeting.settle()
    [moved] = slack.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == CHANNEL)
    assert "moved to" in moved.args["text"] and "Room B" in moved.args["text"]
    [(_, room, _, sequence)] = blocks_stored(engine)
    assert (room, sequence) == (room_id(engine, "Room B"), 1)
    ics = requests.get(f"{meeting.endpoint}/calendar/onsite/{block.uid}.ics", timeout=5)
    assert Calendar.from_ical(ics.content).walk("VEVENT")[0]["sequence"] == 1
    # Room A is free again at the old time
    assert accepted(submit_assign(meeting, engine, OTHER))
    # free: the channel is told; the .ics is gone; freeing again changes nothing
    slack.reset()
    body = meeting.reply(f"onsite free <#{CHANNEL}>")
    assert "Freed the block of *Survivorship*" in body["text"]
    meeting.settle()
    [freed] = slack.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == CHANNEL)
    assert "was freed" in freed.args["text"]
    ics = requests.get(f"{meeting.endpoint}/calendar/onsite/{block.uid}.ics", timeout=5)
    assert ics.status_code == 404
    body = meeting.reply(f"onsite free <#{CHANNEL}>")
    assert "has no block to free; nothing changed" in body["text"]


def as_member(staff):
    from tests.helpers.endpoint import SlackUser

    return SlackUser(staff.endpoint, staff.slack, "U1", CHANNEL)


def test_grid_shows_rooms_blocks_and_who_has_none(meeting, engine):
    assert accepted(submit_assign(meeting, engine, CHANNEL))
    body = meeting.reply("onsite")
    text = ack_text(body)
    assert "Room A* (40 seats)" in text and "*Survivorship*" in text
    assert "Room B* (25 seats): _free_" in text
    assert "*No block yet:*" in text and "Informatics" in text and "Nursing" in text
    assert "1 of 3 communities have a block" in text


def test_forged_or_malformed_assignments_are_refused(meeting, as_user, engine):
    body = submit_assign(as_user("U1"), engine, CHANNEL)
    assert "Only staff" in json.dumps(body["errors"])
    for meta in ("nope", json.dumps({"meeting": "1"}), json.dumps({"meeting": 99999})):
        body = submit_assign(meeting, engine, CHANNEL, meta=meta)
        assert body["response_action"] == "errors"
    body = submit_assign(meeting, engine, "CNOCOMMUNITY")
    assert body["errors"][ob.COMMUNITY] == "That channel has no community."
    # a move of another community's block
    assert accepted(submit_assign(meeting, engine, CHANNEL))
    [(cid, *_)] = blocks_stored(engine)
    with session_scope(engine) as s:
        block_id = s.exec(select(OnsiteBlock)).one().id
    body = submit_assign(meeting, engine, OTHER, block=block_id, room="Room B")
    assert "no longer this community's" in body["errors"][ob.COMMUNITY]
    assert len(blocks_stored(engine)) == 1


def test_two_staff_giving_one_community_two_rooms_at_once_one_wins(meeting, engine, slack):
    barrier = threading.Barrier(2)
    results: dict[str, dict] = {}

    def go(room):
        barrier.wait()
        results[room] = submit_assign(meeting, engine, CHANNEL, room=room)

    threads = [threading.Thread(target=go, args=(r,)) for r in ("Room A", "Room B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    bodies = sorted(results.values(), key=lambda b: not accepted(b))
    assert accepted(bodies[0])
    assert "Survivorship already has a block" in bodies[1]["errors"][ob.COMMUNITY]
    assert len(blocks_stored(engine)) == 1
    with session_scope(engine) as s:
        assert len(s.exec(select(OnsiteRoomSlot)).all()) == 8


# ---- whole minutes, and the room's key whatever the times ---------------------------------
@pytest.mark.parametrize(
    "start, end", [("10:00:00.000001", "12:00:00.000001"), ("10:00:30", "12:00")]
)
def test_forged_times_with_seconds_are_a_field_error(meeting, engine, slack, start, end):
    assert accepted(submit_assign(meeting, engine, CHANNEL))
    body = submit_assign(meeting, engine, OTHER, start=start, end=end)
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == [ob.BLOCK_START]
    assert len(blocks_stored(engine)) == 1


def test_the_service_takes_whole_minutes_only(meeting, engine):
    from datetime import time

    from bot.services import onsite, onsite_assignment
    from bot.services.communities import by_channel

    with session_scope(engine) as s:
        m = s.exec(select(OnsiteMeeting)).one()
        c = by_channel(s, TEAM_ID, OTHER)
        with pytest.raises(onsite.SlotError) as info:
            onsite_assignment.assign(
                s, m, c, room_id(engine, "Room A"), FRI, time(10, 0, 0, 1), time(12), STAFF
            )
        assert "whole minutes" in str(info.value)
    assert blocks_stored(engine) == []


def test_the_room_key_refuses_an_overlap_by_any_instant(meeting, engine, monkeypatch):
    """Were a start off the grid ever to pass the rules, the cells it touches still hold
    the room: the key refuses it."""
    from datetime import time

    from bot.services import onsite, onsite_assignment
    from bot.services.communities import by_channel

    assert accepted(submit_assign(meeting, engine, CHANNEL))
    real = onsite.check_slot

    def off_the_grid(*args):
        begin, finish = real(*args)
        return begin + timedelta(microseconds=1), finish + timedelta(microseconds=1)

    monkeypatch.setattr(onsite, "check_slot", off_the_grid)
    with session_scope(engine) as s:
        m = s.exec(select(OnsiteMeeting)).one()
        c = by_channel(s, TEAM_ID, OTHER)
        with pytest.raises(onsite.SlotError) as info:
            onsite_assignment.assign(
                s, m, c, room_id(engine, "Room A"), FRI, time(10), time(12), STAFF
            )
        assert "already taken" in str(info.value)
    assert len(blocks_stored(engine)) == 1
    with session_scope(engine) as s:
        cells = s.exec(select(OnsiteRoomSlot)).all()
    assert len(cells) == 8  # a two-hour block holds its eight quarter hours


def test_quarter_hours_cover_whatever_instant_they_are_given():
    from datetime import UTC, datetime

    from bot.services.onsite_assignment import cell_starts

    at = datetime(2030, 5, 3, 15, 0, tzinfo=UTC)
    assert len(cell_starts(at, at + timedelta(hours=2))) == 8
    odd = cell_starts(at + timedelta(microseconds=1), at + timedelta(hours=2, microseconds=1))
    assert len(odd) == 9 and odd[0] == at
    nepal = datetime(2030, 5, 3, 4, 15, tzinfo=UTC)  # 10:00 in Asia/Kathmandu
    assert cell_starts(nepal, nepal + timedelta(hours=2))[0] == nepal


def _said(body: dict) -> str:
    assert accepted(body)
    return ack_text({"blocks": body["view"]["blocks"]})


def test_meeting_save_and_assign_say_what_happened_and_where_to_see_it(as_user, engine, slack):
    staff = as_user(STAFF)
    said = _said(submit_meeting(staff))
    assert "Saved *Annual Meeting*" in said and "venue time America/Chicago" in said
    assert "2 rooms (Room A, Room B)" in said and "`/cop onsite` shows the rooms" in said
    make(engine, "Survivorship", CHANNEL)
    said = _said(submit_assign(staff, engine, CHANNEL))
    assert "Gave *Survivorship* the onsite block Fri" in said and "*Room A*" in said
    assert f"I've told <#{CHANNEL}>" in said and "`/cop onsite` shows every room" in said
    said = _said(submit_assign(staff, engine, CHANNEL))
    assert "Nothing changed: *Survivorship* already has Fri" in said


# ---- a submitted agenda under a block that moves or is freed ------------------------------
def _submitted_agenda(engine, channel=CHANNEL):
    from bot.services import agenda
    from bot.services.agenda import Session_
    from bot.services.communities import by_channel

    with session_scope(engine) as s:
        c = by_channel(s, TEAM_ID, channel)
        year = s.exec(select(OnsiteMeeting)).one().year
        sessions = [Session_("10:00", 60, "Welcome"), Session_("11:00", 60, "Cases")]
        assert agenda.save(
            s, c.id, year, sessions, "U1", submit=True, now=datetime.now(UTC)
        ).newly_submitted
        return c.id, year


def _agenda_state(engine, cid, year):
    from bot.services import agenda

    with session_scope(engine) as s:
        a = agenda.load(s, cid, year)
        return a.state, a.submitted_at


def _export_notes(engine, year):
    from bot.services import deliverables_export as dx

    with session_scope(engine) as s:
        return {r["community"]: r["note"] for r in dx.agendas(s, year)}


def test_a_moved_block_returns_its_submitted_agenda_to_draft_and_says_so(meeting, engine, slack):
    assert accepted(submit_assign(meeting, engine, CHANNEL))
    cid, year = _submitted_agenda(engine)
    assert _export_notes(engine, year) == {"Survivorship": ""}  # the sessions sit in the block
    with session_scope(engine) as s:
        block_id = s.exec(select(OnsiteBlock)).one().id
    meeting.settle()
    slack.reset()
    # another room at the same time: the sessions still fit, the agenda stays submitted
    assert accepted(submit_assign(meeting, engine, CHANNEL, block=block_id, room="Room B"))
    assert _agenda_state(engine, cid, year)[0] == "submitted"
    # another time: back to draft, the channel's leaders told, the export says why
    body = submit_assign(meeting, engine, CHANNEL, block=block_id, start="14:00", end="16:00")
    assert accepted(body)
    assert _agenda_state(engine, cid, year) == ("draft", None)
    meeting.settle()
    said = [c.args["text"] for c in slack.calls_to("chat.postMessage")]
    assert sum("is a draft again: its block moved" in t for t in said) == 1
    assert _export_notes(engine, year) == {
        "Survivorship": "sessions outside the block (14:00-16:00 venue time)"
    }
    # freed under a submitted agenda: draft again, told again, the export says there is none
    _submitted_agenda(engine)
    slack.reset()
    meeting.reply(f"onsite free <#{CHANNEL}>")
    meeting.settle()
    said = [c.args["text"] for c in slack.calls_to("chat.postMessage")]
    assert sum("is a draft again: its block was freed" in t for t in said) == 1
    assert _agenda_state(engine, cid, year)[0] == "draft"
    assert _export_notes(engine, year)["Survivorship"].startswith("no onsite block")
