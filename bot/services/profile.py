"""A community's profile: its name, mission statement, description and purpose areas,
changed by its leaders or staff (`/cop edit`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.services import CopError
from bot.services.communities import DuplicateCommunity, by_name, name_key, validate_fields
from storage.models import PURPOSE_AREA_LABELS, Community, PurposeArea


@dataclass(frozen=True)
class ProfileChange:
    """What an edit changed, each as (field label, old value, new value)."""

    changes: tuple[tuple[str, str, str], ...]

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    @property
    def fields(self) -> list[str]:
        return [label for label, _old, _new in self.changes]


def _areas_text(values: str) -> str:
    return ", ".join(PURPOSE_AREA_LABELS[PurposeArea(v)] for v in values.split(",") if v) or "none"


def update(
    session: Session,
    community: Community,
    *,
    name: str,
    mission: str,
    description: str,
    areas: Sequence[PurposeArea],
) -> ProfileChange:
    """Store the new profile; the name is normalised as at creation (spaces collapsed)
    and may not be another community's, even by case. Raises CopError (a field's message)
    or DuplicateCommunity; stores nothing then."""
    errors = validate_fields(name, mission, description)
    if errors:
        raise CopError(next(iter(errors.values())))
    clean = re.sub(r"\s+", " ", name).strip()
    new = {
        "name": clean,
        "mission": (mission or "").strip(),
        "description": (description or "").strip(),
        "purpose_areas": ",".join(a.value for a in PurposeArea if a in areas),
    }
    labels = {
        "name": "name",
        "mission": "mission statement",
        "description": "description",
        "purpose_areas": "purpose areas",
    }
    changes = []
    for key, value in new.items():
        old = getattr(community, key)
        if old != value:
            if key == "purpose_areas":
                changes.append((labels[key], _areas_text(old), _areas_text(value)))
            else:
                changes.append((labels[key], old, value))
    if not changes:
        return ProfileChange(())
    if name_key(clean) != community.name_key:
        other = by_name(session, community.team_id, clean)
        if other is not None and other.id != community.id:
            raise DuplicateCommunity(other, "name")
    for key, value in new.items():
        setattr(community, key, value)
    community.name_key = name_key(clean)
    try:
        with session.begin_nested():
            session.add(community)
            session.flush()
    except IntegrityError:
        # another community took the name meanwhile: the database decided
        session.refresh(community)
        other = by_name(session, community.team_id, clean)
        if other is not None:
            raise DuplicateCommunity(other, "name") from None
        raise
    return ProfileChange(tuple(changes))
