"""The outbox: who runs passes (the lease), claiming due reminders exactly once, and
recording what became of each.

- One scheduler holds the lease at a time: a row taken by a conditional INSERT/UPDATE,
  renewed by its holder each batch, and taken over only after it expired (wall clock).
- A pass claims small batches with a fresh `claim_token`. Before posting one reminder it
  moves it from claimed to sending with a conditional UPDATE on that token: if another
  pass took the claim over (after CLAIM_TIMEOUT), the UPDATE matches nothing and the old
  holder does not send it.
- After posting it records sent (or failed, or pending again with back-off), again only
  while it still holds the claim. A reminder left "sending" by a process that died during
  the post is recorded as failed after SEND_TIMEOUT, never sent a second time.
- Slack's rate limit (429) puts the reminder back, due again after Retry-After, without
  counting it as a failed attempt.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from storage.claims import claim_where
from storage.models import Reminder, ReminderState, SchedulerLease

LEASE = "scheduler"
CLAIM_TIMEOUT = timedelta(minutes=2)
SEND_TIMEOUT = timedelta(minutes=10)
MAX_ATTEMPTS = 8
BATCH = 25
INTERRUPTED = "interrupted while posting: it may not have reached Slack"

PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "account_inactive",
        "cannot_dm_bot",
        "user_disabled",
        "restricted_action",
        "msg_too_long",
        "invalid_blocks",
        "no_text",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "missing_scope",
    }
)

PENDING, CLAIMED, SENDING = (
    ReminderState.PENDING.value,
    ReminderState.CLAIMED.value,
    ReminderState.SENDING.value,
)


# ---- the lease ----------------------------------------------------------------------------
def take_lease(session: Session, holder: str, at: datetime, ttl: timedelta) -> bool:
    """Take or renew the scheduler's lease for `holder` until `at + ttl`; True if it
    holds it now. Only a free, expired or own lease is taken (the database decides)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    made = session.execute(
        insert(SchedulerLease)
        .values(name=LEASE, holder=holder, expires_at=at + ttl)
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(SchedulerLease.name)
    ).first()
    if made is not None:
        return True
    taken = session.execute(
        update(SchedulerLease)
        .where(
            SchedulerLease.name == LEASE,
            or_(SchedulerLease.holder == holder, SchedulerLease.expires_at <= at),
        )
        .values(holder=holder, expires_at=at + ttl)
        .returning(SchedulerLease.name)
        .execution_options(synchronize_session=False)
    ).first()
    return taken is not None


def release_lease(session: Session, holder: str, at: datetime) -> None:
    """Give the lease up now (a one-off pass ends), if `holder` still has it."""
    session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == LEASE, SchedulerLease.holder == holder)
        .values(expires_at=at)
        .execution_options(synchronize_session=False)
    )


def lease_holder(session: Session) -> SchedulerLease | None:
    return session.get(SchedulerLease, LEASE)


# ---- claiming -----------------------------------------------------------------------------
def claim(
    session: Session, now: datetime, worker: str, at: datetime, limit: int = BATCH
) -> tuple[str, list[int]]:
    """Claim up to `limit` reminders due by `now` for `worker` with a new token: pending
    ones, and claims older than CLAIM_TIMEOUT (by the wall clock `at`) that were never
    sent. Returns (token, ids); no two claims hold the same reminder."""
    ready = or_(
        and_(
            Reminder.state == PENDING,
            Reminder.due_at <= now,
            or_(Reminder.next_attempt_at.is_(None), Reminder.next_attempt_at <= now),
        ),
        and_(Reminder.state == CLAIMED, Reminder.claimed_at < at - CLAIM_TIMEOUT),
    )
    return claim_where(session, Reminder, ready, at, limit, claimed_by=worker)


def fail_interrupted(session: Session, at: datetime) -> int:
    """Reminders left "sending" longer than SEND_TIMEOUT: their process died during the
    post. Recorded as failed (staff see them), never sent again: a second post could be
    a duplicate."""
    result = session.execute(
        update(Reminder)
        .where(Reminder.state == SENDING, Reminder.claimed_at < at - SEND_TIMEOUT)
        .values(state=ReminderState.FAILED.value, last_error=INTERRUPTED)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def begin_send(session: Session, reminder_id: int, token: str, at: datetime) -> bool:
    """Claimed → sending, only while `token` still holds the claim. False: the claim was
    taken over (or the reminder changed) and the caller must not post it."""
    row = session.execute(
        update(Reminder)
        .where(Reminder.id == reminder_id, Reminder.claim_token == token, Reminder.state == CLAIMED)
        .values(state=SENDING, claimed_at=at, attempts=Reminder.attempts + 1)
        .returning(Reminder.id)
        .execution_options(synchronize_session=False)
    ).first()
    return row is not None


# ---- recording ----------------------------------------------------------------------------
def _finish(session: Session, reminder_id: int, token: str, from_state: str, **values) -> bool:
    """Record an outcome, only while `token` holds the reminder in `from_state`."""
    result = session.execute(
        update(Reminder)
        .where(
            Reminder.id == reminder_id,
            Reminder.claim_token == token,
            Reminder.state == from_state,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def mark_sent(session: Session, reminder_id: int, token: str, now: datetime) -> bool:
    return _finish(
        session,
        reminder_id,
        token,
        SENDING,
        state=ReminderState.SENT.value,
        sent_at=now,
        last_error=None,
    )


def mark_missed(session: Session, reminder_id: int, token: str, why: str) -> bool:
    return _finish(
        session, reminder_id, token, CLAIMED, state=ReminderState.MISSED.value, last_error=why
    )


def mark_void(session: Session, reminder_id: int, token: str, why: str) -> bool:
    return _finish(
        session, reminder_id, token, CLAIMED, state=ReminderState.VOID.value, last_error=why[:200]
    )


def mark_error(session: Session, reminder: Reminder, token: str, error: str, now: datetime) -> str:
    """A Slack error after the post: failed for good if permanent (or tried too often),
    else due again after a back-off. Returns the state it is left in."""
    attempts = reminder.attempts + 1  # begin_send counted this one in the database
    if error in PERMANENT_ERRORS or attempts >= MAX_ATTEMPTS:
        _finish(
            session,
            reminder.id,
            token,
            SENDING,
            state=ReminderState.FAILED.value,
            last_error=error[:200],
        )
        return ReminderState.FAILED.value
    wait = timedelta(minutes=min(60, 2 ** (attempts - 1)))
    _finish(
        session,
        reminder.id,
        token,
        SENDING,
        state=PENDING,
        next_attempt_at=now + wait,
        last_error=error[:200],
    )
    return PENDING


def defer_rate_limited(session: Session, reminder_id: int, token: str, until: datetime) -> None:
    """Slack said 429: due again at `until` (its Retry-After); the attempt is not counted."""
    _finish(
        session,
        reminder_id,
        token,
        SENDING,
        state=PENDING,
        next_attempt_at=until,
        attempts=Reminder.attempts - 1,
        last_error="ratelimited",
    )


def release_claims(session: Session, token: str, until: datetime | None = None) -> int:
    """Give back what `token` claimed and has not begun to send (the pass stops early):
    pending again, due again at `until` if given."""
    result = session.execute(
        update(Reminder)
        .where(Reminder.claim_token == token, Reminder.state == CLAIMED)
        .values(state=PENDING, next_attempt_at=until, claim_token=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
