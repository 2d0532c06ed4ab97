"""Who gets call reminders how: each member (channel, also by DM, or off) and each
community's channel (any of a week, a day, an hour before); and what staff see of
reminders that could not go out."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlmodel import Session

from bot.services.reminders.kinds import OFFSET_NAMES
from storage.models import Community, Membership, Reminder, ReminderState


def set_call_reminders(session: Session, community: Community, chosen: list[str]) -> str:
    """Which call reminders a community's channel gets; planned channel reminders not
    chosen are void. Members who chose direct messages keep theirs: their choice wins."""
    order = [name for name in ("week", "day", "hour") if name in chosen]
    community.call_reminders = ",".join(order)
    session.add(community)
    dropped = [k for k, name in OFFSET_NAMES.items() if name not in order]
    if dropped:
        session.execute(
            update(Reminder)
            .where(
                Reminder.community_id == community.id,
                Reminder.kind.in_(dropped),
                Reminder.recipient.is_(None),
                Reminder.state == ReminderState.PENDING.value,
            )
            .values(state=ReminderState.VOID.value, last_error="not wanted")
            .execution_options(synchronize_session=False)
        )
    session.flush()
    return community.call_reminders


def set_preference(session: Session, community: Community, user_id: str, mode: str) -> bool:
    """How `user_id` gets call reminders in `community`: channel, dm or off."""
    membership = (
        session.execute(
            select(Membership).where(
                Membership.community_id == community.id, Membership.slack_user_id == user_id
            )
        )
        .scalars()
        .first()
    )
    if membership is None:
        return False
    membership.reminders = mode
    session.add(membership)
    session.flush()
    return True


def in_state(session: Session, state: ReminderState, limit: int = 20) -> list[Reminder]:
    """The latest reminders in `state` (failed: Slack refused them; missed), for staff."""
    return list(
        session.execute(
            select(Reminder)
            .where(Reminder.state == state.value)
            .order_by(Reminder.due_at.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )


def failures(session: Session, limit: int = 20) -> list[Reminder]:
    return in_state(session, ReminderState.FAILED, limit)


def missed(session: Session, limit: int = 20) -> list[Reminder]:
    return in_state(session, ReminderState.MISSED, limit)
