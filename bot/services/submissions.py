"""The one question the scheduler asks before a deadline nudge: has the community already
submitted what the nudge is about? (A submitted agenda or report stops its nudges.)"""

from __future__ import annotations

from sqlmodel import Session

AGENDA_KIND = "agenda_due"
REPORT_KIND = "report_due"


def nudge_answered(session: Session, kind: str, community_id: int, year: int) -> bool:
    """True when the deliverable a `kind` nudge for `year` is about has been submitted."""
    # imported here: the reminder rules import this module, and reports reads calls
    from bot.services import agenda, reports

    if kind == AGENDA_KIND:
        return agenda.submitted(session, community_id, year)
    if kind == REPORT_KIND:
        return reports.submitted(session, community_id, year)
    return False
