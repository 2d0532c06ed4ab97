"""Zoom after a call, on `ZoomClient`: the meeting's past instances, every page of an
instance's participants (a UUID that starts with `/` or holds `//` is encoded twice, as
Zoom documents) and the meeting's cloud recording; `ZoomMeetingFacts` offers them as the
after-call seam's `MeetingFacts`, Zoom's errors mapped to its `FactsError` here.

The participant and recording fields beyond those of copbot's 2018 copy of Zoom's spec
(`user_email`, `join_time`, `leave_time`, `duration`, `registrant_id`; `share_url`,
`password`, `auto_delete`, `auto_delete_date`) are those Zoom's current API documents.
Since March 2022 Zoom shows the email of a participant from outside the account only if
they registered for the meeting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from integrations.after_call import FactsError, NotFound, Participant, Recording
from integrations.conferencing import missing_scope_words
from integrations.zoom.client import ZoomClient
from integrations.zoom.errors import ZoomError, ZoomNotFound, ZoomScopeMissing

log = logging.getLogger(__name__)


def participant_of(data: dict[str, Any]) -> Participant:
    """A participant record as Zoom's API answers it. The fields beyond `id` and `name`
    are those Zoom's current API returns; copbot's 2018 copy of the spec does not list
    them."""
    email = (data.get("user_email") or "").strip().lower() or None
    return Participant(
        name=str(data.get("name") or ""),
        email=email,
        user_id=str(data.get("id") or data.get("user_id") or "") or None,
        join_time=_time(data.get("join_time")),
        leave_time=_time(data.get("leave_time")),
        seconds=max(0, int(data.get("duration") or 0)),
        registrant_id=str(data.get("registrant_id") or "") or None,
    )


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def uuid_path(uuid: str) -> str:
    """A meeting UUID as a path segment: encoded twice when it starts with `/` or holds
    `//` (Zoom reads such a UUID wrongly otherwise), once in every other case."""
    once = quote(uuid, safe="")
    return quote(once, safe="") if uuid.startswith("/") or "//" in uuid else once


def recording_of(data: dict[str, Any]) -> Recording | None:
    """The shareable link of a recording object (a webhook's or the API's): its
    `share_url`, else the play link of its first finished file."""
    url = data.get("share_url")
    if not url:
        files = data.get("recording_files")
        for item in files if isinstance(files, list) else []:
            if not isinstance(item, dict):
                continue
            if item.get("play_url") and item.get("status", "completed") == "completed":
                url = item["play_url"]
                break
    if not isinstance(url, str) or not url.lower().startswith(("https://", "http://")):
        return None
    passcode = data.get("password") or data.get("recording_play_passcode") or None
    deletes_on = _day(data.get("auto_delete_date")) if data.get("auto_delete", True) else None
    return Recording(str(url), passcode, _time(data.get("start_time")), deletes_on)


def _day(value: Any) -> date | None:
    """Zoom's `auto_delete_date` ("2027-03-01"; a full timestamp is read as its UTC day)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


class ZoomAfterCall:
    """What happened at a meeting, read from Zoom after it ended."""

    PAGE_SIZE = 300  # the most Zoom returns a page

    def __init__(self, client: ZoomClient):
        self.client = client

    def instances(self, meeting_id: int) -> list[tuple[str, datetime | None]]:
        """(uuid, start time) of every ended instance of the meeting."""
        data = self.client.request("GET", f"/past_meetings/{int(meeting_id)}/instances").json()
        return [
            (str(m["uuid"]), _time(m.get("start_time")))
            for m in data.get("meetings") or []
            if m.get("uuid")
        ]

    def participants(self, uuid: str, max_pages: int = 200) -> Iterator[Participant]:
        """Every participant record of one instance, following `next_page_token`."""
        token = ""
        for _ in range(max_pages):
            params: dict[str, Any] = {"page_size": self.PAGE_SIZE}
            if token:
                params["next_page_token"] = token
            data = self.client.request(
                "GET", f"/past_meetings/{uuid_path(uuid)}/participants", params=params
            ).json()
            for item in data.get("participants") or []:
                yield participant_of(item)
            token = data.get("next_page_token") or ""
            if not token:
                return
        log.warning("Zoom gave more than %s pages of participants; stopped reading", max_pages)

    def recording(self, meeting: int | str) -> Recording | None:
        """The meeting's recording (by id: its last instance; or by UUID); None when it
        has none (yet)."""
        path = str(int(meeting)) if isinstance(meeting, int) else uuid_path(meeting)
        try:
            data = self.client.request("GET", f"/meetings/{path}/recordings").json()
        except ZoomNotFound:
            return None
        return recording_of(data)


def in_words(error: ZoomError) -> str:
    """A Zoom failure after a call, as staff read it."""
    if isinstance(error, ZoomScopeMissing):
        return missing_scope_words(error.scope)
    if isinstance(error, ZoomNotFound):
        return "Zoom has no record of it (perhaps no one joined)"
    if error.status == 429:
        return "Zoom's rate limit, even after waiting"
    if error.status in (400, 401, 403):
        return f"Zoom refused: {error.message} (check the app's scopes)"
    return f"Zoom did not answer ({error.status or 'no connection'})"


class ZoomMeetingFacts:
    """`MeetingFacts` from Zoom's past-meeting and recording APIs, behind plain errors."""

    configured = True

    def __init__(self, zoom: ZoomAfterCall, on_missing_scope: Callable[[str], None] | None = None):
        self.zoom = zoom
        self.on_missing_scope = on_missing_scope  # as ZoomConferencing's

    def _ask(self, fn, *args):
        try:
            return fn(*args)
        except ZoomNotFound as e:
            raise NotFound(in_words(e)) from e
        except ZoomError as e:
            if isinstance(e, ZoomScopeMissing) and self.on_missing_scope is not None:
                self.on_missing_scope(e.scope)
            raise FactsError(in_words(e)) from e

    def instances(self, meeting_id: int) -> list[tuple[str, datetime | None]]:
        return self._ask(self.zoom.instances, meeting_id)

    def participants(self, uuid: str) -> list[Participant]:
        return self._ask(lambda u: list(self.zoom.participants(u)), uuid)

    def recording(self, meeting: int | str) -> Recording | None:
        return self._ask(self.zoom.recording, meeting)
