"""The conferencing seam: the core asks for a meeting and never sees a vendor SDK.

`integrations.zoom.conferencing.ZoomConferencing` makes Zoom meetings; `NoConferencing`
stands in when Zoom is not configured (calls are scheduled with no meeting, and copbot
says so); `bot.deps` chooses by configuration. Every failure crosses the seam as a
`ConferencingError` whose message a leader can read; Zoom's own error types stay inside
`integrations.zoom`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from integrations import zoom_scopes


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
