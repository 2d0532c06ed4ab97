"""The conferencing seam: the core asks for a meeting and never sees a vendor SDK.

`ZoomConferencing` makes Zoom meetings; `NoConferencing` stands in when Zoom is not
configured (calls are scheduled with no meeting, and copbot says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from integrations.zoom import ZoomClient


@dataclass(frozen=True)
class MeetingRequest:
    topic: str
    start: datetime
    duration_minutes: int
    timezone: str
    agenda: str
    marker: str  # unique per call: a retried create adopts the meeting it finds by it


@dataclass(frozen=True)
class MeetingInfo:
    meeting_id: int
    join_url: str
    passcode: str


class Conferencing(Protocol):
    name: str
    configured: bool

    def create(self, request: MeetingRequest) -> MeetingInfo: ...

    def update(self, meeting_id: int, request: MeetingRequest) -> None: ...

    def delete(self, meeting_id: int) -> None: ...


class NoConferencing:
    name = "none"
    configured = False

    def create(self, request: MeetingRequest) -> MeetingInfo:
        raise RuntimeError("no conferencing is configured")

    def update(self, meeting_id: int, request: MeetingRequest) -> None:
        return None

    def delete(self, meeting_id: int) -> None:
        return None


class ZoomConferencing:
    name = "Zoom"
    configured = True

    def __init__(self, client: ZoomClient, user: str = "me"):
        self.client = client
        self.user = user

    def create(self, request: MeetingRequest) -> MeetingInfo:
        meeting = self.client.create_meeting(
            self.user,
            topic=request.topic,
            start=request.start,
            duration_minutes=request.duration_minutes,
            timezone=request.timezone,
            agenda=request.agenda,
            marker=request.marker,
        )
        return MeetingInfo(meeting.id, meeting.join_url, meeting.password)

    def update(self, meeting_id: int, request: MeetingRequest) -> None:
        self.client.update_meeting(
            meeting_id,
            topic=request.topic[:200],
            start=request.start,
            duration_minutes=request.duration_minutes,
            timezone=request.timezone,
            agenda=f"{request.agenda}\n\n[{request.marker}]".strip()[:2000],
        )

    def delete(self, meeting_id: int) -> None:
        self.client.delete_meeting(meeting_id)
