"""The request builders in sandbox/slack_payloads.py that the benchmarks load copbot with,
through the signed endpoint: a message click built twice is two clicks, one delivered
twice is one."""

from __future__ import annotations

from sqlmodel import select

from bot.blocks import polls as pb
from bot.services import communities as svc
from bot.services import polls as rules
from sandbox import slack_payloads as payloads
from sandbox.slack_standin import TEAM_ID
from storage.db import session_scope
from storage.models import Poll, PollOption
from tests.helpers.records import new_community

CHANNEL = "CCOMM001"


def tally(engine) -> dict[str, int]:
    with session_scope(engine) as s:
        poll = s.exec(select(Poll)).one()
        t = rules.tally(s, poll.id)
        return {o.label: t.counts[o.id] for o in t.options}


def test_message_clicks_are_each_their_own_and_a_redelivered_one_changes_nothing(
    session, as_user, engine, slack
):
    c = new_community(session, team=TEAM_ID, channel=CHANNEL, leader="U1")
    svc.join(session, c, "U2")
    session.commit()
    ana = as_user("U1", CHANNEL)
    ana.reply('poll "Lunch on Friday?" "Pizza" "Tacos"')
    ana.settle()
    with session_scope(engine) as s:
        poll = s.exec(select(Poll)).one()
        pizza, tacos = s.exec(
            select(PollOption).where(PollOption.poll_id == poll.id).order_by(PollOption.position)
        ).all()
        values = [f"{poll.id}:{pizza.id}", f"{poll.id}:{tacos.id}"]

    def click(value: str) -> dict:
        return payloads.message_click_payload(
            pb.VOTE_ACTION,
            value,
            user_id="U2",
            channel_id=CHANNEL,
            response_url=slack.response_url("vote"),
        )

    first, second = click(values[0]), click(values[1])
    assert first["trigger_id"] != second["trigger_id"]
    assert first["actions"][0]["action_ts"] != second["actions"][0]["action_ts"]
    assert first["container"] == {
        "type": "message",
        "message_ts": "1.1",
        "channel_id": CHANNEL,
        "is_ephemeral": False,
    }
    ben = as_user("U2", CHANNEL)
    assert ben.interact(first).status_code == 200
    ben.settle()
    assert tally(engine) == {"Pizza": 1, "Tacos": 0}
    answers = len(slack.calls_to("response_url"))
    assert ben.interact(second).status_code == 200  # a new click: Ben changes his mind
    ben.settle()
    assert tally(engine) == {"Pizza": 0, "Tacos": 1}
    assert len(slack.calls_to("response_url")) == answers + 1
    assert ben.interact(first).status_code == 200  # Slack's retry of the first click
    ben.settle()
    assert tally(engine) == {"Pizza": 0, "Tacos": 1}
    assert len(slack.calls_to("response_url")) == answers + 1
