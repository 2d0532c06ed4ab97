"""The Zoom Meetings client: the HTTP client (token, one request with its retries) with
the meeting calls and the registration calls."""

from __future__ import annotations

from integrations.zoom.meetings import ZoomMeetings
from integrations.zoom.registration import ZoomRegistration


class ZoomClient(ZoomMeetings, ZoomRegistration):
    """Server-to-Server OAuth on `requests`: `request` (`ZoomHttp`), meetings
    (`ZoomMeetings`) and registration (`ZoomRegistration`)."""
