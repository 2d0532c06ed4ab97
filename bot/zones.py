"""Time-zone names people type: one parser for every zone field and setting.

A name is a zone when it is one of the IANA names the system's zone database holds;
nothing a person typed reaches `ZoneInfo` otherwise, so `America` (a directory),
300 × `x` (a file name too long) or `../x` give the field's message with the closest
names, never an OSError.
"""

from __future__ import annotations

import difflib
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

MAX_NAME = 60  # the longest IANA name is 32 characters; longer input is not a zone
# the names offered first when a person types a region alone ("America", "Etc")
WELL_KNOWN = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
    "Europe/London", "Europe/Berlin", "Asia/Tokyo", "Asia/Kolkata", "Australia/Sydney",
    "Africa/Lagos", "Pacific/Auckland", "Etc/UTC", "Etc/GMT",
)  # fmt: skip


class ZoneError(ValueError):
    """A name that is not a time zone; `message` is written for the person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@cache
def zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


@cache
def _by_lower() -> dict[str, str]:
    return {z.lower(): z for z in zone_names()}


def is_zone(name: str) -> bool:
    return name in zone_names()


def zone_error(name: str) -> str:
    """Why `name` is not a time zone, with the closest names copbot knows."""
    name = " ".join(name.split())
    shown = (name[:40] + ("…" if len(name) > 40 else "")) or "That"
    probe = name[:MAX_NAME].lower()
    by_lower = _by_lower()
    region = probe.rstrip("/") + "/"
    in_region = sorted(z for z in by_lower if probe and z.startswith(region))
    if in_region:  # a region alone: offer places in it, well-known ones first
        known = [z.lower() for z in WELL_KNOWN if z.lower().startswith(region)]
        close = list(dict.fromkeys(known + in_region))[:3]
    else:
        close = difflib.get_close_matches(probe, list(by_lower), n=3, cutoff=0.5) if probe else []
    if not close and probe:
        close = sorted(z for z in by_lower if z.startswith(probe))[:3]
    if close:
        names = " or ".join(by_lower[c] for c in close)
        return f"{shown} is not a time zone. Did you mean {names}?"
    return f"{shown} is not a time zone: use a name like America/Chicago."


def parse_zone(name: str | None) -> str:
    """The IANA name `name` stands for (spaces around it and letter case aside), or
    ZoneError with the closest names."""
    text = (name or "").strip()
    found = text if is_zone(text) else _by_lower().get(text.lower())
    if found is None:
        raise ZoneError(zone_error(text))
    try:
        ZoneInfo(found)
    except (OSError, ValueError, KeyError) as e:  # listed but unreadable: still a field error
        raise ZoneError(zone_error(text)) from e
    return found
