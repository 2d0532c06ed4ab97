"""Zoom meetings: create, find, read, change and delete scheduled meetings.

Creating a meeting is idempotent per `marker`: the marker opens the meeting's agenda
(Zoom's list answers only the first 250 characters of an agenda), and after an ambiguous
failure (a timeout, a 5xx) every page of the user's scheduled meetings is searched for it
before another create is tried, so a retry never makes two meetings. A create has a
deadline: no request starts after `max_total_seconds`, so the whole create takes at most
`longest_create_seconds`. A meeting made with `registration=True` requires registration
with automatic approval (`settings.approval_type` 0).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from integrations.zoom.errors import ZoomError, ZoomNotFound, ZoomUnavailable
from integrations.zoom.http import ZoomHttp

log = logging.getLogger(__name__)

LIST_PAGE_SIZE = 300  # the most Zoom's list returns a page
MAX_LIST_PAGES = 50
# registration required, approved automatically, once for the meeting
REGISTRATION_SETTINGS = {"approval_type": 0, "registration_type": 1}


@dataclass(frozen=True)
class Meeting:
    id: int
    join_url: str
    password: str
    start_time: datetime | None
    topic: str
    agenda: str

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Meeting:
        start = data.get("start_time")
        return cls(
            id=int(data["id"]),
            join_url=data.get("join_url", ""),
            password=data.get("password", ""),
            start_time=datetime.fromisoformat(start.replace("Z", "+00:00")) if start else None,
            topic=data.get("topic", ""),
            agenda=data.get("agenda", ""),
        )


def marker_text(marker: str) -> str:
    return f"[{marker}]"


def marked_agenda(agenda: str, marker: str | None) -> str:
    """The agenda as sent to Zoom: the marker first (the part Zoom's list shows), then the
    agenda, within Zoom's 2,000 characters."""
    text = f"{marker_text(marker)}\n{agenda}" if marker else agenda
    return text.strip()[:2000]


def zoom_time(when: datetime) -> str:
    """A start time as Zoom takes it in UTC: yyyy-MM-ddTHH:mm:ssZ."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ZoomMeetings(ZoomHttp):
    """The meeting calls of the client."""

    @property
    def longest_create_seconds(self) -> float:
        """The longest a `create_meeting` can take: its retry budget, then one last
        request that started just before the deadline, with the token it may need and
        the one refresh a refused token gets."""
        return self.max_total_seconds + 4 * self.timeout

    def create_meeting(
        self,
        user_id: str,
        *,
        topic: str,
        start: datetime,
        duration_minutes: int,
        timezone: str,
        agenda: str = "",
        marker: str | None = None,
        settings: dict[str, Any] | None = None,
        registration: bool = False,
    ) -> Meeting:
        """Create a scheduled meeting (type 2). With a `marker`, a retried create adopts the
        meeting an earlier, unanswered attempt made instead of making a second one. With
        `registration`, people join with links of their own (`register`)."""
        settings = dict(
            settings or {"join_before_host": True, "waiting_room": False, "mute_upon_entry": True}
        )
        if registration:
            settings.update(REGISTRATION_SETTINGS)
        body = {
            "topic": topic[:200],
            "type": 2,
            "start_time": zoom_time(start),
            "timezone": timezone,
            "duration": duration_minutes,
            "agenda": marked_agenda(agenda, marker),
            "settings": settings,
        }
        deadline = self._clock() + self.max_total_seconds
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.request(
                    "POST",
                    f"/users/{user_id}/meetings",
                    json=body,
                    retry_timeouts=False,
                    retry_server_errors=False,
                    deadline=deadline,
                )
                return Meeting.from_api(response.json())
            except ZoomUnavailable:
                # the create may or may not have happened (a slow Zoom may still be making
                # it): wait, then look for it before trying again
                wait = self._backoff(attempt)
                if not self._may_retry(attempt, deadline, wait):
                    raise
                self._sleep(wait)
                if marker:
                    found = self.find_by_marker(user_id, marker, deadline=deadline)
                    if found is not None:
                        return self._details(found)

    def find_by_marker(
        self, user_id: str, marker: str, *, deadline: float | None = None
    ) -> Meeting | None:
        """The scheduled meeting whose agenda opens with `marker`, on any page."""
        opening = marker_text(marker)
        page = 1
        while page <= MAX_LIST_PAGES:
            data = self.request(
                "GET",
                f"/users/{user_id}/meetings",
                params={"type": "scheduled", "page_size": LIST_PAGE_SIZE, "page_number": page},
                deadline=deadline,
            ).json()
            items = data.get("meetings") or []
            for item in items:
                if (item.get("agenda") or "").startswith(opening):
                    return Meeting.from_api(item)
            total = int(data.get("total_records") or 0)
            size = int(data.get("page_size") or LIST_PAGE_SIZE)
            if not items or page * size >= total:
                return None
            page += 1
        log.warning("Zoom lists more than %s pages of meetings; stopped looking", MAX_LIST_PAGES)
        return None

    def _details(self, listed: Meeting) -> Meeting:
        """The whole meeting (the list leaves out its passcode), or what the list said."""
        try:
            return self.get_meeting(listed.id)
        except ZoomError:
            return listed

    def get_meeting(self, meeting_id: int) -> Meeting:
        return Meeting.from_api(self.request("GET", f"/meetings/{int(meeting_id)}").json())

    def update_meeting(self, meeting_id: int, **fields: Any) -> None:
        """PATCH the given fields; `start` (a datetime) is sent as Zoom's start_time."""
        if "start" in fields:
            fields["start_time"] = zoom_time(fields.pop("start"))
        if "duration_minutes" in fields:
            fields["duration"] = fields.pop("duration_minutes")
        self.request("PATCH", f"/meetings/{int(meeting_id)}", json=fields)

    def delete_meeting(self, meeting_id: int) -> None:
        """Delete a meeting; one that is already gone counts as deleted."""
        try:
            self.request("DELETE", f"/meetings/{int(meeting_id)}")
        except ZoomNotFound:
            log.info("Zoom meeting %s was already deleted", meeting_id)
