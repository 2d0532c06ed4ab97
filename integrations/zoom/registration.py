"""Zoom meeting registration: `register` adds people 30 at a time (`batch_registrants`,
Zoom's most; Zoom answers the same registrant for an email registered before, so a retry
registers no one twice), `cancel_registrants` cancels them (30 a status update),
`enable_registration` turns it on for an existing meeting. Zoom refuses registrants with
code 3000 while registration is off.
"""

from __future__ import annotations

from dataclasses import dataclass

from integrations.zoom.http import ZoomHttp
from integrations.zoom.meetings import LIST_PAGE_SIZE, MAX_LIST_PAGES, REGISTRATION_SETTINGS

REGISTRANT_BATCH = 30  # the most registrants Zoom takes in one batch or status update


@dataclass(frozen=True)
class Registrant:
    """One person registered for a meeting, with the join link that is theirs alone."""

    email: str
    registrant_id: str
    join_url: str


@dataclass(frozen=True)
class NewRegistrant:
    email: str
    first_name: str
    last_name: str = ""


class ZoomRegistration(ZoomHttp):
    """The registration calls of the client."""

    def enable_registration(self, meeting_id: int) -> None:
        """Require registration, approved automatically, on an existing meeting."""
        self.request(
            "PATCH", f"/meetings/{int(meeting_id)}", json={"settings": REGISTRATION_SETTINGS}
        )

    def register(self, meeting_id: int, people: list[NewRegistrant]) -> list[Registrant]:
        """Register people for the meeting, 30 a request, without Zoom's confirmation
        emails (copbot hands each their link in Slack). Zoom answers the same registrant
        for an email it knows, so asking again is harmless."""
        found: list[Registrant] = []
        for i in range(0, len(people), REGISTRANT_BATCH):
            batch = people[i : i + REGISTRANT_BATCH]
            body = {
                "auto_approve": True,
                "registrants_confirmation_email": False,
                "registrants": [
                    {
                        "email": p.email,
                        "first_name": p.first_name[:64] or p.email.split("@")[0][:64],
                        "last_name": p.last_name[:64],
                    }
                    for p in batch
                ],
            }
            data = self.request(
                "POST", f"/meetings/{int(meeting_id)}/batch_registrants", json=body
            ).json()
            for item in data.get("registrants") or []:
                if item.get("registrant_id") and item.get("join_url"):
                    found.append(
                        Registrant(
                            str(item.get("email") or ""),
                            str(item["registrant_id"]),
                            str(item["join_url"]),
                        )
                    )
        return found

    def cancel_registrants(self, meeting_id: int, registrant_ids: list[str]) -> None:
        """Cancel registrations (their links stop working), 30 a status update."""
        for i in range(0, len(registrant_ids), REGISTRANT_BATCH):
            batch = registrant_ids[i : i + REGISTRANT_BATCH]
            self.request(
                "PUT",
                f"/meetings/{int(meeting_id)}/registrants/status",
                json={"action": "cancel", "registrants": [{"id": r} for r in batch]},
            )

    def registrants(self, meeting_id: int) -> list[Registrant]:
        """Every approved registrant of the meeting, on every page."""
        found: list[Registrant] = []
        page = 1
        while page <= MAX_LIST_PAGES:
            data = self.request(
                "GET",
                f"/meetings/{int(meeting_id)}/registrants",
                params={"status": "approved", "page_size": LIST_PAGE_SIZE, "page_number": page},
            ).json()
            items = data.get("registrants") or []
            found += [
                Registrant(str(r.get("email") or ""), str(r.get("id") or ""), str(r["join_url"]))
                for r in items
                if r.get("id") and r.get("join_url")
            ]
            if not items or page * LIST_PAGE_SIZE >= int(data.get("total_records") or 0):
                return found
            page += 1
        return found
