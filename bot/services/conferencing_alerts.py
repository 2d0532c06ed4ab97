"""Permissions the conferencing app lacks (Zoom scopes), met at run time.

When Zoom refuses a request for a missing scope (code 4711), the scope is noted here
(one row a scope: a unique key); the scheduler's pass tells staff of each noted scope
once, the pass whose conditional UPDATE sets `told_at` being the one that tells. A scope
found granted again (at start-up) is forgotten, so losing it later is told again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.services.after_call_jobs import insert_ignoring_duplicates
from integrations import zoom_scopes
from storage.clock import Clock
from storage.db import session_scope
from storage.models import ConferencingAlert

log = logging.getLogger(__name__)


def note_missing(session: Session, permission: str, now: datetime) -> bool:
    """Note a missing permission; True the first time it is noted (until forgotten)."""
    row = zoom_scopes.of_scope(permission)
    return bool(
        insert_ignoring_duplicates(
            session,
            ConferencingAlert,
            [
                {
                    "permission": permission[:120],
                    "what": (row.what if row else "")[:200],
                    "seen_at": now,
                }
            ],
        )
    )


def recorder(engine: Engine, clock: Clock) -> Callable[[str], None]:
    """What the conferencing seam calls when a permission is missing: note it, seen at
    `clock`'s now (never raising: the person's own error is already on its way)."""

    def record(permission: str) -> None:
        try:
            with session_scope(engine) as session:
                if note_missing(session, permission, clock.now()):
                    log.warning("copbot's Zoom app lacks the scope %s; staff are told", permission)
        except Exception:  # noqa: BLE001 - noting must not hide the refusal itself
            log.exception("could not note the missing scope %s", permission)

    return record


def claim_untold(session: Session, now: datetime) -> list[ConferencingAlert]:
    """The noted permissions staff were not told of yet, each claimed by this caller."""
    claimed = session.execute(
        update(ConferencingAlert)
        .where(ConferencingAlert.told_at.is_(None))
        .values(told_at=now)
        .returning(ConferencingAlert.id)
        .execution_options(synchronize_session=False)
    )
    ids = list(claimed.scalars().all())
    return [session.get(ConferencingAlert, i) for i in sorted(ids)]


def give_back(session: Session, alert_id: int, told_at: datetime) -> None:
    """Telling failed: a later pass tells it (only if this claim still holds it)."""
    session.execute(
        update(ConferencingAlert)
        .where(ConferencingAlert.id == alert_id, ConferencingAlert.told_at == told_at)
        .values(told_at=None)
        .execution_options(synchronize_session=False)
    )


def forget_granted(session: Session, granted: Iterable[str]) -> int:
    """Forget the noted scopes the app now holds (or a classic scope covers)."""
    held = set(granted)
    covered = [row.granular for row in zoom_scopes.ZOOM_SCOPES if row.covered_by(held)]
    if not covered:
        return 0
    result = session.execute(
        delete(ConferencingAlert).where(ConferencingAlert.permission.in_(covered))
    )
    return result.rowcount or 0
