"""Reminder settings and the buttons on reminders, through the signed endpoint."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.blocks import reminders as rb
from bot.blocks.limits import check_message
from bot.scheduler import tick
from bot.slack_client import make_web_client
from sandbox import slack_payloads as payloads
from storage.db import session_scope
from storage.models import Call, Community, Membership, Reminder, utcnow
from tests.helpers.calls import make_call, week_before
from tests.helpers.communities import CHANNEL, create_community


def _setup(as_user, engine):
    ana = as_user("U1")
    create_community(ana)
    ana.settle()
    with session_scope(engine) as s:
        return s.exec(select(Community)).one()


def click(user, action_id: str, value: str, message: dict | None = None):
    extra = {"message": message} if message is not None else {}
    return user.interact(
        {
            **extra,
            "type": "block_actions",
            "team": {"id": "T0STANDIN"},
            "user": {"id": user.user_id},
            "api_app_id": "A0COPBOT",
            "trigger_id": "7.7.trigger",
            "response_url": user.slack.response_url("reminder"),
            "container": {"type": "message", "channel_id": "D1"},
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "value": value,
                    "block_id": "b",
                    "action_ts": "1.1",
                }
            ],
        }
    )


def test_remind_preferences_and_community_choices(as_user, engine, deps, slack, session):
    community = _setup(as_user, engine)
    bob = as_user("U5")
    assert "Join *Early-career oncologists* first" in bob.reply("remind dm")["text"]
    bob.reply("join")
    assert "as direct messages too" in bob.reply("remind dm")["text"]
    with session_scope(engine) as s:
        membership = s.exec(select(Membership).where(Membership.slack_user_id == "U5")).one()
        assert membership.reminders == "dm"
    assert "Only the community's leaders and staff" in bob.reply("remind community hour")["text"]
    assert (
        "Choose among week, day and hour" in as_user("U1").reply("remind community daily")["text"]
    )
    body = as_user("U1").reply("remind community day hour")
    assert "now posts call reminders: day, hour" in body["text"]
    assert "posts call reminders: day, hour" in bob.reply("remind")["text"]

    call = make_call(session, community)
    client = make_web_client(deps.settings)
    result = tick(deps, client, week_before(call))
    # the channel dropped the week-before reminder; Bob chose DMs: his choice wins
    assert [line.split(" to ")[1] for line in result.sent] == ["U5"]
    result = tick(deps, client, call.start_at - timedelta(days=1))
    assert sorted(line.split(" to ")[1] for line in result.sent) == [CHANNEL, "U5"]


def test_done_and_snooze_buttons(as_user, engine, deps, slack, session):
    community = _setup(as_user, engine)
    now = utcnow()
    with session_scope(engine) as s:  # made eight days ago: the first weekly nudge is due
        s.get(Community, community.id).created_at = now - timedelta(days=8)
    client = make_web_client(deps.settings)
    due = now
    assert tick(deps, client, due).sent  # the unfinished-plan nudge
    with session_scope(engine) as s:
        nudge = s.exec(select(Reminder).where(Reminder.kind == "plan_nudge")).one()
    bob = as_user("U9")
    click(bob, rb.DONE_ACTION, str(nudge.id))
    bob.settle()
    [said] = slack.wait_for("response_url")
    assert "Only the community's leaders" in said.args["text"]
    ana = as_user("U1")
    click(ana, rb.SNOOZE_ACTION, str(nudge.id))
    ana.settle()
    assert "Snoozed" in slack.calls_to("response_url")[-1].args["text"]
    quiet = tick(deps, client, due + timedelta(days=6))
    assert quiet.sent == [] and "snoozed" in quiet.voided[0]  # the second weekly nudge
    assert tick(deps, client, due + timedelta(days=7, minutes=1)).sent  # back after a week
    click(ana, rb.DONE_ACTION, str(nudge.id))
    ana.settle()
    assert "no more reminders" in slack.calls_to("response_url")[-1].args["text"]
    assert tick(deps, client, due + timedelta(weeks=2)).sent == []


def test_done_keeps_what_the_reminder_said_and_adds_its_state(
    as_user, engine, deps, slack, session
):
    community = _setup(as_user, engine)
    now = utcnow()
    with session_scope(engine) as s:  # made eight days ago: the first weekly nudge is due
        s.get(Community, community.id).created_at = now - timedelta(days=8)
    client = make_web_client(deps.settings)
    assert tick(deps, client, now).sent
    [posted] = [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.args["channel"] == "U1" and "still to write" in c.args["text"]
    ]
    blocks = posted.json_arg("blocks")
    said = blocks[0]["text"]["text"]
    assert "still to write" in said
    with session_scope(engine) as s:
        nudge = s.exec(
            select(Reminder).where(Reminder.kind == "plan_nudge", Reminder.recipient == "U1")
        ).one()
    # Slack sends the message the button is on with the click
    message = {"type": "message", "ts": "1.000100", "text": posted.args["text"], "blocks": blocks}
    ana = as_user("U1")
    click(ana, rb.DONE_ACTION, str(nudge.id), message)
    ana.settle()
    [answer] = slack.calls_to("response_url")
    assert answer.args["replace_original"] is True
    shown = answer.args["blocks"]
    assert shown[0]["text"]["text"] == said  # what it was about, as it was
    assert not any(b["type"] == "actions" for b in shown)  # no buttons left to press
    assert "Done: no more reminders about this" in shown[-1]["elements"][0]["text"]
    assert answer.args["text"].startswith(posted.args["text"])
    assert "Done" in answer.args["text"]
    assert check_message({"text": answer.args["text"], "blocks": shown}) == []
    assert tick(deps, client, now + timedelta(weeks=1, minutes=1)).sent == []


def test_snooze_keeps_what_the_reminder_said_too(as_user, engine, deps, slack, session):
    community = _setup(as_user, engine)
    now = utcnow()
    with session_scope(engine) as s:
        s.get(Community, community.id).created_at = now - timedelta(days=8)
    assert tick(deps, make_web_client(deps.settings), now).sent
    [posted] = [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.args["channel"] == "U1" and "still to write" in c.args["text"]
    ]
    blocks = posted.json_arg("blocks")
    with session_scope(engine) as s:
        nudge = s.exec(
            select(Reminder).where(Reminder.kind == "plan_nudge", Reminder.recipient == "U1")
        ).one()
    message = {"type": "message", "ts": "1.000100", "text": posted.args["text"], "blocks": blocks}
    ana = as_user("U1")
    click(ana, rb.SNOOZE_ACTION, str(nudge.id), message)
    ana.settle()
    [answer] = slack.calls_to("response_url")
    shown = answer.args["blocks"]
    assert shown[0] == blocks[0] and not any(b["type"] == "actions" for b in shown)
    assert "Snoozed: I'll remind you again" in shown[-1]["elements"][0]["text"]


def test_the_host_adds_recording_and_slides(as_user, engine, deps, slack, session):
    community = _setup(as_user, engine)
    call = make_call(session, community)
    client = make_web_client(deps.settings)
    tick(deps, client, call.start_at + timedelta(minutes=75))
    [prompt] = [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.args["channel"] == "U1" and rb.LINKS_ACTION in str(c.json_arg("blocks"))
    ]
    assert "How did" in prompt.args["text"]
    host = as_user("U1")
    click(host, rb.LINKS_ACTION, str(call.id))
    host.settle()
    view = slack.wait_for("views.open")[0].json_arg("view")
    assert view["callback_id"] == rb.LINKS_CALLBACK

    def submit(recording, slides):
        values = {
            "recording": {"value": {"type": "url_text_input", "value": recording}},
            "slides": {"value": {"type": "url_text_input", "value": slides}},
        }
        return host.interact(
            payloads.view_submission_payload(
                rb.LINKS_CALLBACK, values, user_id="U1", private_metadata=view["private_metadata"]
            )
        )

    body = submit("ftp://files/rec", "").json()
    assert body["response_action"] == "errors" and "recording" in body["errors"]
    assert submit("https://video.example/rec", "https://slides.example/deck").status_code == 200
    host.settle()
    with session_scope(engine) as s:
        stored = s.get(Call, call.id)
        assert stored.recording_url == "https://video.example/rec"
        assert stored.slides_url == "https://slides.example/deck"
    posted = slack.calls_to("chat.postMessage")[-1]
    assert posted.args["channel"] == CHANNEL and "video.example/rec" in posted.args["text"]


def test_a_members_dm_choice_wins_over_the_channel_choosing_none(
    as_user, engine, deps, slack, session
):
    community = _setup(as_user, engine)
    bob = as_user("U5")
    bob.reply("join")
    assert "as direct messages too" in bob.reply("remind dm")["text"]
    assert "now posts call reminders: none" in as_user("U1").reply("remind community none")["text"]
    call = make_call(session, community)
    client = make_web_client(deps.settings)
    before = len(slack.calls_to("chat.postMessage"))
    result = tick(deps, client, call.start_at - timedelta(days=1))
    assert [line.split(" to ")[1] for line in result.sent] == ["U5"]
    [dm] = slack.calls_to("chat.postMessage")[before:]
    assert dm.args["channel"] == "U5" and dm.args["text"].startswith("Tomorrow: ")


def test_links_with_hostile_text_are_refused_or_escaped(as_user, engine, deps, slack, session):
    community = _setup(as_user, engine)
    call = make_call(session, community)
    with session_scope(engine) as s:
        s.get(Call, call.id).topic = "<!channel> <http://evil|Zoom> &"
    host = as_user("U1")

    def submit(recording: str, metadata: str = str(call.id)):
        values = {"recording": {"value": {"type": "url_text_input", "value": recording}}}
        return host.interact(
            payloads.view_submission_payload(
                rb.LINKS_CALLBACK, values, user_id="U1", private_metadata=metadata
            )
        )

    body = submit("https://video.example/rec|<!channel>").json()
    assert body["response_action"] == "errors" and "recording" in body["errors"]
    assert submit("https://video.example/rec", metadata="not-a-call").json()["errors"]
    assert submit("https://video.example/rec").status_code == 200
    host.settle()
    posted = slack.calls_to("chat.postMessage")[-1]
    assert "<!channel>" not in posted.args["text"] and "&lt;!channel&gt;" in posted.args["text"]
    assert "<https://video.example/rec|Recording>" in posted.args["text"]


def test_a_malformed_nudge_button_gets_a_clear_message(as_user, engine, slack, session):
    _setup(as_user, engine)
    ana = as_user("U1")
    assert click(ana, rb.DONE_ACTION, "12; drop table").status_code == 200
    ana.settle()
    assert "no longer exists" in slack.calls_to("response_url")[-1].args["text"]
