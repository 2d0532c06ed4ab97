"""What copbot says and what Slack sends: acks read as text, forms, clicks, hostile text."""

from __future__ import annotations

import json

from bot.blocks.limits import check_view
from sandbox import slack_payloads as payloads
from sandbox.slack_standin import SlackStandIn
from tests.helpers.endpoint import SlackUser


def accepted(body: dict) -> bool:
    """A modal's form was accepted and the modal now says what happened (Slack's
    `response_action: update` with a valid view), rather than closing in silence."""
    return (
        body.get("response_action") == "update"
        and body["view"]["type"] == "modal"
        and check_view(body["view"]) == []
    )


def ack_text(body: dict) -> str:
    """All the text of an ack or message: fallback text plus block texts."""
    return json.dumps(body.get("blocks", [])) + "\n" + body.get("text", "")


def said(slack: SlackStandIn) -> list[str]:
    """Everything copbot answered through response_urls, as text."""
    return [ack_text(c.args) for c in slack.calls_to("response_url")]


def button_click(user: SlackUser, action_id: str, value: str, name: str = "button") -> dict:
    """A button in a message clicked by `user`, as Slack POSTs it; returns the payload."""
    import time as _time

    payload = {
        "type": "block_actions",
        "team": {"id": "T0STANDIN"},
        "user": {"id": user.user_id},
        "api_app_id": "A0COPBOT",
        "trigger_id": f"{_time.time_ns()}.trigger",
        "response_url": user.slack.response_url(name),
        "container": {"type": "message", "channel_id": user.channel_id},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "value": value,
                "block_id": "b",
                "action_ts": f"{_time.time():.6f}",
            }
        ],
    }
    response = user.interact(payload)
    assert response.status_code == 200, response.text
    return payload


def schedule_form(community_id: int, date_text: str, user_id: str = "U1", **payload_args) -> dict:
    """The schedule modal submitted by `user_id`: a 60-minute community call at 12:00
    America/Chicago on `date_text` (YYYY-MM-DD), hosted by U1."""
    from bot.blocks import calls as call_blocks
    from bot.services import calls as rules

    def field(kind: str, value: str) -> dict:
        return {"value": payloads.input_value(kind, value)}

    values = {
        rules.DATE: field("datepicker", date_text),
        rules.TIME: field("timepicker", "12:00"),
        rules.ZONE: field("plain_text_input", "America/Chicago"),
        rules.DURATION: field("number_input", "60"),
        rules.TOPIC: field("plain_text_input", "Webinar #3"),
        rules.HOST: field("users_select", "U1"),
        rules.KIND: field("radio_buttons", "community"),
    }
    meta = json.dumps({"community": community_id, "call": None})
    return payloads.view_submission_payload(
        call_blocks.SCHEDULE_CALLBACK,
        values,
        user_id=user_id,
        private_metadata=meta,
        **payload_args,
    )


HOSTILE = "<!channel> <@UHOSTILE> <http://evil.example|Zoom> & |"


def mrkdwn_texts(payload) -> list[str]:
    """Every piece of text Slack reads as mrkdwn in a message or view: mrkdwn text objects
    and a message's fallback `text` (which notifications show and mentions act in)."""
    found: list[str] = []

    def walk(node, top: bool = False) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
                found.append(node["text"])
            if top and isinstance(node.get("text"), str):
                found.append(node["text"])
            for key, value in node.items():
                if key != "text" or isinstance(value, dict | list):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(payload, top=True)
    return found


def assert_inert(payload) -> None:
    """No mention, broadcast or link from HOSTILE survives in what Slack would parse."""
    for text in mrkdwn_texts(payload):
        assert "<!channel>" not in text and "<!here>" not in text, text
        assert "<@UHOSTILE>" not in text and "<http://evil" not in text, text
