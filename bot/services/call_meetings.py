"""The Zoom meeting of a call: claiming its making, storing it, giving the claim back
(for a retry, or until a host's daily limit resets) and dropping it to be made again.

The meeting of a call is claimed by one worker at a time (a conditional UPDATE) and
stored only while the call is still scheduled, so a cancel and a store exclude each
other.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlmodel import Session, select

from storage.models import Call, CallRegistration, CallStatus, MeetingState, utcnow

# a claim on a call's meeting is taken over only after this, or after the longest a
# create can take (retries included) and a minute more, whichever is longer
MIN_CLAIM_TIMEOUT = timedelta(minutes=2)


def claim_timeout(longest_create_seconds: float) -> timedelta:
    """How long a claim holds: longer than the longest create, retries included."""
    return max(MIN_CLAIM_TIMEOUT, timedelta(seconds=longest_create_seconds + 60))


def claim_meeting(
    session: Session,
    call_id: int,
    now: datetime | None = None,
    *,
    timeout: timedelta = MIN_CLAIM_TIMEOUT,
) -> bool:
    """Claim the making of a call's meeting: True for exactly one caller at a time.

    A claim older than `timeout` (a worker that died) may be taken over; pass
    `claim_timeout(...)` of the conferencing in use, so that a live create is never
    taken over.
    """
    now = now or utcnow()
    result = session.execute(
        update(Call)
        .where(
            Call.id == call_id,
            Call.status == CallStatus.SCHEDULED.value,
            or_(Call.meeting_not_before.is_(None), Call.meeting_not_before <= now),
            or_(
                Call.meeting_state == MeetingState.PENDING.value,
                (Call.meeting_state == MeetingState.CREATING.value)
                & (Call.meeting_claimed_at < now - timeout),
            ),
        )
        .values(meeting_state=MeetingState.CREATING.value, meeting_claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def meeting_made(
    session: Session,
    call_id: int,
    meeting_id: int,
    join_url: str,
    passcode: str,
    registration: bool = False,
) -> bool:
    """Store the meeting made for a claimed call; False (nothing stored) when the call was
    cancelled meanwhile or the claim was lost, and the meeting must then be deleted.
    The cancel's conditional UPDATE and this one exclude each other: a meeting is either
    stored before the cancel (which then deletes it) or refused here."""
    stored = session.execute(
        update(Call)
        .where(
            Call.id == call_id,
            Call.status == CallStatus.SCHEDULED.value,
            Call.meeting_state == MeetingState.CREATING.value,
        )
        .values(
            meeting_id=meeting_id,
            join_url=join_url,
            passcode=passcode,
            meeting_state=MeetingState.READY.value,
            meeting_error=None,
            meeting_not_before=None,
            registration="on" if registration else "off",
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    return stored == 1


def meeting_failed(session: Session, call_id: int, error: str) -> None:
    """Give the claim back with the reason, so that Retry can try again."""
    session.execute(
        update(Call)
        .where(Call.id == call_id, Call.meeting_state == MeetingState.CREATING.value)
        .values(meeting_state=MeetingState.PENDING.value, meeting_error=error[:2000])
        .execution_options(synchronize_session=False)
    )


def meeting_deferred(session: Session, call_id: int, until: datetime, error: str) -> None:
    """Give the claim back until `until` (the host's daily limit resets at 00:00 UTC):
    no worker makes the meeting before then, the scheduler does after."""
    session.execute(
        update(Call)
        .where(Call.id == call_id, Call.meeting_state == MeetingState.CREATING.value)
        .values(
            meeting_state=MeetingState.PENDING.value,
            meeting_not_before=until,
            meeting_error=error[:2000],
        )
        .execution_options(synchronize_session=False)
    )


def meeting_dropped(session: Session, call_id: int, meeting_id: int) -> bool:
    """The call's meeting is to be made again (its host changed, or could not move it
    today): forget it and the registrations for it, so that the next `claim_meeting`
    makes a new one and everyone is registered for that. False when the call no longer
    holds that meeting."""
    dropped = (
        session.execute(
            update(Call)
            .where(
                Call.id == call_id,
                Call.meeting_id == meeting_id,
                Call.meeting_state == MeetingState.READY.value,
            )
            .values(
                meeting_state=MeetingState.PENDING.value,
                meeting_id=None,
                join_url=None,
                passcode=None,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )
    if dropped:
        session.execute(
            delete(CallRegistration)
            .where(CallRegistration.call_id == call_id)
            .execution_options(synchronize_session=False)
        )
    return dropped


def deferred_meetings(session: Session, now: datetime, limit: int = 200) -> list[int]:
    """Calls whose meeting waited for a host's daily limit to reset and may be made now."""
    return list(
        session.exec(
            select(Call.id)
            .where(
                Call.status == CallStatus.SCHEDULED.value,
                Call.meeting_state == MeetingState.PENDING.value,
                Call.meeting_not_before.is_not(None),
                Call.meeting_not_before <= now,
                Call.start_at > now,
            )
            .order_by(Call.start_at)
            .limit(limit)
        ).all()
    )
