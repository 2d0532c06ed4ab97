"""Communities made through the signed endpoint, and what they look like stored."""

from __future__ import annotations

from sqlmodel import select

from bot.blocks import community as cb
from sandbox.slack_payloads import input_value
from storage.db import session_scope
from storage.models import Community, Membership

CHANNEL = "CCOMM001"


def new_values(
    name="Early-career oncologists",
    channel=CHANNEL,
    mission="Grow together.",
    description="",
    areas=("relationships", "practice"),
    leader=None,
):
    values = {
        cb.NAME: {"value": input_value("plain_text_input", name)},
        cb.CHANNEL: {"value": input_value("conversations_select", channel)},
        cb.MISSION: {"value": input_value("plain_text_input", mission)},
        cb.DESCRIPTION: {"value": input_value("plain_text_input", description)},
        cb.AREAS: {"value": input_value("checkboxes", list(areas))},
    }
    if leader:
        values[cb.LEADER] = {"value": input_value("users_select", leader)}
    return values


def people(slack, *ids: str) -> None:
    """Make each id a person the Slack stand-in knows (users.info answers for them)."""
    for uid in ids:
        slack.add_user(uid, uid.lower())


def create_community(user, register: bool = True, **kw):
    """Submit the new-community form; the channel is first made a public channel with the
    user in it, unless `register` is False."""
    if register:
        user.slack.add_channel(kw.get("channel", CHANNEL), members=[user.user_id])
    response = user.submit(cb.NEW_COMMUNITY_CALLBACK, new_values(**kw))
    assert response.status_code == 200, response.text
    return response


def communities(engine):
    with session_scope(engine) as s:
        return s.exec(select(Community)).all()


def memberships(engine):
    with session_scope(engine) as s:
        return sorted((m.slack_user_id, m.role) for m in s.exec(select(Membership)).all())


def home_opened(user):
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": "D0HOME",
        "tab": "home",
        "event_ts": "1700000000.000100",
    }
