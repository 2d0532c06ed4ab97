"""The after-call seam: what happened at a call's meeting (its instances, who joined,
its recording), read from the conferencing vendor. The core sees `MeetingFacts`,
`Participant`, `Recording` and `FactsError` (a reason staff can read), never a vendor's
own types.

Like `Conferencing`, the facts are chosen by configuration (`bot.deps`): Zoom's
(`integrations.zoom.after_call.ZoomMeetingFacts`, which maps Zoom's errors to these)
when Zoom is configured, else `NoMeetingFacts`, and after-call work is not done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol


class FactsError(Exception):
    """The facts could not be read; `str(error)` says why, for staff."""


class NotFound(FactsError):
    """The vendor has no record of it (no one joined, no recording yet)."""


@dataclass(frozen=True)
class Participant:
    """One join of a past meeting (a person who rejoined appears once per join)."""

    name: str
    email: str | None
    user_id: str | None
    join_time: datetime | None
    leave_time: datetime | None
    seconds: int
    # the meeting's registrant who joined with their own link
    registrant_id: str | None = None


@dataclass(frozen=True)
class Recording:
    """A meeting's cloud recording as copbot shares it: one link, and its passcode."""

    url: str
    passcode: str | None
    start_time: datetime | None
    deletes_on: date | None = None  # the day the vendor deletes it


class MeetingFacts(Protocol):
    # False: no vendor to ask, and after-call work is not done
    configured: bool

    def instances(self, meeting_id: int) -> list[tuple[str, datetime | None]]:
        """(uuid, start time) of every ended instance of the meeting."""
        ...

    def participants(self, uuid: str) -> list[Participant]:
        """Every participant record of one instance."""
        ...

    def recording(self, meeting: int | str) -> Recording | None:
        """The meeting's recording (by id or instance UUID); None when it has none (yet)."""
        ...


class NoMeetingFacts:
    configured = False

    def instances(self, meeting_id: int) -> list[tuple[str, datetime | None]]:
        raise FactsError("no conferencing is configured")

    def participants(self, uuid: str) -> list[Participant]:
        raise FactsError("no conferencing is configured")

    def recording(self, meeting: int | str) -> Recording | None:
        raise FactsError("no conferencing is configured")
