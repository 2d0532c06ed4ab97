"""Who and what is in the sandbox's workspace: the people you can switch between (a staff
member, two leaders, members in three time zones), the channels, and the fixed fake
credentials the bot runs with there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

SIGNING_SECRET = "sandbox-signing-secret-not-a-secret"
BOT_TOKEN = "xoxb-sandbox-not-a-token"


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    real_name: str
    tz: str
    role: str  # how the page introduces them: staff, leader, member


PEOPLE: tuple[Person, ...] = (
    Person("USTAFF01", "sam", "Sam Rivera", "America/Chicago", "staff"),
    Person("ULEAD001", "ana", "Ana Okafor", "America/New_York", "leader"),
    Person("ULEAD002", "ben", "Ben Keller", "Europe/Berlin", "leader"),
    Person("UMEMB001", "kenji", "Kenji Sato", "Asia/Tokyo", "member"),
    Person("UMEMB002", "lena", "Lena Fischer", "Europe/Berlin", "member"),
    Person("UMEMB003", "maya", "Maya Johnson", "America/New_York", "member"),
)
STAFF = PEOPLE[0]
BY_NAME = {p.name: p for p in PEOPLE}

# (id, name): two channels the demo fills, one left empty for a new community
CHANNELS: tuple[tuple[str, str], ...] = (
    ("CGENERAL1", "general"),
    ("CDATA0001", "data-science"),
    ("CDESIGN01", "design-systems"),
    ("CNEWCOP01", "new-community"),
)

# the users of the organisation's Zoom account: its staff. Leaders and members come from
# other institutions, so Zoom hides their emails unless they registered for the meeting
ZOOM_ACCOUNT_USERS = frozenset({f"{p.name}@example.org" for p in PEOPLE if p.role == "staff"})

# the Secret Token of the stand-in Zoom's event subscription (POST /zoom/events)
ZOOM_WEBHOOK_SECRET = "sandbox-zoom-webhook-secret-not-a-secret"


def attendees(meeting: dict, start: datetime) -> list[dict]:
    """Who the stand-in Zoom says came to a call: the leaders and members of the world
    (Kenji drops out and rejoins) and a guest who is not in Slack."""

    def record(name: str, email: str, begin: int, end: int) -> dict:
        join, leave = start + timedelta(minutes=begin), start + timedelta(minutes=end)
        return {
            "id": "",
            "name": name,
            "user_email": email,
            "join_time": f"{join:%Y-%m-%dT%H:%M:%SZ}",
            "leave_time": f"{leave:%Y-%m-%dT%H:%M:%SZ}",
            "duration": (end - begin) * 60,
        }

    came = [p for p in PEOPLE if p.role != "staff"]
    records = [record(p.real_name, f"{p.name}@example.org", 0, 55) for p in came]
    records.append(record("Kenji Sato", "kenji@example.org", 58, 60))
    records.append(record("A guest", "", 5, 40))
    return records
