"""What the calls and year listeners share: reading a form's metadata, the check that a
person may manage a community's calls, and the zone a leader's forms start in."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from bot.deps import Deps
from bot.listeners.common import CommandRequest, community_allowing
from bot.services import CopError, people
from bot.services import calls as rules
from bot.services.permissions import Action
from storage.models import Community


def view_metadata(view: dict[str, Any]) -> dict[str, Any]:
    """The form's private_metadata as a dict; CopError when it is not copbot's."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        meta = None
    if not isinstance(meta, dict):
        raise CopError("This form is not one copbot made: open it again.")
    return meta


def managed(
    deps: Deps, session: Session, community_id: int, user_id: str, what: str = "schedule its calls"
) -> Community:
    """The community, if `user_id` may manage its calls; CopError saying who may `what`
    (the thing they tried: "cancel its calls", "move its calls")."""
    return community_allowing(deps, session, community_id, user_id, Action.SCHEDULE_CALL, what)


def leader_zone(req: CommandRequest) -> str:
    """The person's own zone as Slack gives it, else the organisation's."""
    person = people.get(req.session, req.user_id)
    zone = person.tz if person and person.tz else None
    return zone if zone and rules.is_zone(zone) else req.deps.settings.timezone
