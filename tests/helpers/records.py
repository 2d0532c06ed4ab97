"""Rows the tests start from: a community, a call that ended, a Zoom participant."""

from __future__ import annotations

from bot.services import communities
from storage.models import Call, MeetingState


def new_community(
    session,
    name: str = "Survivorship",
    channel: str = "C1",
    leader: str = "U1",
    team: str = "T1",
    **fields,
):
    """A community made through the service, with `leader` as its first leader."""
    values = dict(
        team_id=team,
        channel_id=channel,
        name=name,
        mission="",
        description="",
        areas=(),
        created_by=leader,
        first_leader=leader,
    )
    values.update(fields)
    return communities.create(session, communities.NewCommunity(**values))


def ended_call(
    session,
    community,
    start,
    *,
    meeting_id: int = 85000000001,
    topic: str = "Webinar #3",
    minutes: int = 60,
    message_ts: str | None = "1700000000.000100",
):
    """A call of `community` with a Zoom meeting, starting at `start` (UTC) and posted in
    its channel."""
    call = Call(
        community_id=community.id,
        start_at=start,
        duration_minutes=minutes,
        timezone="America/Chicago",
        topic=topic,
        host_user_id="U1",
        created_by="U1",
        meeting_state=MeetingState.READY.value,
        meeting_id=meeting_id,
        join_url=f"https://zoom.example/j/{meeting_id}",
        message_channel=community.slack_channel_id if message_ts else None,
        message_ts=message_ts,
    )
    session.add(call)
    session.commit()
    return call


def participant(name: str, email: str | None = None, *, join, leave, zoom_id: str = "") -> dict:
    """One participant record as Zoom's past-meeting participants API gives it."""
    record = {
        "id": zoom_id,
        "name": name,
        "user_email": email or "",
        "join_time": join.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "leave_time": leave.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration": int((leave - join).total_seconds()),
    }
    return record
