"""Claiming due rows exactly once: the conditional UPDATE every queue of copbot uses (the
reminders' outbox, the after-call jobs, the value questions).

A row is claimable while `ready` (a SQL condition) holds. A claim gives the rows a new
token; the UPDATE repeats `ready`, so of two racing passes only one moves a row, and only
the holder of the token may finish it. On PostgreSQL the candidates are also locked with
SKIP LOCKED, so a second pass takes other rows instead of waiting.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, select

CLAIMED = "claimed"


def claim_where(
    session: Session, model: Any, ready: Any, at: datetime, limit: int, **values: Any
) -> tuple[str, list[int]]:
    """Claim up to `limit` rows of `model` (with id, due_at, state, claimed_at and
    claim_token columns) that `ready` selects, earliest due first, with a new token:
    (token, the claimed ids in order). `values` are set on the claimed rows too (who
    claimed them)."""
    token = uuid.uuid4().hex
    candidates = select(model.id).where(ready).order_by(model.due_at).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    ids = list(session.execute(candidates).scalars().all())
    if not ids:
        return token, []
    taken = session.execute(
        update(model)
        .where(model.id.in_(ids), ready)
        .values(state=CLAIMED, claimed_at=at, claim_token=token, **values)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )
    return token, sorted(taken.scalars().all())
