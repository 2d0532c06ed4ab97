"""Communities with their counts of leaders and people, for App Home."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import case, func
from sqlmodel import Session, select

from storage.models import Community, Membership, Role


@dataclass(frozen=True)
class CommunitySummary:
    community: Community
    role: Role | None
    leader_count: int
    member_count: int


def _counts(session: Session, community_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    ids = list(community_ids)
    if not ids:
        return {}
    is_leader = case((Membership.role == Role.LEADER.value, 1), else_=0)
    rows = session.exec(
        select(Membership.community_id, func.sum(is_leader), func.count())
        .where(Membership.community_id.in_(ids))
        .group_by(Membership.community_id)
    ).all()
    return {cid: (int(lead or 0), int(total)) for cid, lead, total in rows}


def for_person(session: Session, user_id: str) -> list[CommunitySummary]:
    """The communities `user_id` belongs to, with their role, by name."""
    rows = session.exec(
        select(Community, Membership.role)
        .join(Membership, Membership.community_id == Community.id)
        .where(Membership.slack_user_id == user_id)
        .order_by(Community.name_key)
    ).all()
    counts = _counts(session, (c.id for c, _ in rows))
    return [CommunitySummary(c, Role(r), *counts.get(c.id, (0, 0))) for c, r in rows]


def all_communities(session: Session, viewer: str) -> list[CommunitySummary]:
    """Every community by name, with the viewer's role and leader/member counts."""
    communities = list(session.exec(select(Community).order_by(Community.name_key)).all())
    counts = _counts(session, (c.id for c in communities))
    roles = dict(
        session.exec(
            select(Membership.community_id, Membership.role).where(
                Membership.slack_user_id == viewer
            )
        ).all()
    )
    return [
        CommunitySummary(c, Role(roles[c.id]) if c.id in roles else None, *counts.get(c.id, (0, 0)))
        for c in communities
    ]
