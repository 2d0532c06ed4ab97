"""The evidence log through the signed endpoint: the message shortcut "Save as evidence"
(once per message, retries included), `/cop evidence <note>`, the list, and removal by
leaders only, checked against the item's own community."""

from __future__ import annotations

import json
import time

from sqlmodel import select

from bot.blocks import evidence as eb
from sandbox.slack_standin import TEAM_ID
from storage.db import session_scope
from storage.models import Evidence
from tests.helpers.records import new_community
from tests.helpers.slack import ack_text

CHANNEL = "CEVID001"
OTHER = "CEVID002"


def setup(engine):
    from bot.services.communities import join

    with session_scope(engine) as s:
        c = new_community(s, name="Survivorship", channel=CHANNEL, leader="U1", team=TEAM_ID)
        join(s, c, "U5")
        o = new_community(s, name="Informatics", channel=OTHER, leader="U7", team=TEAM_ID)
        return c.id, o.id


def shortcut(user, channel, ts, text, author="U5"):
    payload = {
        "type": "message_action",
        "callback_id": eb.SHORTCUT_CALLBACK,
        "trigger_id": "1.2.trigger",
        "team": {"id": TEAM_ID, "domain": "standin"},
        "user": {"id": user.user_id, "team_id": TEAM_ID},
        "channel": {"id": channel, "name": "community"},
        "message_ts": ts,
        "message": {"type": "message", "user": author, "ts": ts, "text": text},
        "response_url": user.slack.response_url("shortcut"),
        "action_ts": f"{time.time():.6f}",
    }
    response = user.interact(payload)
    assert response.status_code == 200, response.text
    user.settle()


def stored(engine):
    with session_scope(engine) as s:
        return [
            (e.community_id, e.text, e.author, e.added_by, e.message_ts)
            for e in s.exec(select(Evidence).order_by(Evidence.id)).all()
        ]


def answers(slack) -> list[str]:
    return [c.args.get("text", "") for c in slack.calls_to("response_url")]


def test_shortcut_saves_a_message_once(as_user, engine, slack):
    cid, _ = setup(engine)
    member = as_user("U5", CHANNEL)
    shortcut(member, CHANNEL, "1700000001.000100", "We ran a <!channel> journal club & 12 came")
    shortcut(member, CHANNEL, "1700000001.000100", "We ran a <!channel> journal club & 12 came")
    assert stored(engine) == [
        (cid, "We ran a <!channel> journal club & 12 came", "U5", "U5", "1700000001.000100")
    ]
    assert answers(slack) == [
        "Saved to Survivorship's evidence log (1 item). `/cop evidence` lists them.",
        "That message is already in Survivorship's evidence log.",
    ]
    [permalink] = slack.calls_to("chat.getPermalink")
    assert permalink.args["channel"] == CHANNEL
    assert permalink.args["message_ts"] == "1700000001.000100"
    body = member.reply("evidence")
    text = ack_text(body)
    assert "1 item" in body["text"]
    assert "&lt;!channel&gt; journal club &amp; 12 came" in text and "<!channel>" not in text
    assert eb.REMOVE_ACTION not in text  # members do not get Remove buttons


def test_shortcut_outside_a_community_or_by_an_outsider_saves_nothing(as_user, engine, slack):
    setup(engine)
    shortcut(as_user("U5", "CNOWHERE"), "CNOWHERE", "1.1", "hello")
    shortcut(as_user("U9", CHANNEL), CHANNEL, "1.2", "hello")
    assert stored(engine) == []
    first, second = answers(slack)
    assert first.startswith("This channel has no community")
    assert second.startswith("Only the community's members, leaders and staff can add")


def test_notes_list_and_remove_by_leaders_only(as_user, engine, slack):
    cid, other = setup(engine)
    member, leader = as_user("U5", CHANNEL), as_user("U1", CHANNEL)
    body = member.reply("evidence Our first call had 14 people")
    assert "Added your note to *Survivorship*'s evidence log" in body["text"]
    [(community_id, text, *_)] = stored(engine)
    assert (community_id, text) == (cid, "Our first call had 14 people")
    with session_scope(engine) as s:
        item_id = s.exec(select(Evidence)).one().id
    assert (
        "Only the community's leaders and staff can remove"
        in member.reply(f"evidence remove {item_id}")["text"]
    )
    # another community's leader cannot remove it, by command or forged button
    assert "has no item" in as_user("U7", OTHER).reply(f"evidence remove {item_id}")["text"]
    response = as_user("U7", OTHER).interact(_button(item_id, "U7", slack))
    assert response.status_code == 200
    as_user("U7").settle()
    assert len(stored(engine)) == 1
    body = leader.reply("evidence")
    assert eb.REMOVE_ACTION in json.dumps(body["blocks"])
    response = leader.interact(_button(item_id, "U1", slack))
    assert response.status_code == 200
    leader.settle()
    assert stored(engine) == []
    # a second click (a retry) changes nothing more
    leader.interact(_button(item_id, "U1", slack))
    leader.settle()
    assert stored(engine) == []
    assert "has no item abc" in leader.reply("evidence remove abc")["text"]


def _button(item_id, user_id, slack):
    return {
        "type": "block_actions",
        "team": {"id": TEAM_ID},
        "user": {"id": user_id, "team_id": TEAM_ID},
        "api_app_id": "A0COPBOT",
        "trigger_id": "1.trigger",
        "container": {"type": "message", "channel_id": CHANNEL, "is_ephemeral": True},
        "channel": {"id": CHANNEL},
        "response_url": slack.response_url("evidence"),
        "actions": [
            {
                "type": "button",
                "action_id": eb.REMOVE_ACTION,
                "block_id": "b",
                "value": str(item_id),
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
