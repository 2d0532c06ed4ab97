"""After-call work: once a call has ended, read who came (`attendance`) and find its
recording (`recording`). One job row per call and kind (a unique key, so two passes or a
webhook and a pass open it once); a pass claims due rows by a conditional UPDATE with a
token, and only the holder of the token may finish one. A failure is retried with
back-off, then the job is given up as "unavailable" with the reason, for staff.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic_core import PydanticUndefined
from sqlalchemy import and_, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from storage.claims import claim_where
from storage.models import AfterCallJob, Call, CallStatus

ATTENDANCE, RECORDING = "attendance", "recording"
PENDING, CLAIMED, DONE, UNAVAILABLE = "pending", "claimed", "done", "unavailable"
BATCH = 20
CLAIM_TIMEOUT = timedelta(minutes=10)  # a claim older than this was lost with its pass
LOOK_BACK = timedelta(days=30)  # calls that ended longer ago are not looked at
# how long after a call's end copbot asks Zoom itself: soon without webhooks; with them,
# only as a safety net for a delivery that never came
ASK_AFTER = {
    (ATTENDANCE, False): timedelta(minutes=15),
    (ATTENDANCE, True): timedelta(hours=2),
    (RECORDING, False): timedelta(minutes=30),
    (RECORDING, True): timedelta(hours=24),
}
MAX_ATTEMPTS = {ATTENDANCE: 5, RECORDING: 8}
FIRST_RETRY = timedelta(minutes=15)


def insert_ignoring_duplicates(session: Session, model: Any, rows: list[dict[str, Any]]) -> int:
    """INSERT the rows, skipping those a unique key already holds; how many were new.
    Fields a row leaves out get the model's defaults, as the ORM would give them."""
    if not rows:
        return 0
    rows = [_with_defaults(model, row) for row in rows]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    key = list(model.__table__.primary_key.columns)
    statement = insert(model).values(rows).on_conflict_do_nothing().returning(*key)
    return len(session.execute(statement).all())


def _with_defaults(model: Any, row: dict[str, Any]) -> dict[str, Any]:
    filled = dict(row)
    for name, info in model.model_fields.items():
        if name in filled or name == "id":
            continue
        if info.default_factory is not None:
            filled[name] = info.default_factory()
        elif info.default is not None and info.default is not PydanticUndefined:
            filled[name] = info.default
    return filled


def call_end(call: Call) -> datetime:
    return call.start_at + timedelta(minutes=call.duration_minutes)


def open_jobs(session: Session, now: datetime, *, webhooks: bool, attendance: bool) -> int:
    """Open the jobs of calls with a meeting that ended (within LOOK_BACK) and have none
    yet; how many were opened."""
    kinds = [RECORDING] + ([ATTENDANCE] if attendance else [])
    opened = 0
    for kind in kinds:
        has_job = (
            select(AfterCallJob.id)
            .where(AfterCallJob.call_id == Call.id, AfterCallJob.kind == kind)
            .exists()
        )
        calls = session.exec(
            select(Call).where(
                Call.meeting_id.is_not(None),
                Call.status != CallStatus.CANCELLED.value,
                Call.start_at >= now - LOOK_BACK,
                Call.start_at <= now,
                ~has_job,
            )
        ).all()
        rows = [
            {
                "call_id": c.id,
                "kind": kind,
                "state": PENDING,
                "attempts": 0,
                "due_at": call_end(c) + ASK_AFTER[(kind, webhooks)],
            }
            for c in calls
            if call_end(c) <= now
        ]
        opened += insert_ignoring_duplicates(session, AfterCallJob, rows)
    return opened


def due_now(session: Session, call_id: int, kind: str, now: datetime, uuid_: str | None) -> None:
    """A webhook says it is time: the job is due now (opened if need be), with the
    meeting instance it named."""
    insert_ignoring_duplicates(
        session,
        AfterCallJob,
        [
            {
                "call_id": call_id,
                "kind": kind,
                "state": PENDING,
                "attempts": 0,
                "due_at": now,
                "meeting_uuid": uuid_,
            }
        ],
    )
    session.execute(
        update(AfterCallJob)
        .where(
            AfterCallJob.call_id == call_id,
            AfterCallJob.kind == kind,
            AfterCallJob.state == PENDING,
        )
        .values(due_at=now, meeting_uuid=uuid_)
        .execution_options(synchronize_session=False)
    )


def claim(
    session: Session, kind: str, now: datetime, at: datetime, limit: int = BATCH
) -> tuple[str, list[int]]:
    """Claim up to `limit` due jobs of `kind` with a new token: (token, their ids)."""
    ready = and_(
        AfterCallJob.kind == kind,
        or_(
            and_(AfterCallJob.state == PENDING, AfterCallJob.due_at <= now),
            and_(AfterCallJob.state == CLAIMED, AfterCallJob.claimed_at < at - CLAIM_TIMEOUT),
        ),
    )
    return claim_where(session, AfterCallJob, ready, at, limit)


def finish(
    session: Session,
    job_id: int,
    token: str,
    now: datetime,
    state: str = DONE,
    error: str | None = None,
) -> bool:
    """Mark a job done (or given up) if `token` still holds it; False if it does not."""
    done = session.execute(
        update(AfterCallJob)
        .where(
            AfterCallJob.id == job_id,
            AfterCallJob.state == CLAIMED,
            AfterCallJob.claim_token == token,
        )
        .values(state=state, done_at=now, last_error=error, claim_token=None)
        .returning(AfterCallJob.id)
        .execution_options(synchronize_session=False)
    ).first()
    return done is not None


def retry_later(session: Session, job: AfterCallJob, token: str, error: str, now: datetime) -> str:
    """After a failure: pending again with back-off, or given up after MAX_ATTEMPTS with
    `error` kept for staff. Returns the new state."""
    attempts = job.attempts + 1
    if attempts >= MAX_ATTEMPTS[job.kind]:
        finish(session, job.id, token, now, UNAVAILABLE, error[:300])
        session.execute(
            update(AfterCallJob)
            .where(AfterCallJob.id == job.id)
            .values(attempts=attempts)
            .execution_options(synchronize_session=False)
        )
        return UNAVAILABLE
    session.execute(
        update(AfterCallJob)
        .where(
            AfterCallJob.id == job.id,
            AfterCallJob.state == CLAIMED,
            AfterCallJob.claim_token == token,
        )
        .values(
            state=PENDING,
            attempts=attempts,
            due_at=now + FIRST_RETRY * (2 ** (attempts - 1)),
            last_error=error[:300],
            claim_token=None,
        )
        .execution_options(synchronize_session=False)
    )
    return PENDING


def job_of(session: Session, call_id: int, kind: str) -> AfterCallJob | None:
    return session.exec(
        select(AfterCallJob).where(AfterCallJob.call_id == call_id, AfterCallJob.kind == kind)
    ).first()
