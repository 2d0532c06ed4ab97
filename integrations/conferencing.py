"""The conferencing seam: the core asks for a meeting and never sees a vendor SDK.

`ZoomConferencing` makes Zoom meetings; `NoConferencing` stands in when Zoom is not
configured (calls are scheduled with no meeting, and copbot says so). Every failure
crosses the seam as a `ConferencingError` whose message a leader can read; Zoom's own
error types stay inside this module and `integrations.zoom`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from integrations import zoom_scopes
from integrations.zoom import (
    REGISTRATION_OFF,
    NewRegistrant,
    ZoomAuthError,
    ZoomBadRequest,
    ZoomClient,
    ZoomDailyLimit,
    ZoomError,
    ZoomScopeMissing,
    marked_agenda,
)


class ConferencingError(Exception):
    """A meeting could not be made, changed or deleted; `str(error)` says why, in words a
    leader understands (no secrets, no tracebacks)."""


class HostOutForTheDay(ConferencingError):
    """The meeting's host reached Zoom's daily limit of meeting creates/updates; it may
    ask again after 00:00 UTC."""

    def __init__(self, host: str):
        super().__init__("its Zoom host reached Zoom's daily limit of new or changed meetings")
        self.host = host


@dataclass(frozen=True)
class MeetingRequest:
    topic: str
    start: datetime
    duration_minutes: int
    timezone: str
    agenda: str
    marker: str  # unique per call: a retried create adopts the meeting it finds by it
    # an earlier try may have made the meeting after all (a slow Zoom): look for it first
    look_first: bool = False
    host: str | None = None  # the Zoom user whose meeting it is (one of `hosts`)
    # people register and each gets a join link of their own
    registration: bool = False


@dataclass(frozen=True)
class Invitee:
    """Someone to register for a meeting: the email they registered with, their name."""

    email: str
    first_name: str
    last_name: str = ""


@dataclass(frozen=True)
class Seat:
    """One person's registration: the vendor's id for it and the link that is theirs."""

    email: str
    registrant_id: str
    join_url: str


@dataclass(frozen=True)
class MeetingInfo:
    meeting_id: int
    join_url: str
    passcode: str


class Conferencing(Protocol):
    name: str
    configured: bool
    # the users whose meetings these are: a call gets one free at its time
    hosts: tuple[str, ...]
    # the longest a create may take, retries included: a claim on a call outlives it
    longest_create_seconds: float

    def create(self, request: MeetingRequest) -> MeetingInfo: ...

    def update(self, meeting_id: int, request: MeetingRequest) -> None: ...

    def delete(self, meeting_id: int) -> None: ...

    def enable_registration(self, meeting_id: int) -> None: ...

    def register(self, meeting_id: int, people: list[Invitee]) -> list[Seat]: ...

    def cancel_registrations(self, meeting_id: int, registrant_ids: list[str]) -> None: ...

    def scopes_lacking(self, features: Iterable[str]) -> tuple[zoom_scopes.ZoomScope, ...]: ...

    def granted_scopes(self) -> Iterable[str]: ...


class NoConferencing:
    name = "none"
    configured = False
    hosts: tuple[str, ...] = ()
    longest_create_seconds = 0.0

    def enable_registration(self, meeting_id: int) -> None:
        raise ConferencingError("no conferencing is configured")

    def register(self, meeting_id: int, people: list[Invitee]) -> list[Seat]:
        raise ConferencingError("no conferencing is configured")

    def cancel_registrations(self, meeting_id: int, registrant_ids: list[str]) -> None:
        return None

    def create(self, request: MeetingRequest) -> MeetingInfo:
        raise ConferencingError("no conferencing is configured")

    def update(self, meeting_id: int, request: MeetingRequest) -> None:
        return None

    def delete(self, meeting_id: int) -> None:
        return None

    def scopes_lacking(self, features: Iterable[str]) -> tuple[zoom_scopes.ZoomScope, ...]:
        return ()

    def granted_scopes(self) -> Iterable[str]:
        return ()


def missing_scope_words(scope: str) -> str:
    """What a missing Zoom scope means, for whoever reads it."""
    return (
        f"copbot's Zoom app lacks the scope {scope}: a Zoom admin adds it at "
        "https://marketplace.zoom.us/ (Manage > Created Apps > the copbot app > Scopes > "
        "+ Add Scopes, then Done)"
    )


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
