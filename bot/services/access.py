"""Every id is checked against its own community: load the row an id names (from a
button's value, a form's private_metadata or a command), find the community it belongs
to, and check the person's role *there*, never in the channel the request came from.

Listeners reach this through their guard (`bot.listeners.guard`); flows that check again
after the ack (in their own unit of work) call it directly.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlmodel import Session

from bot.ops import logs
from bot.services import CopError
from bot.services.communities import role_of
from bot.services.ids import object_id
from bot.services.permissions import Action, Actor, can, who_can
from storage.models import Community

T = TypeVar("T")

GONE = "This community no longer exists."


def load(session: Session, model: type[T], raw: Any, *, missing: str, malformed: str = "") -> T:
    """The row of `model` that `raw` names; CopError `malformed` when `raw` is no id
    (`missing` when no `malformed` is given), `missing` when there is no such row."""
    number = object_id(raw)
    if number is None:
        raise CopError(malformed or missing)
    row = session.get(model, number)
    if row is None:
        raise CopError(missing)
    return row


def community_allowing(
    session: Session,
    actor: Actor,
    community_id: Any,
    action: Action,
    what: str = "",
    *,
    refusal: str = "",
) -> Community:
    """The community, if `actor` may do `action` in it; else CopError `refusal`, by
    default "Only <who may> can <what>."."""
    number = object_id(community_id)
    community = session.get(Community, number) if number is not None else None
    if community is None:
        raise CopError(GONE)
    logs.note(community=community.id)
    if not can(actor, action, role_of(session, community.id, actor.user_id)):
        raise CopError(refusal or f"Only {who_can(action)} can {what}.")
    return community


def allowed(
    session: Session,
    actor: Actor,
    model: type[T],
    raw: Any,
    action: Action,
    what: str = "",
    *,
    missing: str,
    malformed: str = "",
    refusal: str = "",
) -> tuple[T, Community]:
    """The row `raw` names and its own community, if `actor` may do `action` there."""
    row = load(session, model, raw, missing=missing, malformed=malformed)
    community = community_allowing(
        session,
        actor,
        row.community_id,  # type: ignore[attr-defined]
        action,
        what,
        refusal=refusal,
    )
    return row, community
