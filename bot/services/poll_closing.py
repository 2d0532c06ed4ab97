"""A poll's life after its votes: keeping its channel message current without one
update per vote, and closing it once (by the Close button or its closing time) with its
results posted once.

Each step is a conditional UPDATE on the poll's row, so two workers, two clicks or two
scheduler passes find one winner: the one update in flight (`refresh_claimed_at`, held
while it waits out the update interval), the one closer (`state`), the one poster of
the results (`results_state`: none -> pending -> claimed -> posted). A claimant that
died is replaced after its lease.

Closing keeps the poll's counts (per option, and how many voted) on the poll and its
options, in the transaction that records the close; for an anonymous poll it also
deletes its vote rows (the voters' keys) and every click it remembered, so from then on
nothing ties anyone to a choice, even with the app's secret in hand. A poll whose
community goes takes them with it (ON DELETE CASCADE).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from storage.models import Poll, PollClick, PollOption, PollState, PollVote

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
def keep_counts(session: Session, poll_id: int) -> None:
    """At the close: keep the counts and, for an anonymous poll, forget who voted (its
    vote rows and remembered clicks go). Runs in the closing transaction, after the
    conditional UPDATE that closed the poll locked its row, so no vote is in flight."""
    per_option = dict(
        session.exec(
            select(PollVote.option_id, func.count())
            .where(PollVote.poll_id == poll_id)
            .group_by(PollVote.option_id)
        ).all()
    )
    voters = session.exec(
        select(func.count(func.distinct(PollVote.voter))).where(PollVote.poll_id == poll_id)
    ).one()
    for option_id in session.exec(select(PollOption.id).where(PollOption.poll_id == poll_id)):
        session.execute(
            update(PollOption)
            .where(PollOption.id == option_id)
            .values(votes=per_option.get(option_id, 0))
        )
    session.execute(update(Poll).where(Poll.id == poll_id).values(voter_count=voters))
    anonymous = session.exec(select(Poll.anonymous).where(Poll.id == poll_id)).one()
    if anonymous:
        session.execute(delete(PollVote).where(PollVote.poll_id == poll_id))
    session.execute(delete(PollClick).where(PollClick.poll_id == poll_id))


def _close(session: Session, poll_id: int, closed_at) -> bool:
    result = session.execute(
        update(Poll)
        .where(Poll.id == poll_id, Poll.state == PollState.OPEN.value)
        .values(
            state=PollState.CLOSED.value,
            closed_at=closed_at,
            results_state="pending",
            version=Poll.version + 1,
        )
    )
    if result.rowcount != 1:
        return False
    keep_counts(session, poll_id)
    return True


def close(session: Session, poll_id: int, now: datetime) -> bool:
    """Close the poll now; False if it was closed already (one closer wins)."""
    return _close(session, poll_id, now)


def close_due(session: Session, now: datetime) -> int:
    """Close every open poll whose closing time has come (at that time); how many
    closed. Each is closed by the same conditional UPDATE, so two passes close it once."""
    due = session.exec(
        select(Poll.id).where(Poll.state == PollState.OPEN.value, Poll.closes_at <= now)
    ).all()
    return sum(_close(session, poll_id, Poll.closes_at) for poll_id in due)


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


def claim_total(session: Session, poll_id: int, *, results_out: bool = False) -> bool:
    """Claim posting the total of a poll asked in several communities in this poll's
    thread: once, and only when every poll of its group has closed (so a poll still open,
    its results hidden or not, adds nothing to a total anyone sees). `results_out`: only
    if this poll's own results are out or on their way (a pending one says it itself)."""
    sibling = aliased(Poll)
    still_open = exists().where(
        sibling.group_key == Poll.group_key, sibling.state == PollState.OPEN.value
    )
    where = [
        Poll.id == poll_id,
        Poll.state == PollState.CLOSED.value,
        Poll.total_posted.is_(False),
        ~still_open,
    ]
    if results_out:
        where.append(Poll.results_state != "pending")
    result = session.execute(update(Poll).where(*where).values(total_posted=True))
    return result.rowcount == 1


def release_total(session: Session, poll_id: int) -> None:
    """The total did not reach the thread (rate limited): a later post may claim it."""
    session.execute(update(Poll).where(Poll.id == poll_id).values(total_posted=False))


def release_results(session: Session, poll_id: int) -> None:
    """Give the results back (Slack rate limited their posting): the next pass posts them."""
    session.execute(
        update(Poll)
        .where(Poll.id == poll_id, Poll.results_state == "claimed")
        .values(results_state="pending", results_claimed_at=None)
    )


def results_posted(session: Session, poll_id: int) -> None:
    session.execute(update(Poll).where(Poll.id == poll_id).values(results_state="posted"))
