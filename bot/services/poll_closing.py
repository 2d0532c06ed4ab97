"""A poll's life after its votes: keeping its channel message current without one
update per vote, and closing it once (by the Close button or its closing time) with its
results posted once.

Each step is a conditional UPDATE on the poll's row, so two workers, two clicks or two
scheduler passes find one winner: the one update in flight (`refresh_claimed_at`, held
while it waits out the update interval), the one closer (`state`), the one poster of
the results (`results_state`: none -> pending -> claimed -> posted). A claimant that
died is replaced after its lease.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, select

from storage.models import Poll, PollState

REFRESH_LEASE = timedelta(seconds=30)
RESULTS_LEASE = timedelta(minutes=5)


def claim_refresh(session: Session, poll_id: int, now: datetime) -> int | None:
    """Claim the poll's message update if it is behind and no update is in flight;
    returns the version to show, or None. A read first spares the busy poll's row a
    write when an update is in flight already (the usual case)."""
    row = session.exec(
        select(Poll.version, Poll.shown_version, Poll.refresh_claimed_at).where(Poll.id == poll_id)
    ).first()
    if row is None or row[1] >= row[0] or (row[2] is not None and row[2] >= now - REFRESH_LEASE):
        session.rollback()
        return None
    session.rollback()  # the claim below starts a fresh transaction (SQLite: no stale read)
    result = session.execute(
        update(Poll)
        .where(
            Poll.id == poll_id,
            Poll.shown_version < Poll.version,
            Poll.message_ts.is_not(None),
            or_(Poll.refresh_claimed_at.is_(None), Poll.refresh_claimed_at < now - REFRESH_LEASE),
        )
        .values(refresh_claimed_at=now)
    )
    if result.rowcount != 1:
        return None
    return session.exec(select(Poll.version).where(Poll.id == poll_id)).one()


def refreshed(session: Session, poll_id: int, version: int | None) -> None:
    """The message now shows `version` (or later): release the claim. None: the update
    did not reach Slack (rate limited), so the message is still behind."""
    shown = {} if version is None else {"shown_version": version}
    session.execute(update(Poll).where(Poll.id == poll_id).values(refresh_claimed_at=None, **shown))


def behind(session: Session, now: datetime) -> list[int]:
    """Open polls whose message is behind and has no live update in flight (its worker
    died): the scheduler brings them up to date."""
    return list(
        session.exec(
            select(Poll.id).where(
                Poll.state == PollState.OPEN.value,
                Poll.shown_version < Poll.version,
                Poll.message_ts.is_not(None),
                or_(
                    Poll.refresh_claimed_at.is_(None),
                    Poll.refresh_claimed_at < now - REFRESH_LEASE,
                ),
            )
        ).all()
    )


# ---- closing -------------------------------------------------------------------------------
def close(session: Session, poll_id: int, now: datetime) -> bool:
    """Close the poll now; False if it was closed already (one closer wins)."""
    result = session.execute(
        update(Poll)
        .where(Poll.id == poll_id, Poll.state == PollState.OPEN.value)
        .values(
            state=PollState.CLOSED.value,
            closed_at=now,
            results_state="pending",
            version=Poll.version + 1,
        )
    )
    return result.rowcount == 1


def close_due(session: Session, now: datetime) -> int:
    """Close every open poll whose closing time has come; how many closed."""
    result = session.execute(
        update(Poll)
        .where(Poll.state == PollState.OPEN.value, Poll.closes_at <= now)
        .values(
            state=PollState.CLOSED.value,
            closed_at=Poll.closes_at,
            results_state="pending",
            version=Poll.version + 1,
        )
    )
    return result.rowcount


def results_due(session: Session, now: datetime) -> list[int]:
    """Closed polls whose results are to be posted (or whose poster died)."""
    return list(
        session.exec(
            select(Poll.id).where(
                or_(
                    Poll.results_state == "pending",
                    (Poll.results_state == "claimed")
                    & (Poll.results_claimed_at < now - RESULTS_LEASE),
                )
            )
        ).all()
    )


def claim_results(session: Session, poll_id: int, now: datetime) -> bool:
    """Claim the posting of a closed poll's results; one claimant wins."""
    result = session.execute(
        update(Poll)
        .where(
            Poll.id == poll_id,
            or_(
                Poll.results_state == "pending",
                (Poll.results_state == "claimed") & (Poll.results_claimed_at < now - RESULTS_LEASE),
            ),
        )
        .values(results_state="claimed", results_claimed_at=now)
    )
    return result.rowcount == 1


def release_results(session: Session, poll_id: int) -> None:
    """Give the results back (Slack rate limited their posting): the next pass posts them."""
    session.execute(
        update(Poll)
        .where(Poll.id == poll_id, Poll.results_state == "claimed")
        .values(results_state="pending", results_claimed_at=None)
    )


def results_posted(session: Session, poll_id: int) -> None:
    session.execute(update(Poll).where(Poll.id == poll_id).values(results_state="posted"))
