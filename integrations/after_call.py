"""The after-call seam: what happened at a call's meeting (its instances, who joined,
its recording), read from the conferencing vendor. The core sees `Participant`,
`Recording` and `FactsError` (a reason staff can read), never Zoom's own types."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from integrations.conferencing import Conferencing, ZoomConferencing, missing_scope_words
from integrations.zoom import ZoomError, ZoomNotFound, ZoomScopeMissing
from integrations.zoom.after_call import Participant, Recording, ZoomAfterCall, recording_of

__all__ = [
    "FactsError",
    "NotFound",
    "MeetingFacts",
    "Participant",
    "Recording",
    "meeting_facts",
    "recording_of",
]


class FactsError(Exception):
    """The facts could not be read; `str(error)` says why, for staff."""


class NotFound(FactsError):
    """The vendor has no record of it (no one joined, no recording yet)."""


def in_words(error: ZoomError) -> str:
    if isinstance(error, ZoomScopeMissing):
        return missing_scope_words(error.scope)
    if isinstance(error, ZoomNotFound):
        return "Zoom has no record of it (perhaps no one joined)"
    if error.status == 429:
        return "Zoom's rate limit, even after waiting"
    if error.status in (400, 401, 403):
        return f"Zoom refused: {error.message} (check the app's scopes)"
    return f"Zoom did not answer ({error.status or 'no connection'})"


class MeetingFacts:
    """Zoom's past-meeting and recording APIs behind plain errors."""

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


def meeting_facts(conferencing: Conferencing) -> MeetingFacts | None:
    """The facts of the configured conferencing; None without one."""
    if isinstance(conferencing, ZoomConferencing):
        return MeetingFacts(ZoomAfterCall(conferencing.client), conferencing.on_missing_scope)
    return None
