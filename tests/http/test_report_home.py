"""App Home per role through the signed endpoint: staff's table of 300 communities stays
inside Slack's limits a page at a time, pages and filters with buttons; a leader sees a
to-do list with deadlines in their own zone."""

from __future__ import annotations

import json
import time
from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import select

from bot.blocks.home_year import FILTER_ACTION, PAGE_ACTION
from bot.blocks.limits import check_view
from sandbox.slack_standin import TEAM_ID
from storage.db import session_scope
from storage.models import Call, Community, Membership, utcnow
from tests.helpers.endpoint import STAFF
from tests.helpers.records import new_community


def opened(user):
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": "D0HOME",
        "tab": "home",
        "event_ts": "1700000000.000100",
    }


def action(user_id, action_id, *, value=None, selected=None):
    element = {
        "type": "button" if selected is None else "static_select",
        "action_id": action_id,
        "block_id": "home_nav",
        "action_ts": f"{time.time():.6f}",
    }
    if value is not None:
        element["value"] = value
    if selected is not None:
        element["selected_option"] = {
            "text": {"type": "plain_text", "text": selected},
            "value": selected,
        }
    return {
        "type": "block_actions",
        "team": {"id": TEAM_ID},
        "user": {"id": user_id, "team_id": TEAM_ID},
        "api_app_id": "A0COPBOT",
        "trigger_id": "1.trigger",
        "container": {"type": "view", "view_id": "VHOME"},
        "view": {"id": "VHOME", "type": "home", "blocks": []},
        "actions": [element],
    }


def published(slack, user, count):
    calls = slack.wait_for("views.publish", count=count, where=lambda c: c.args["user_id"] == user)
    view = calls[count - 1].json_arg("view")
    assert check_view(view) == [], "the home view breaks Block Kit's limits"
    return view, json.dumps(view, ensure_ascii=False)


def test_staff_home_with_300_communities_pages_and_filters(as_user, engine, slack):
    with session_scope(engine) as s:
        for i in range(300):
            new_community(
                s, name=f"Community {i:03d}", channel=f"CH{i:05d}", leader="U1", team=TEAM_ID
            )
        lonely = s.exec(select(Community).where(Community.name == "Community 123")).one()
        s.execute(delete(Membership).where(Membership.community_id == lonely.id))
    staff = as_user(STAFF)
    staff.event(opened(STAFF))
    view, text = published(slack, STAFF, 1)
    assert len(view["blocks"]) <= 100
    assert "All communities (300)" in text
    assert "Every community: 1–25 of 300 (page 1 of 12)" in text
    assert "*Community 000*" in text and "*Community 025*" not in text
    nav = next(b for b in view["blocks"] if b.get("block_id") == "home_nav")
    [following] = nav["elements"]
    assert following["action_id"] == f"{PAGE_ACTION}_next"
    staff.interact(action(STAFF, following["action_id"], value=following["value"]))
    view, text = published(slack, STAFF, 2)
    assert "26–50 of 300 (page 2 of 12)" in text and "*Community 025*" in text
    assert [e["action_id"] for b in view["blocks"] if b.get("block_id") == "home_nav"
            for e in b["elements"]] == [f"{PAGE_ACTION}_prev", f"{PAGE_ACTION}_next"]  # fmt: skip
    # the filter: the community without a leader stands out
    staff.interact(action(STAFF, FILTER_ACTION, selected="no_leader"))
    view, text = published(slack, STAFF, 3)
    assert "Without a leader: 1–1 of 1 (page 1 of 1)" in text
    row = next(b for b in view["blocks"] if "*Community 123*" in b.get("text", {}).get("text", ""))
    assert row["fields"][0]["text"] == "*Leaders*\n0 of 2, 0 people in all :warning: *no leader*"
    # a forged page far past the end shows the last page; a malformed one the first
    staff.interact(action(STAFF, f"{PAGE_ACTION}_next", value='{"page": 999, "show": "all"}'))
    _view, text = published(slack, STAFF, 4)
    assert "(page 12 of 12)" in text
    staff.interact(action(STAFF, f"{PAGE_ACTION}_next", value="nonsense"))
    _view, text = published(slack, STAFF, 5)
    assert "(page 1 of 12)" in text


def test_leader_sees_a_to_do_list_with_deadlines_members_do_not(as_user, engine, slack):
    with session_scope(engine) as s:
        c = new_community(s, name="Survivorship", channel="CHOME001", leader="U1", team=TEAM_ID)
        from bot.services.communities import join

        join(s, c, "U5")
    as_user("U1").event(opened("U1"))
    _view, text = published(slack, "U1", 1)
    assert "Your to-do list" in text
    assert "Finish the plan (0 of 7 sections)" in text
    assert "Schedule community calls (0 so far; the year needs 3 to 6)" in text
    assert "Submit the progress report (not started): `/cop report` (due <!date^" in text
    assert "Acknowledge the guidelines" in text
    assert "All communities" not in text
    with session_scope(engine) as s:
        s.add(
            Call(
                community_id=c.id, start_at=utcnow() + timedelta(days=3), timezone="UTC",
                topic="Journal <club>", host_user_id="U1", created_by="U1",
                join_url="https://zoom.example/j/1",
            )
        )  # fmt: skip
    as_user("U5").event(opened("U5"))
    _view, text = published(slack, "U5", 1)
    assert "Your to-do list" not in text
    assert "Your next calls" in text and "Journal &lt;club&gt;" in text
    assert "<https://zoom.example/j/1|join>" in text


def test_staff_home_shows_the_rooms_and_blocks(as_user, engine, slack):
    from datetime import date, time

    from bot.services import onsite, onsite_assignment

    day = date(date.today().year + 1, 3, 1)
    friday = day + timedelta(days=(4 - day.weekday()) % 7)
    with session_scope(engine) as s:
        c = new_community(s, name="Survivorship", channel="CHOME001", leader="U1", team=TEAM_ID)
        meeting = onsite.save_meeting(
            s, name="Annual Meeting", timezone="America/Chicago", start=friday, end=friday,
            rooms=[("Room A", 40), ("Room B", 10)], user_id=STAFF,
        )  # fmt: skip
        room = onsite.rooms_of(s, meeting.id)[0]
        onsite_assignment.assign(s, meeting, c, room.id, friday, time(10), time(12), STAFF)
    as_user(STAFF).event(opened(STAFF))
    _view, text = published(slack, STAFF, 1)
    assert "*Annual Meeting* (America/Chicago): rooms and blocks, venue time" in text
    assert "*Room A* (40 seats): " in text and "10:00-12:00" in text
    assert "*Room B* (10 seats): _free_" in text
    assert "*Onsite block*\\nFri 10:00-12:00 Room A" in text  # in the community's row
    # the block is listed once above the table, with its Move/Free menu
    grid = [
        b["text"]["text"] for b in _view["blocks"]
        if "10:00-12:00" in b.get("text", {}).get("text", "")
    ]  # fmt: skip
    menus = [b for b in _view["blocks"] if b.get("accessory", {}).get("type") == "overflow"]
    assert len(grid) == 1 and grid[0].count("*Survivorship*") == 1 and len(menus) == 1


def test_staff_move_or_free_a_block_from_home(as_user, engine, slack):
    from datetime import date, time

    from bot.blocks.home_year import BLOCK_MENU_ACTION
    from bot.blocks.onsite import ASSIGN_CALLBACK
    from bot.services import onsite, onsite_assignment
    from storage.models import OnsiteBlock

    day = date(date.today().year + 1, 3, 1)
    friday = day + timedelta(days=(4 - day.weekday()) % 7)
    with session_scope(engine) as s:
        c = new_community(s, name="Survivorship", channel="CHOME001", leader="U1", team=TEAM_ID)
        meeting = onsite.save_meeting(
            s, name="Annual Meeting", timezone="America/Chicago", start=friday, end=friday,
            rooms=[("Room A", 40)], user_id=STAFF,
        )  # fmt: skip
        room = onsite.rooms_of(s, meeting.id)[0]
        block_id = onsite_assignment.assign(
            s, meeting, c, room.id, friday, time(10), time(12), STAFF
        ).block.id
    staff = as_user(STAFF)
    staff.event(opened(STAFF))
    view, _ = published(slack, STAFF, 1)
    menu = next(
        b["accessory"] for b in view["blocks"]
        if b.get("accessory", {}).get("action_id") == BLOCK_MENU_ACTION
    )  # fmt: skip
    assert [o["value"] for o in menu["options"]] == [f"move:{block_id}", f"free:{block_id}"]
    # a member's forged click changes nothing
    as_user("U1").interact(action("U1", BLOCK_MENU_ACTION, selected=f"free:{block_id}"))
    staff.settle()
    with session_scope(engine) as s:
        assert s.get(OnsiteBlock, block_id) is not None
    staff.interact(action(STAFF, BLOCK_MENU_ACTION, selected=f"move:{block_id}"))
    [opened_view] = slack.wait_for("views.open")
    assert opened_view.json_arg("view")["callback_id"] == ASSIGN_CALLBACK
    staff.interact(action(STAFF, BLOCK_MENU_ACTION, selected=f"free:{block_id}"))
    staff.settle()
    with session_scope(engine) as s:
        assert s.get(OnsiteBlock, block_id) is None
    [told] = slack.wait_for("chat.postMessage", where=lambda x: x.args["channel"] == "CHOME001")
    assert "was freed" in told.args["text"]
    _view, text = published(slack, STAFF, 2)
    assert "*Room A* (40 seats): _free_" in text


def test_staff_table_rows_are_labelled_aligned_fields(as_user, engine, slack):
    with session_scope(engine) as s:
        new_community(s, name="Survivorship", channel="CHOME001", leader="U1", team=TEAM_ID)
    as_user(STAFF).event(opened(STAFF))
    view, _ = published(slack, STAFF, 1)
    row = next(b for b in view["blocks"] if b.get("text", {}).get("text", "").startswith(
        "*Survivorship* <#CHOME001>"))  # fmt: skip
    labels = [f["text"].split("\n")[0] for f in row["fields"]]
    assert labels[0] == "*Leaders*" and labels[1].startswith("*Community calls ")
    assert labels[2:] == [
        "*Plan*", "*Onsite block*", "*Agenda*", "*Report*", "*Guidelines*", "*Health*"
    ]  # fmt: skip
    assert all(f["type"] == "mrkdwn" and len(f["text"]) <= 2000 for f in row["fields"])
    assert len(row["fields"]) <= 10  # Slack's limit on a section's fields
