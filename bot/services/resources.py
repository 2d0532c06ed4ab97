"""Resources: leaders' acknowledgement of the organisation's guidelines, once a program
year. The resources file itself (guides, guidelines) is read by `bot.config.resources`."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.config.resources import EXAMPLE, Item, ResourcesError, Section, load  # noqa: F401
from storage.models import ResourceAck


def acknowledge(session: Session, community_id: int, year: int, user_id: str) -> bool:
    """Record the guidelines as acknowledged for `year`; False when they already were."""
    try:
        with session.begin_nested():
            session.add(ResourceAck(community_id=community_id, year=year, acknowledged_by=user_id))
            session.flush()
    except IntegrityError:
        return False
    return True


def acknowledged(session: Session, year: int) -> dict[int, ResourceAck]:
    rows = session.exec(select(ResourceAck).where(ResourceAck.year == year)).all()
    return {r.community_id: r for r in rows}
