"""Resources: the YAML file checked at start-up (one line naming the file and line when it
is missing or malformed), `/cop resources` through the signed endpoint, and the leaders'
acknowledgement, once a program year, checked against the button's own community."""

from __future__ import annotations

import time

import pytest

from bot.blocks import resources as rb
from bot.cli import main
from bot.config import ConfigError, Settings
from bot.services.resources import EXAMPLE, load
from sandbox.slack_standin import TEAM_ID
from storage.db import session_scope
from storage.models import Call, utcnow
from tests.helpers.endpoint import STAFF
from tests.helpers.records import new_community
from tests.helpers.slack import ack_text

CHANNEL = "CRESRC01"
OTHER = "CRESRC02"

BAD = [
    # an unclosed bracket is found where the file ends
    ("sections:\n  - title: Guides\n    items:\n      - title: A\n        url: [x\n", "line 6"),
    ("sections:\n  - title: Guides\n   items: x: y\n", "line 3"),
    (
        "sections:\n  - title: Guides\n    items:\n      - title: A\n        url: ftp://x\n",
        "line 5",
    ),
    ("sections:\n  - title: Guides\n    items:\n      - url: https://a.example\n", "line 4"),
    ("sections: []\n", "line 1"),
    ("sections:\n  - title: Guides\n", "line 2"),
]


def test_the_shipped_example_loads_and_is_the_default():
    sections = load()
    assert [s.title for s in sections] == [
        "Best-practice guides",
        "Social media and marketing guidelines",
    ]
    assert [s.guidelines for s in sections] == [False, True]
    assert Settings.from_mapping({}).resources == sections
    assert EXAMPLE.name == "resources_example.yaml"


@pytest.mark.parametrize("text, line", BAD)
def test_malformed_file_stops_start_up_naming_file_and_line(tmp_path, text, line):
    path = tmp_path / "resources.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as e:
        Settings.from_mapping({"COPBOT_RESOURCES": str(path)})
    message = str(e.value)
    assert message.startswith(f"COPBOT_RESOURCES: {path} {line}:")
    assert "\n" not in message


def test_missing_file_stops_the_command_line_with_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COPBOT_RESOURCES", str(tmp_path / "nope.yaml"))
    assert main(["db", "status"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"COPBOT_RESOURCES: {tmp_path / 'nope.yaml'}: cannot be read" in err


@pytest.fixture
def communities(as_user, engine, slack):
    with session_scope(engine) as s:
        c = new_community(s, name="Survivorship", channel=CHANNEL, leader="U1", team=TEAM_ID)
        new_community(s, name="Informatics", channel=OTHER, leader="U7", team=TEAM_ID)
        s.add(
            Call(
                community_id=c.id, start_at=utcnow(), timezone="UTC", topic="Kick-off <b>",
                host_user_id="U1", created_by="U1", recording_url="https://rec.example/1",
                slides_url="javascript:alert(1)",
            )
        )  # fmt: skip
        return c.id


def _ack(user, community_id, slack):
    return user.interact(
        {
            "type": "block_actions",
            "team": {"id": TEAM_ID},
            "user": {"id": user.user_id, "team_id": TEAM_ID},
            "api_app_id": "A0COPBOT",
            "trigger_id": "1.trigger",
            "container": {"type": "message", "channel_id": CHANNEL, "is_ephemeral": True},
            "channel": {"id": CHANNEL},
            "response_url": slack.response_url("resources"),
            "actions": [
                {
                    "type": "button",
                    "action_id": rb.ACK_ACTION,
                    "block_id": "resources_ack",
                    "value": str(community_id),
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
    )


def answers(slack):
    return [c.args.get("text", "") for c in slack.calls_to("response_url")]


def test_resources_and_acknowledgement(communities, as_user, slack):
    cid = communities
    leader = as_user("U1", CHANNEL)
    body = leader.reply("resources")
    text = ack_text(body)
    assert "<https://www.example.org/cop/guides/community-calls|Running a community call>" in text
    assert "Kick-off &lt;b&gt;" in text and "<https://rec.example/1|recording>" in text
    assert "javascript:alert" not in text  # not an http(s) link: not shown as one
    assert rb.ACK_ACTION in text
    member_view = ack_text(as_user("U5", CHANNEL).reply("resources"))
    assert rb.ACK_ACTION not in member_view
    # another community's leader, or a member, cannot acknowledge for this community
    _ack(as_user("U7", OTHER), cid, slack)
    _ack(as_user("U5", CHANNEL), cid, slack)
    _ack(leader, cid, slack)
    _ack(leader, cid, slack)
    leader.settle()
    said = answers(slack)
    assert said[0].startswith("Only the community's leaders and staff")
    assert said[1].startswith("Only the community's leaders and staff")
    assert said[2].startswith("Thank you: Survivorship follows the guidelines")
    assert said[3].startswith("Survivorship has already acknowledged")
    assert "acknowledged the guidelines for" in ack_text(leader.reply("resources"))
    status = ack_text(as_user(STAFF, CHANNEL).reply("resources status"))
    assert "1 of 2 communities" in status and "*Informatics*: not yet" in status
    assert "Only staff" in leader.reply("resources status")["text"]
