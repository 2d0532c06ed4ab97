"""Zoom behind the conferencing seam (`integrations.conferencing`): meetings made,
changed and deleted, people registered, and Zoom's errors in a leader's words."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from integrations import zoom_scopes
from integrations.conferencing import (
    ConferencingError,
    HostOutForTheDay,
    Invitee,
    MeetingInfo,
    MeetingRequest,
    Seat,
    missing_scope_words,
)
from integrations.zoom.client import ZoomClient
from integrations.zoom.errors import (
    REGISTRATION_OFF,
    ZoomAuthError,
    ZoomBadRequest,
    ZoomDailyLimit,
    ZoomError,
    ZoomScopeMissing,
)
from integrations.zoom.meetings import marked_agenda
from integrations.zoom.registration import NewRegistrant


def zoom_in_words(error: ZoomError) -> str:
    """A Zoom failure as a leader should read it."""
    if isinstance(error, ZoomScopeMissing):
        return missing_scope_words(error.scope)
    if isinstance(error, ZoomBadRequest) and error.code == REGISTRATION_OFF:
        return "Zoom refused it: registration is not turned on for the meeting"
    if isinstance(error, ZoomBadRequest):
        return f"Zoom refused it: {error.message}"
    if isinstance(error, ZoomAuthError) or error.status == 401:
        return (
            "Zoom refused copbot's credentials "
            "(check ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET)"
        )
    return "Zoom did not answer in time"


class ZoomConferencing:
    name = "Zoom"
    configured = True

    def __init__(
        self,
        client: ZoomClient,
        user: str = "me",
        hosts: tuple[str, ...] = (),
        on_missing_scope: Callable[[str], None] | None = None,
    ):
        self.client = client
        self.user = user
        self.hosts = tuple(hosts) or (user,)
        # told the scope whenever Zoom refuses a request for a missing one (code 4711)
        self.on_missing_scope = on_missing_scope

    def refused(self, error: ZoomError) -> ConferencingError:
        """The error a leader reads; a missing scope is also passed to `on_missing_scope`."""
        words = zoom_in_words(error)
        if isinstance(error, ZoomScopeMissing) and self.on_missing_scope is not None:
            self.on_missing_scope(error.scope)
            words += "; copbot's staff are told"
        return ConferencingError(words)

    @property
    def longest_create_seconds(self) -> float:
        return self.client.longest_create_seconds

    def scopes_lacking(self, features: Iterable[str]) -> tuple[zoom_scopes.ZoomScope, ...]:
        """The rows of `zoom_scopes` whose granular scope `features` need and the app's
        token lacks, asked of Zoom with a fresh token (ConferencingError when Zoom cannot
        be asked); `granted_scopes` is then what that token holds."""
        try:
            return zoom_scopes.missing(self.client.scopes(fresh=True), features)
        except ZoomError as e:
            raise ConferencingError(str(e)) from e

    def granted_scopes(self) -> Iterable[str]:
        return self.client.scopes()

    def create(self, request: MeetingRequest) -> MeetingInfo:
        user = request.host or self.hosts[0]
        try:
            if request.look_first:
                found = self.client.find_by_marker(user, request.marker)
                if found is not None:
                    meeting = self.client.get_meeting(found.id)
                    return MeetingInfo(meeting.id, meeting.join_url, meeting.password)
            meeting = self.client.create_meeting(
                user,
                topic=request.topic,
                start=request.start,
                duration_minutes=request.duration_minutes,
                timezone=request.timezone,
                agenda=request.agenda,
                marker=request.marker,
                registration=request.registration,
            )
        except ZoomDailyLimit:
            raise HostOutForTheDay(user) from None
        except ZoomError as e:
            raise self.refused(e) from e
        return MeetingInfo(meeting.id, meeting.join_url, meeting.password)

    def update(self, meeting_id: int, request: MeetingRequest) -> None:
        try:
            self.client.update_meeting(
                meeting_id,
                topic=request.topic[:200],
                start=request.start,
                duration_minutes=request.duration_minutes,
                timezone=request.timezone,
                agenda=marked_agenda(request.agenda, request.marker),
            )
        except ZoomDailyLimit:
            raise HostOutForTheDay(request.host or self.hosts[0]) from None
        except ZoomError as e:
            raise self.refused(e) from e

    def delete(self, meeting_id: int) -> None:
        try:
            self.client.delete_meeting(meeting_id)
        except ZoomError as e:
            raise self.refused(e) from e

    def enable_registration(self, meeting_id: int) -> None:
        try:
            self.client.enable_registration(meeting_id)
        except ZoomError as e:
            raise self.refused(e) from e

    def register(self, meeting_id: int, people: list[Invitee]) -> list[Seat]:
        asked = [NewRegistrant(p.email, p.first_name, p.last_name) for p in people]
        try:
            found = self.client.register(meeting_id, asked)
        except ZoomError as e:
            raise self.refused(e) from e
        return [Seat(r.email, r.registrant_id, r.join_url) for r in found]

    def cancel_registrations(self, meeting_id: int, registrant_ids: list[str]) -> None:
        try:
            self.client.cancel_registrants(meeting_id, registrant_ids)
        except ZoomError as e:
            raise self.refused(e) from e
