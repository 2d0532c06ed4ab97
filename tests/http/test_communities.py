"""Through the signed HTTP endpoint: /cop help, new, leaders, join, leave, members, App Home."""

from __future__ import annotations

import json

import pytest

from bot.blocks import community as cb
from bot.blocks.help import SUBCOMMANDS
from storage.db import session_scope
from storage.models import Person
from tests.helpers.communities import (
    CHANNEL,
    communities,
    create_community,
    home_opened,
    memberships,
    people,
)
from tests.helpers.endpoint import STAFF


# ---- help -----------------------------------------------------------------------------
def test_help_lists_every_subcommand_and_marks_unbuilt_ones(as_user, monkeypatch):
    from bot.listeners import commands

    for text in ("", "help"):
        body = as_user("U1").reply(text)
        assert body["response_type"] == "ephemeral"
        shown = body["text"]
        for sub in SUBCOMMANDS:
            assert f"`/cop {sub.name}" in shown
        assert "`/cop plan [N | show | publish | export]` Work through" in shown
        assert "(coming soon)" not in shown  # every subcommand is built
        assert "`/cop join [#channel]` Join this channel's community (or the one named).\n" in shown
    monkeypatch.delitem(commands.HANDLERS, "report")  # a subcommand not built yet
    shown = as_user("U1").reply("help")["text"]
    assert "`/cop report [export | status]` Write and submit the annual progress report; " in shown
    assert shown.count("(coming soon)") == 1 and "export it as a file. (coming soon)" in shown


def test_unknown_subcommand_gets_help_and_changes_nothing(as_user, engine, slack):
    body = as_user("U1").reply("frobnicate now")
    assert "I don't know `/cop frobnicate`" in body["text"]
    assert "/cop members" in body["text"]
    assert communities(engine) == []
    assert slack.calls_to("chat.postMessage") == []


def test_known_but_unbuilt_subcommand_says_coming_soon(as_user, monkeypatch):
    from bot.listeners import commands

    monkeypatch.delitem(commands.HANDLERS, "report")  # a subcommand not built yet
    body = as_user("U1").reply("report")
    assert body["text"].startswith("`/cop report` is coming soon")


# ---- /cop new -------------------------------------------------------------------------
def test_new_opens_modal_with_current_channel(as_user, slack):
    user = as_user("U1")
    response = user.command("new")
    assert response.status_code == 200
    [call] = slack.wait_for("views.open")
    view = call.json_arg("view")
    assert call.args["trigger_id"] == user.last_trigger_id
    assert view["callback_id"] == cb.NEW_COMMUNITY_CALLBACK
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks[cb.CHANNEL]["element"]["default_to_current_conversation"] is True
    assert blocks[cb.CHANNEL]["element"]["initial_conversation"] == CHANNEL
    assert cb.LEADER not in blocks  # only staff choose someone else
    labels = [o["text"]["text"] for o in blocks[cb.AREAS]["element"]["options"]]
    assert labels == [
        "Developing relationships",
        "Learning and developing practice",
        "Carrying out tasks and projects",
        "Creating new knowledge",
    ]


def test_staff_modal_offers_first_leader(as_user, slack):
    as_user(STAFF).command("new")
    view = slack.wait_for("views.open")[0].json_arg("view")
    leader = next(b for b in view["blocks"] if b["block_id"] == cb.LEADER)
    assert leader["element"]["initial_user"] == STAFF


def test_submit_creates_community_with_creator_as_leader(as_user, engine, slack):
    slack.add_user("U1", "ana", tz="America/Chicago", email="ana@example.org")
    user = as_user("U1")
    response = create_community(user)
    assert response.content in (b"", b"{}") or response.json() == {}
    [c] = communities(engine)
    assert (c.name, c.slack_channel_id, c.mission) == (
        "Early-career oncologists",
        CHANNEL,
        "Grow together.",
    )
    assert [a.value for a in c.areas] == ["relationships", "practice"]
    assert memberships(engine) == [("U1", "leader")]
    slack.wait_for("conversations.join", where=lambda c: c.args["channel"] == CHANNEL)
    [welcome] = slack.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == CHANNEL)
    assert "Early-career oncologists" in welcome.args["text"]
    assert welcome.json_arg("blocks")
    [dm] = slack.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == "U1")
    assert "is created in <#CCOMM001>" in dm.args["text"]
    user.settle()
    with session_scope(engine) as s:
        person = s.get(Person, "U1")
        assert (person.display_name, person.tz, person.email) == (
            "ana",
            "America/Chicago",
            "ana@example.org",
        )


def test_a_private_channel_needs_the_bot_invited_first(as_user, engine, slack):
    ana = as_user("U1")
    slack.add_channel("GPRIV001", kind="private", members=["U1"], bot_member=False)
    response = create_community(ana, register=False, channel="GPRIV001")
    assert "/invite @copbot" in response.json()["errors"][cb.CHANNEL]
    assert communities(engine) == []
    # once invited, the community is made there and announced without joining
    slack.add_channel("GPRIV001", kind="private", members=["U1"], bot_member=True)
    assert create_community(ana, register=False, channel="GPRIV001").content in (b"", b"{}")
    slack.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == "GPRIV001")
    assert slack.calls_to("conversations.join") == []
    assert len(communities(engine)) == 1


def test_empty_name_is_an_error_on_the_field_and_stores_nothing(as_user, engine):
    response = create_community(as_user("U1"), name="   ")
    assert response.json()["response_action"] == "errors"
    assert set(response.json()["errors"]) == {cb.NAME}
    assert communities(engine) == []


def test_too_long_name_is_an_error_on_the_field(as_user, engine):
    response = create_community(as_user("U1"), name="x" * 81)
    assert response.json() == {
        "response_action": "errors",
        "errors": {cb.NAME: "Keep the name to 80 characters (it has 81)."},
    }
    assert communities(engine) == []


def test_duplicate_channel_is_refused_naming_the_existing_one(as_user, engine, slack):
    create_community(as_user("U1"), name="Survivorship")
    response = create_community(as_user("U2"), name="Something else")
    errors = response.json()["errors"]
    assert errors == {cb.CHANNEL: "This channel already has a community: Survivorship."}
    assert len(communities(engine)) == 1
    # and /cop new in that channel says so up front, without a modal
    slack.reset()
    body = as_user("U2").reply("new")
    assert "already has a community: *Survivorship*" in body["text"]
    assert slack.calls_to("views.open") == []


def test_duplicate_name_in_another_channel_is_refused(as_user, engine):
    create_community(as_user("U1"), name="Survivorship")
    response = create_community(as_user("U2"), name="  survivorship ", channel="COTHER01")
    assert "Survivorship" in response.json()["errors"][cb.NAME]
    assert len(communities(engine)) == 1


def test_staff_creates_a_community_for_someone_else(as_user, engine, slack):
    people(slack, "U9")
    create_community(as_user(STAFF), leader="U9")
    assert memberships(engine) == [("U9", "leader")]
    assert communities(engine)[0].created_by == STAFF


def test_non_staff_cannot_name_another_first_leader(as_user, engine):
    response = create_community(as_user("U1"), leader="U9")
    assert "Only staff" in response.json()["errors"][cb.NAME]
    assert communities(engine) == []


# ---- /cop leaders ---------------------------------------------------------------------
def test_leaders_shows_and_sets_at_most_two_and_announces(as_user, engine, slack):
    people(slack, "U1", "U2", "U3")
    ana = as_user("U1")
    create_community(ana)
    slack.wait_for("chat.postMessage", count=2)  # welcome + DM
    assert "<@U1>" in ana.reply("leaders")["text"]

    body = ana.reply("leaders <@U1|ana> <@U2|ben>")
    assert body["text"] == (
        "Done: <@U1> and <@U2> are now the leaders of *Early-career oncologists*. "
        "I've told the channel."
    )
    assert memberships(engine) == [("U1", "leader"), ("U2", "leader")]
    [note] = slack.wait_for("chat.postMessage", where=lambda c: "leaders of" in c.args["text"])
    assert note.args["channel"] == CHANNEL
    assert "<@U1> and <@U2>" in note.args["text"]

    body = ana.reply("leaders <@U1> <@U2> <@U3>")
    assert "at most 2 leaders; you named 3" in body["text"]
    assert memberships(engine) == [("U1", "leader"), ("U2", "leader")]

    # replacing a leader keeps them as a member
    ana.reply("leaders <@U1> <@U3>")
    assert memberships(engine) == [("U1", "leader"), ("U2", "member"), ("U3", "leader")]


def test_a_member_cannot_set_leaders(as_user, engine):
    create_community(as_user("U1"))
    bob = as_user("U5")
    bob.reply("join")
    body = bob.reply("leaders <@U5>")
    assert "Only the community's leaders and staff" in body["text"]
    assert memberships(engine) == [("U1", "leader"), ("U5", "member")]


def test_staff_can_set_leaders_without_being_a_member(as_user, engine, slack):
    people(slack, "U7")
    create_community(as_user("U1"))
    body = as_user(STAFF).reply("leaders <@U7>")
    assert "<@U7> is now the leader of *Early-career oncologists*" in body["text"]
    assert memberships(engine) == [("U1", "member"), ("U7", "leader")]


def test_leaders_with_plain_names_is_explained(as_user, engine):
    create_community(as_user("U1"))
    body = as_user("U1").reply("leaders @ana bob")
    assert "mentioning them" in body["text"]
    assert memberships(engine) == [("U1", "leader")]


def test_commands_in_a_channel_without_a_community(as_user):
    for cmd in ("leaders <@U2>", "join", "leave", "members"):
        body = as_user("U1").reply(cmd, channel_id="CEMPTY01")
        assert "no community yet" in body["text"]
        assert "/cop new" in body["text"]


# ---- join, leave, members -------------------------------------------------------------
def test_join_leave_members(as_user, engine):
    create_community(as_user("U1"))
    bob, cy = as_user("U5"), as_user("U6")
    assert "Welcome to *Early-career oncologists*" in bob.reply("join")["text"]
    assert "already a member" in bob.reply("join")["text"]
    cy.reply("join")
    body = bob.reply("members")
    assert body["text"] == "Early-career oncologists: 1 leader and 2 members. Led by <@U1>."
    blocks = json.dumps(body["blocks"])
    assert blocks.index("Leaders (1)") < blocks.index("Members (2)")
    assert blocks.index("<@U5>") < blocks.index("<@U6>")

    assert "You have left" in bob.reply("leave")["text"]
    assert memberships(engine) == [("U1", "leader"), ("U6", "member")]
    assert "not a member" in bob.reply("leave")["text"]


def test_join_another_channels_community_by_mention(as_user, engine):
    create_community(as_user("U1"))
    body = as_user("U5", "CELSEWHERE").reply(f"join <#{CHANNEL}|oncology>")
    assert "Its channel is <#CCOMM001>" in body["text"]
    assert ("U5", "member") in memberships(engine)


def test_the_only_leader_cannot_leave(as_user, engine):
    create_community(as_user("U1"))
    body = as_user("U1").reply("leave")
    assert "only leader" in body["text"]
    assert memberships(engine) == [("U1", "leader")]


# ---- App Home and events --------------------------------------------------------------


def test_app_home_shows_roles_and_staff_sees_everything(as_user, slack):
    create_community(as_user("U1"), name="Survivorship")
    create_community(as_user("U2"), name="Informatics", channel="CINFO001")
    as_user("U1", "CINFO001").reply("join")

    as_user("U1").event(home_opened("U1"))
    [call] = slack.wait_for("views.publish", where=lambda c: c.args["user_id"] == "U1")
    text = json.dumps(call.json_arg("view"))
    assert "*Informatics*" in text and "Member" in text
    assert "*Survivorship*" in text and "Leader" in text
    assert "All communities" not in text

    as_user(STAFF).event(home_opened(STAFF))
    [call] = slack.wait_for("views.publish", where=lambda c: c.args["user_id"] == STAFF)
    text = json.dumps(call.json_arg("view"))
    assert "All communities (2)" in text
    assert "*Leaders*\\n1 of 2, 1 person in all" in text
    assert "You are not in a community yet" in text


def test_a_retried_event_is_handled_once(as_user, slack):
    user = as_user("U1")
    first = user.event(home_opened("U1"), event_id="EvRETRY0001")
    retry = user.event(
        home_opened("U1"),
        event_id="EvRETRY0001",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert first.status_code == retry.status_code == 200
    slack.wait_for("views.publish")
    other = user.event(home_opened("U1"), event_id="EvRETRY0002")
    assert other.status_code == 200
    slack.wait_for("views.publish", count=2)
    assert len(slack.calls_to("views.publish")) == 2


def test_healthz(endpoint):
    import requests

    response = requests.get(f"{endpoint}/healthz", timeout=5)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "database": "ok", "slack": "ok"}


# ---- leaders are real people, and nobody steps down by accident -------------------------------
def leaders_button_click(user, value: str, response_url: str) -> dict:
    """The "Step down" button of an ephemeral message, as Slack POSTs its click."""
    return {
        "type": "block_actions",
        "team": {"id": "T0STANDIN", "domain": "standin"},
        "user": {"id": user.user_id, "username": user.user_id.lower(), "team_id": "T0STANDIN"},
        "api_app_id": "A0COPBOT",
        "trigger_id": "1.trigger",
        "container": {"type": "message", "is_ephemeral": True, "channel_id": user.channel_id},
        "channel": {"id": user.channel_id},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": cb.LEADERS_CONFIRM_ACTION,
                "block_id": "b",
                "value": value,
                "action_ts": "1700000000.000100",
            }
        ],
    }


@pytest.mark.parametrize(
    ("who", "why"),
    [
        ("UNOBODY1", "is not a person in this workspace"),
        ("UBOTTY01", "is an app, not a person"),
        ("USLACKBOT", "is an app, not a person"),
        ("UGONE001", "account is deactivated"),
    ],
)
def test_leaders_must_be_real_active_people(as_user, engine, slack, who, why):
    people(slack, "U1")
    slack.add_user("UBOTTY01", "helper", is_bot=True)
    slack.add_user("UGONE001", "gone")
    slack.users["UGONE001"]["deleted"] = True
    ana = as_user("U1")
    create_community(ana)
    ana.settle()
    body = ana.reply(f"leaders <@U1> <@{who}>")
    assert why in body["text"] and "Nothing changed" in body["text"]
    assert memberships(engine) == [("U1", "leader")]
    if who != "USLACKBOT":
        assert [c.args["user"] for c in slack.calls_to("users.info")][-1] in (who, "U1")


def test_the_only_leader_naming_someone_else_must_confirm_stepping_down(as_user, engine, slack):
    people(slack, "U1", "U2")
    ana = as_user("U1")
    create_community(ana)
    ana.settle()
    slack.reset()
    body = ana.reply("leaders <@U2>")
    assert "This makes you a member" in body["text"] and "Step down?" in body["text"]
    assert memberships(engine) == [("U1", "leader")]  # nothing changed yet
    [button] = [e for b in body["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert button["confirm"]["confirm"]["text"] == "Step down"
    assert slack.calls_to("chat.postMessage") == []

    hook = slack.response_url("confirm")
    assert ana.interact(leaders_button_click(ana, button["value"], hook)).status_code == 200
    ana.settle()
    assert memberships(engine) == [("U1", "member"), ("U2", "leader")]
    [said] = slack.wait_for("response_url")
    assert said.args["text"].startswith("Done: <@U2> is now the leader of *Early-career")
    assert said.args["replace_original"] is True
    [note] = slack.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == CHANNEL)
    assert "<@U2> is now the leader of" in note.args["text"]


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not json",
        '{"community": "x", "leaders": ["U2"]}',
        '{"community": 1, "leaders": []}',
        '{"community": 1, "leaders": ["<!channel>"]}',
        "[1, 2]",
    ],
)
def test_a_forged_step_down_button_changes_nothing(as_user, engine, slack, value):
    people(slack, "U1", "U2")
    ana = as_user("U1")
    create_community(ana)
    ana.settle()
    slack.reset()
    hook = slack.response_url("forged")
    assert ana.interact(leaders_button_click(ana, value, hook)).status_code == 200
    ana.settle()
    [said] = slack.wait_for("response_url")
    assert "not one I made" in said.args["text"]
    assert memberships(engine) == [("U1", "leader")]


def test_a_step_down_button_naming_another_community_is_checked_there(as_user, engine, slack):
    people(slack, "U1", "U2", "U5")
    create_community(as_user("U1"))
    mallory = as_user("U5", "CMALLORY")
    create_community(mallory, name="Mallory's", channel="CMALLORY")
    mallory.settle()
    slack.reset()
    target = next(c.id for c in communities(engine) if c.slack_channel_id == CHANNEL)
    value = json.dumps({"community": target, "leaders": ["U5"]})
    mallory.interact(leaders_button_click(mallory, value, slack.response_url("x")))
    mallory.settle()
    [said] = slack.wait_for("response_url")
    assert "Only the community's leaders and staff" in said.args["text"]
    assert ("U1", "leader") in memberships(engine)
    assert ("U5", "leader") in memberships(engine)  # only in Mallory's own community
    assert len([m for m in memberships(engine) if m[0] == "U5"]) == 1


def test_the_last_leader_leaving_is_refused_and_told_how(as_user, engine, slack):
    people(slack, "U1", "U2")
    ana = as_user("U1")
    create_community(ana)
    body = ana.reply("leave")
    assert "only leader" in body["text"] and "/cop leaders @someone" in body["text"]
    assert memberships(engine) == [("U1", "leader")]


def test_leaders_and_leave_at_once_never_leave_a_community_without_a_leader(as_user, engine, slack):
    import threading

    people(slack, "U1", "U2")
    ana, ben, staff = as_user("U1"), as_user("U2"), as_user(STAFF)
    create_community(ana)
    ana.reply("leaders <@U1> <@U2>")
    for _ in range(4):
        barrier = threading.Barrier(2)
        answers = {}

        def run(user, text, barrier=barrier, answers=answers):
            barrier.wait()
            answers[text] = user.reply(text)["text"]

        threads = [
            threading.Thread(target=run, args=(staff, "leaders <@U2>")),
            threading.Thread(target=run, args=(ben, "leave")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        leaders = [u for u, role in memberships(engine) if role == "leader"]
        assert leaders == ["U2"], answers
        ana.reply("join")
        staff.reply("leaders <@U1> <@U2>")


# ---- channels are real channels ------------------------------------------------------------
@pytest.mark.parametrize(
    ("channel", "setup", "why"),
    [
        ("DDIRECT01", {"kind": "im", "members": ["U1"]}, "direct message"),
        ("GMPIM0001", {"kind": "mpim", "members": ["U1"]}, "group DM"),
        ("CNOWHERE1", None, "can't find that channel"),
        ("COLDSTUF1", {"archived": True, "members": ["U1"]}, "archived"),
        ("CNOTMINE1", {"members": ["U9"]}, "Only members of a channel"),
        ("GSECRET01", {"kind": "private", "members": ["U1"]}, "/invite @copbot"),
    ],
)
def test_the_channel_must_be_a_real_channel_the_person_and_bot_can_use(
    as_user, engine, slack, channel, setup, why
):
    if setup is not None:
        slack.add_channel(channel, **setup)
    response = create_community(as_user("U1"), register=False, channel=channel)
    assert response.json()["response_action"] == "errors"
    assert why in response.json()["errors"][cb.CHANNEL]
    assert communities(engine) == []
    assert slack.calls_to("chat.postMessage") == []


def test_staff_may_choose_a_channel_they_are_not_in(as_user, engine, slack):
    slack.add_channel("CSTAFF001", members=["U1"])
    response = create_community(as_user(STAFF), register=False, channel="CSTAFF001")
    assert response.content in (b"", b"{}")
    assert [c.slack_channel_id for c in communities(engine)] == ["CSTAFF001"]
    assert slack.calls_to("conversations.members") == []


def test_the_picker_offers_only_channels():
    view = cb.new_community_modal("C1", "U1", staff=False)
    picker = next(b for b in view["blocks"] if b["block_id"] == cb.CHANNEL)["element"]
    assert picker["filter"] == {"include": ["public", "private"], "exclude_bot_users": True}


# ---- names that look the same are the same ---------------------------------------------------
@pytest.mark.parametrize(
    "lookalike",
    [
        "Ｓｕｒｖｉｖｏｒｓｈｉｐ",  # full-width letters
        "Surviv\u200borship",  # a zero-width space
        "\u202eSurvivorship",  # a right-to-left override
        "Survivorship\u2066\u2069",  # bidi isolates
        "  SURVIVORSHIP\u00a0",  # case and a no-break space
    ],
)
def test_names_that_look_the_same_are_refused_as_duplicates(as_user, engine, lookalike):
    create_community(as_user("U1"), name="Survivorship")
    response = create_community(as_user("U2", "COTHER01"), name=lookalike, channel="COTHER01")
    assert "A community named Survivorship already exists" in response.json()["errors"][cb.NAME]
    assert [c.name for c in communities(engine)] == ["Survivorship"]


def test_a_name_is_stored_and_shown_as_it_looks(as_user, engine, slack):
    ana = as_user("U1")
    create_community(ana, name="\u202eＯｎｃｏ\u200b  care ")
    [c] = communities(engine)
    assert (c.name, c.name_key) == ("Onco care", "onco care")
    assert ana.reply("members")["text"].startswith("Onco care: 1 leader")


def test_a_hostile_community_name_never_pings_or_links(as_user, engine, slack):
    from tests.helpers.slack import HOSTILE, assert_inert

    people(slack, "U1", "U2")
    ana = as_user("U1")
    create_community(ana, name=HOSTILE, mission=HOSTILE)
    ana.settle()
    for text in ("members", "leaders", "leaders <@U1> <@U2>", "join", "new"):
        assert_inert(ana.reply(text))
    as_user("U2").reply("leave")
    ana.event(home_opened("U1"))
    slack.wait_for("views.publish")
    ana.settle()
    for call in slack.calls_to("chat.postMessage"):
        assert_inert({"text": call.args["text"], "blocks": call.json_arg("blocks")})
    for call in slack.calls_to("views.publish"):
        assert_inert(call.json_arg("view"))


def test_when_slack_cannot_say_who_someone_is_nothing_changes(as_user, engine, slack):
    people(slack, "U1", "U2")
    ana = as_user("U1")
    create_community(ana)
    ana.settle()
    slack.fail("users.info", "ratelimited", status=429, retry_after=30, times=2)
    body = ana.reply("leaders <@U1> <@U2>")
    assert "couldn't check" in body["text"] and "Nothing changed" in body["text"]
    assert memberships(engine) == [("U1", "leader")]


def test_when_slack_cannot_say_what_a_channel_is_nothing_is_created(as_user, engine, slack):
    slack.fail("conversations.info", "internal_error")
    response = create_community(as_user("U1"))
    assert "internal_error" in response.json()["errors"][cb.CHANNEL]
    assert communities(engine) == []
