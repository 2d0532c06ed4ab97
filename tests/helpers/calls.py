"""Calls: one made through the service, the leader who schedules through the endpoint,
a click on a call's button."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import requests
from sqlmodel import select

from bot.services import calls as call_rules
from storage.db import session_scope
from storage.models import Call, Community
from tests.helpers.communities import CHANNEL
from tests.helpers.endpoint import SlackUser

Y = date.today().year + 1


# a call on Friday March 19 of next year, 17:00 in Chicago: a week before is before the
# clocks go forward (second Sunday of March), so CST; the call itself is CDT
CALL_DAY = date(Y, 3, 19) if date(Y, 3, 19).weekday() < 5 else date(Y, 3, 22)


def make_call(session, community, day=CALL_DAY, at="17:00", created=None):
    draft, errors = call_rules.validate(
        call_rules.CallForm(
            date=day.isoformat(),
            time=at,
            zone="America/Chicago",
            duration="60",
            topic="Webinar #3",
            agenda="Readings are posted.",
            host="U1",
            alternate="U2",
            kind="community",
        ),
        now=datetime(Y - 1, 6, 1, tzinfo=UTC),
        holidays_country=None,
    )
    assert errors == {}
    call = call_rules.create(session, community, draft, "U1", with_meeting=False)
    call.created_at = created or datetime(Y - 1, 6, 1, tzinfo=UTC)
    call.join_url = "https://zoom.example/j/1"
    session.add(call)
    session.commit()
    return call


def week_before(call) -> datetime:
    """A week before the call at the same wall-clock time in its zone (as reminders go)."""
    local = call.start_at.astimezone(ZoneInfo(call.timezone))
    return (local - timedelta(days=7)).astimezone(UTC)


def community_id(engine) -> int:
    with session_scope(engine) as s:
        return s.exec(select(Community)).one().id


def click(user: SlackUser, action_id: str, call: Call) -> requests.Response:
    payload = {
        "type": "block_actions",
        "team": {"id": "T0STANDIN"},
        "user": {"id": user.user_id},
        "api_app_id": "A0COPBOT",
        # each click is its own (Slack gives every click a new trigger_id and action_ts)
        "trigger_id": f"99.{uuid.uuid4().hex}.trigger",
        "response_url": user.slack.response_url("action"),
        "container": {"type": "message", "channel_id": CHANNEL, "message_ts": call.message_ts},
        "channel": {"id": CHANNEL},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "value": str(call.id),
                "block_id": f"call-{call.id}",
                "action_ts": f"{time.time():.6f}{uuid.uuid4().int % 1000:03d}",
            }
        ],
    }
    return user.interact(payload)
