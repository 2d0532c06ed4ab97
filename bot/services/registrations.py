"""Registrations: each member and leader registered for a call's meeting, so they join
with a link of their own and Zoom tells copbot afterwards who came (its participants carry
the `registrant_id` of the link they used, and the email they registered with, even for
people from outside the Zoom account, whose emails Zoom otherwise hides).

One row per call and person (`uq_call_registration`): two workers registering the same
person, or a join and a call move at once, store one registration; Zoom answers the same
registrant for an email asked twice, so the losing request changes nothing there either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, select

from bot.services.after_call_jobs import insert_ignoring_duplicates
from storage.models import (
    Call,
    CallRegistration,
    CallStatus,
    MeetingState,
    Membership,
    Person,
    RegistrationState,
    new_token,
)

ON, OFF = "on", "off"


@dataclass(frozen=True)
class Wanted:
    """Someone to register: their Slack id, the email of their Slack profile (None when
    Slack would not give it) and their name."""

    slack_user_id: str
    email: str | None
    first_name: str
    last_name: str


def split_name(person: Person | None, fallback: str) -> tuple[str, str]:
    """First and last name for Zoom's registration, from the Slack profile."""
    full = ((person.real_name or person.display_name) if person else "") or fallback
    first, _, last = full.strip().partition(" ")
    return first or fallback, last.strip()


def personal_links(call: Call) -> bool:
    """Each person joins the call's meeting with a link of their own (registration)."""
    return call.registration == ON and call.status == CallStatus.SCHEDULED.value


def open_for_registration(call: Call | None) -> bool:
    """A call whose meeting takes registrations: scheduled, made, registration on."""
    return (
        call is not None
        and call.status == CallStatus.SCHEDULED.value
        and call.meeting_state == MeetingState.READY.value
        and call.meeting_id is not None
        and call.registration == ON
    )


def wanted(session: Session, call: Call, only: list[str] | None = None) -> list[Wanted]:
    """The community's leaders and members (or those of `only` who are) not registered
    for the call yet, with what Slack's profile says of them."""
    query = select(Membership.slack_user_id).where(Membership.community_id == call.community_id)
    if only is not None:
        query = query.where(Membership.slack_user_id.in_(only))
    uids = set(session.exec(query).all())
    if only is not None:
        uids |= set(only)  # someone who clicked Join without being a member yet
    done = set(
        session.exec(
            select(CallRegistration.slack_user_id).where(
                CallRegistration.call_id == call.id,
                CallRegistration.state == RegistrationState.REGISTERED.value,
            )
        ).all()
    )
    found = []
    for uid in sorted(uids - done):
        person = session.get(Person, uid)
        first, last = split_name(person, uid)
        email = (person.email or "").strip() if person else ""
        found.append(Wanted(uid, email or None, first, last))
    return found


def store(session: Session, call_id: int, seats: dict[str, tuple[str, str]], now: datetime) -> None:
    """Keep registrations: Slack user id -> (registrant id, join link). A row another
    worker stored first is kept as it is; a cancelled or email-less one becomes this."""
    at = now
    rows = [
        {
            "call_id": call_id,
            "slack_user_id": uid,
            "state": RegistrationState.REGISTERED.value,
            "registrant_id": rid,
            "join_url": url,
            "calendar_token": new_token(),
            "updated_at": at,
        }
        for uid, (rid, url) in sorted(seats.items())
    ]
    insert_ignoring_duplicates(session, CallRegistration, rows)
    for uid, (rid, url) in sorted(seats.items()):
        session.execute(
            update(CallRegistration)
            .where(
                CallRegistration.call_id == call_id,
                CallRegistration.slack_user_id == uid,
                CallRegistration.state != RegistrationState.REGISTERED.value,
            )
            .values(
                state=RegistrationState.REGISTERED.value,
                registrant_id=rid,
                join_url=url,
                calendar_token=func.coalesce(CallRegistration.calendar_token, new_token()),
                updated_at=at,
            )
            .execution_options(synchronize_session=False)
        )
    session.flush()


def calendar_tokens(session: Session, call_ids: list[int], user_id: str) -> dict[int, str]:
    """Call id -> the token of the person's own .ics, for the calls they are registered for."""
    if not call_ids:
        return {}
    rows = session.exec(
        select(CallRegistration.call_id, CallRegistration.calendar_token).where(
            CallRegistration.call_id.in_(call_ids),
            CallRegistration.slack_user_id == user_id,
            CallRegistration.state == RegistrationState.REGISTERED.value,
            CallRegistration.calendar_token.is_not(None),
        )
    ).all()
    return {call_id: token for call_id, token in rows}


def by_calendar_token(session: Session, token: str) -> CallRegistration | None:
    """The registration whose own .ics `token` names, while it stands."""
    return session.exec(
        select(CallRegistration).where(
            CallRegistration.calendar_token == token,
            CallRegistration.state == RegistrationState.REGISTERED.value,
        )
    ).first()


def note_no_email(session: Session, call_id: int, uids: list[str]) -> None:
    """People Slack gave no email for: nothing to register them with (yet)."""
    insert_ignoring_duplicates(
        session,
        CallRegistration,
        [
            {"call_id": call_id, "slack_user_id": uid, "state": RegistrationState.NO_EMAIL.value}
            for uid in sorted(set(uids))
        ],
    )


def of(session: Session, call_id: int, user_id: str) -> CallRegistration | None:
    return session.exec(
        select(CallRegistration).where(
            CallRegistration.call_id == call_id, CallRegistration.slack_user_id == user_id
        )
    ).first()


def own_links(session: Session, call_ids: list[int], user_id: str) -> dict[int, str]:
    """Call id -> the person's own join link, for the calls they are registered for."""
    if not call_ids:
        return {}
    rows = session.exec(
        select(CallRegistration.call_id, CallRegistration.join_url).where(
            CallRegistration.call_id.in_(call_ids),
            CallRegistration.slack_user_id == user_id,
            CallRegistration.state == RegistrationState.REGISTERED.value,
        )
    ).all()
    return {cid: url for cid, url in rows if url}


def personal_link(session: Session, call_id: int, user_id: str) -> str | None:
    """The person's own join link for the call, if they are registered."""
    row = of(session, call_id, user_id)
    if row is None or row.state != RegistrationState.REGISTERED.value:
        return None
    return row.join_url


def by_registrant(session: Session, call_id: int) -> dict[str, str]:
    """Zoom registrant id -> Slack user id, for the call's registrations (cancelled ones
    too: someone who came and left the community since is still who came)."""
    rows = session.exec(
        select(CallRegistration.registrant_id, CallRegistration.slack_user_id).where(
            CallRegistration.call_id == call_id, CallRegistration.registrant_id.is_not(None)
        )
    ).all()
    return {rid: uid for rid, uid in rows}


def upcoming_calls(session: Session, community_id: int, now: datetime) -> list[int]:
    """The community's calls still to come whose meetings take registrations."""
    return list(
        session.exec(
            select(Call.id)
            .where(
                Call.community_id == community_id,
                Call.status == CallStatus.SCHEDULED.value,
                Call.meeting_state == MeetingState.READY.value,
                Call.registration == ON,
                Call.start_at > now,
            )
            .order_by(Call.start_at)
        ).all()
    )


def cancel(session: Session, call_id: int, user_id: str, now: datetime) -> str | None:
    """Mark the person's registration cancelled; the registrant id to cancel in Zoom, or
    None when it was not registered (or another worker cancelled it first)."""
    row = of(session, call_id, user_id)
    if row is None or row.state != RegistrationState.REGISTERED.value:
        return None
    won = session.execute(
        update(CallRegistration)
        .where(
            CallRegistration.id == row.id,
            CallRegistration.state == RegistrationState.REGISTERED.value,
        )
        .values(state=RegistrationState.CANCELLED.value, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return row.registrant_id if won else None


def calls_to_move_over(session: Session, now: datetime, limit: int = 20) -> list[int]:
    """Calls still to come whose meetings were made with one shared link."""
    return list(
        session.exec(
            select(Call.id)
            .where(
                Call.status == CallStatus.SCHEDULED.value,
                Call.meeting_state == MeetingState.READY.value,
                Call.meeting_id.is_not(None),
                Call.registration == OFF,
                Call.start_at > now,
            )
            .order_by(Call.start_at)
            .limit(limit)
        ).all()
    )


def claim_move_over(session: Session, call_id: int) -> bool:
    """One worker turns registration on for a call's meeting (a conditional UPDATE)."""
    return bool(
        session.execute(
            update(Call)
            .where(Call.id == call_id, Call.registration == OFF)
            .values(registration=ON)
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def give_back_move_over(session: Session, call_id: int) -> None:
    session.execute(
        update(Call)
        .where(Call.id == call_id)
        .values(registration=OFF)
        .execution_options(synchronize_session=False)
    )
