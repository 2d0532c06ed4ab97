"""The Zoom scopes copbot needs: one table, the single source of truth.

Each row is one Zoom API operation copbot calls: the feature it serves, the *granular*
scope Zoom asks of a Server-to-Server app for it (the only kind an app created today can
hold: Zoom's "OAuth scopes overview" and "Granular scopes" pages), and the *classic*
scopes that cover it for an app made before granular scopes existed (classic
`meeting:write:admin` covers creating, updating and deleting meetings).

Everything that speaks of scopes reads this table: the client naming a missing scope
(Zoom's code 4711), the start-up warning, `copbot doctor`, the README's table and the
Zoom stand-in, which refuses a route whose scope its token lacks, as Zoom does.

A new Zoom call is one new row here (its route as the stand-in's spec names it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# features: a row belongs to one; `needed` takes the features that are turned on
MEETINGS = "meetings"  # create, read, update, delete and list the calls' meetings
ATTENDANCE = "attendance"  # who came (COPBOT_ATTENDANCE)
RECORDINGS = "recordings"  # the cloud recording of each call
REGISTRATION = "registration"  # members registered, personal join links
HOSTS = "hosts"  # the Zoom users who host copbot's meetings


@dataclass(frozen=True)
class ZoomScope:
    feature: str
    what: str  # what copbot does with it, in a staff member's words
    route: str  # the API operation: "VERB /path/{param}"
    granular: str  # the admin-level granular scope of a Server-to-Server app
    classic: tuple[str, ...]  # classic scopes that cover it (apps made before granular)

    @property
    def user_level(self) -> str:
        """The user-level form Zoom also names in a 4711 answer (no `:admin`)."""
        return self.granular.removesuffix(":admin")

    def covered_by(self, granted: Iterable[str]) -> bool:
        held = set(granted)
        return self.granular in held or any(c in held for c in self.classic)


# Checked against Zoom's documentation (developers.zoom.us: "Granular scopes", and each
# endpoint's page). Add a row for each Zoom operation copbot starts to call.
ZOOM_SCOPES: tuple[ZoomScope, ...] = (
    ZoomScope(
        MEETINGS,
        "create a call's meeting",
        "POST /users/{userId}/meetings",
        "meeting:write:meeting:admin",
        ("meeting:write:admin",),
    ),
    ZoomScope(
        MEETINGS,
        "read a meeting",
        "GET /meetings/{meetingId}",
        "meeting:read:meeting:admin",
        ("meeting:read:admin", "meeting:write:admin"),
    ),
    ZoomScope(
        MEETINGS,
        "move a meeting when its call moves",
        "PATCH /meetings/{meetingId}",
        "meeting:update:meeting:admin",
        ("meeting:write:admin",),
    ),
    ZoomScope(
        MEETINGS,
        "delete a cancelled call's meeting",
        "DELETE /meetings/{meetingId}",
        "meeting:delete:meeting:admin",
        ("meeting:write:admin",),
    ),
    ZoomScope(
        MEETINGS,
        "list a host's meetings (a retried create finds the one it made)",
        "GET /users/{userId}/meetings",
        "meeting:read:list_meetings:admin",
        ("meeting:read:admin", "meeting:write:admin"),
    ),
    ZoomScope(
        ATTENDANCE,
        "find the instances of a call's meeting",
        "GET /past_meetings/{meetingId}/instances",
        "meeting:read:list_past_instances:admin",
        ("meeting:read:admin", "meeting:write:admin"),
    ),
    ZoomScope(
        ATTENDANCE,
        "read who came to a call",
        "GET /past_meetings/{meetingUUID}/participants",
        "meeting:read:list_past_participants:admin",
        ("meeting:read:admin", "meeting:write:admin"),
    ),
    ZoomScope(
        RECORDINGS,
        "archive a call's cloud recording",
        "GET /meetings/{meetingId}/recordings",
        "cloud_recording:read:list_recording_files:admin",
        ("recording:read:admin", "recording:write:admin"),
    ),
    ZoomScope(
        HOSTS,
        "check that each host exists and can host",
        "GET /users/{userId}",
        "user:read:user:admin",
        ("user:read:admin", "user:write:admin"),
    ),
    ZoomScope(
        REGISTRATION,
        "register members and leaders, 30 at a time, each with a link of their own",
        "POST /meetings/{meetingId}/batch_registrants",
        "meeting:write:batch_registrants:admin",
        ("meeting:write:admin",),
    ),
    ZoomScope(
        REGISTRATION,
        "cancel the registration of someone who left the community",
        "PUT /meetings/{meetingId}/registrants/status",
        "meeting:update:registrant_status:admin",
        ("meeting:write:admin",),
    ),
    ZoomScope(
        REGISTRATION,
        "list a meeting's registrants",
        "GET /meetings/{meetingId}/registrants",
        "meeting:read:list_registrants:admin",
        ("meeting:read:admin", "meeting:write:admin"),
    ),
)

CLASSIC = frozenset(name for row in ZOOM_SCOPES for name in row.classic)
_BRACKETS = re.compile(r"scopes?\s*:?\s*\[([^\]]*)\]")


def rows(features: Iterable[str] | None = None) -> tuple[ZoomScope, ...]:
    """The table's rows, of the given features only when named."""
    if features is None:
        return ZOOM_SCOPES
    wanted = set(features)
    return tuple(row for row in ZOOM_SCOPES if row.feature in wanted)


def needed(features: Iterable[str] | None = None) -> tuple[str, ...]:
    """The granular scopes the features need (all of them: every feature's), each once,
    in the table's order."""
    return tuple(dict.fromkeys(row.granular for row in rows(features)))


def missing(granted: Iterable[str], features: Iterable[str]) -> tuple[ZoomScope, ...]:
    """One row per granular scope the features need and `granted` does not cover."""
    held = set(granted)
    seen: set[str] = set()
    out = []
    for row in rows(features):
        if row.granular not in seen and not row.covered_by(held):
            seen.add(row.granular)
            out.append(row)
    return tuple(out)


def of_route(route: str) -> ZoomScope | None:
    """The row of an API operation ("GET /meetings/{meetingId}")."""
    return next((row for row in ZOOM_SCOPES if row.route == route), None)


def of_scope(name: str) -> ZoomScope | None:
    """The row of a granular scope, admin- or user-level."""
    return next((r for r in ZOOM_SCOPES if name in (r.granular, r.user_level)), None)


def parse_granted(scope_field: object) -> frozenset[str]:
    """The scopes of a token answer's `scope` field (space-separated, as Zoom sends it)."""
    if not isinstance(scope_field, str):
        return frozenset()
    return frozenset(part for part in re.split(r"[\s,]+", scope_field) if part)


def scopes_in_message(message: str) -> tuple[str, ...]:
    """The scope names in Zoom's 4711 message: "…does not contain scopes:[a, b]"."""
    found = _BRACKETS.search(message or "")
    if not found:
        return ()
    names = re.split(r"[\s,]+", found.group(1))
    return tuple(n.strip("'\"") for n in names if n.strip("'\""))


def scope_to_add(named: Iterable[str]) -> str:
    """Of the scopes a 4711 answer names, the one a Server-to-Server app should add: the
    admin-level granular one (what this table lists), else the first named."""
    names = [n for n in named if n]
    for name in names:
        row = of_scope(name)
        if row is not None:
            return row.granular
    admin = [n for n in names if n.endswith(":admin")]
    return (admin or names or ["(a scope Zoom did not name)"])[0]
