"""The Zoom Meetings client: Server-to-Server OAuth on `requests`.

- `http`: the access token (cached, shared by threads, refreshed once when refused or
  lacking a scope) and `request`, which retries 429 and 5xx with back-off within a
  bounded time; `errors`: the `ZoomError` family and how an answer maps to one.
- `meetings`: scheduled meetings, created idempotently per marker within a deadline.
- `registration`: registrants, 30 a request, each with a join link of their own.
- `client`: `ZoomClient`, all of the above in one object.
- `conferencing`: `ZoomConferencing`, Zoom behind the conferencing seam.
- `after_call`: after a call, the meeting's past instances, every page of their
  participants and the recording, read with this client, and `ZoomMeetingFacts`, the
  after-call seam (`integrations.after_call`) on them.

Errors, also those of the token endpoint (no connection, timeout, 5xx, an answer that is
not JSON), surface as `ZoomError` subclasses carrying Zoom's code and message; the
conferencing seam turns them into plain words.
"""

from integrations.zoom.client import ZoomClient
from integrations.zoom.errors import (
    ERROR_OBSERVERS,
    INVALID_TOKEN_CODE,
    MISSING_SCOPE_CODE,
    REGISTRATION_OFF,
    ZoomAuthError,
    ZoomBadRequest,
    ZoomDailyLimit,
    ZoomError,
    ZoomNotFound,
    ZoomScopeMissing,
    ZoomUnavailable,
    is_daily_limit,
)
from integrations.zoom.http import TOKEN_MARGIN_SECONDS
from integrations.zoom.meetings import (
    LIST_PAGE_SIZE,
    MAX_LIST_PAGES,
    REGISTRATION_SETTINGS,
    Meeting,
    marked_agenda,
    marker_text,
    zoom_time,
)
from integrations.zoom.registration import REGISTRANT_BATCH, NewRegistrant, Registrant

__all__ = [
    "ERROR_OBSERVERS",
    "INVALID_TOKEN_CODE",
    "LIST_PAGE_SIZE",
    "MAX_LIST_PAGES",
    "MISSING_SCOPE_CODE",
    "REGISTRANT_BATCH",
    "REGISTRATION_OFF",
    "REGISTRATION_SETTINGS",
    "TOKEN_MARGIN_SECONDS",
    "Meeting",
    "NewRegistrant",
    "Registrant",
    "ZoomAuthError",
    "ZoomBadRequest",
    "ZoomClient",
    "ZoomDailyLimit",
    "ZoomError",
    "ZoomNotFound",
    "ZoomScopeMissing",
    "ZoomUnavailable",
    "is_daily_limit",
    "marked_agenda",
    "marker_text",
    "zoom_time",
]
