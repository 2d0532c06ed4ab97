"""Announcements: staff's message to one, several or every community, sent now or at a
set time, with one AnnouncementCopy per channel so an edit or a delete reaches them all.

Who sends, and when, is decided by conditional UPDATEs: a draft becomes scheduled or
sending once (a replayed submission finds it moved on), one scheduler pass claims a due
announcement, and each copy is claimed before it is posted, so no channel gets it twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, select

from bot.ops import metrics
from bot.services import CopError
from storage.models import (
    Announcement,
    AnnouncementCopy,
    AnnouncementState,
    Community,
    PurposeArea,
)

MAX_TEXT = 3000  # what a person can type in the modal; escaped, it may be longer
MENTIONS = ("", "here", "channel")
# a sending pass that claimed an announcement and died is replaced after this
SEND_LEASE = timedelta(minutes=10)
ALL = "all"

TEXT = "announce_text"
TARGETS = "announce_targets"
AREA = "announce_area"
SEND_AT = "announce_send_at"
MENTION = "announce_mention"
OPTIONS = "announce_options"


@dataclass(frozen=True)
class AnnouncementDraft:
    text: str
    community_ids: tuple[int, ...]
    mention: str
    pin: bool
    send_at: datetime | None


def targets(session: Session, team_id: str, picked: list[str], area: str | None) -> list[Community]:
    """The communities named by the picks ("all", community ids) and a purpose area."""
    every = [c for c in session.exec(select(Community).order_by(Community.name_key)).all()]
    every = [c for c in every if c.team_id == team_id]
    if ALL in picked:
        return every
    try:
        ids = {int(p) for p in picked}
    except ValueError:
        raise CopError("That community is not one copbot knows.") from None
    chosen = [c for c in every if c.id in ids]
    if len(chosen) != len(ids):
        raise CopError("One of those communities no longer exists.")
    if area:
        try:
            wanted = PurposeArea(area)
        except ValueError:
            raise CopError("That purpose area is not one copbot knows.") from None
        chosen += [c for c in every if wanted in c.areas and c not in chosen]
    return chosen


def validate(
    text: str,
    communities: list[Community],
    mention: str,
    pin: bool,
    send_at: datetime | None,
    now: datetime,
) -> tuple[AnnouncementDraft | None, dict[str, str]]:
    errors: dict[str, str] = {}
    text = text.strip()
    if not text:
        errors[TEXT] = "Write the announcement."
    elif len(text) > MAX_TEXT:
        errors[TEXT] = (
            f"An announcement can be up to {MAX_TEXT} characters (this one has {len(text)}): "
            "split it into two."
        )
    if not communities:
        errors[TARGETS] = "Pick at least one community, every community, or a purpose area."
    if mention not in MENTIONS:
        errors[MENTION] = "Pick no mention, @here or @channel."
    if send_at is not None and send_at <= now:
        errors[SEND_AT] = "That time is in the past: pick a later one, or leave it empty."
    if errors:
        return None, errors
    draft = AnnouncementDraft(
        text=text,
        community_ids=tuple(c.id for c in communities),
        mention=mention,
        pin=pin,
        send_at=send_at,
    )
    return draft, {}


def create(
    session: Session,
    team_id: str,
    draft: AnnouncementDraft,
    user_id: str,
    zone: str,
    source: str | None = None,
) -> Announcement:
    """A draft; the same `source` (form) again raises IntegrityError."""
    announcement = Announcement(
        source=source,
        team_id=team_id,
        text=draft.text,
        mention=draft.mention,
        pin=draft.pin,
        send_at=draft.send_at,
        timezone=zone,
        created_by=user_id,
    )
    session.add(announcement)
    session.flush()
    _set_copies(session, announcement, draft.community_ids)
    return announcement


def draft_from_form(
    session: Session,
    team_id: str,
    draft: AnnouncementDraft,
    user_id: str,
    zone: str,
    source: str,
) -> Announcement:
    """The draft of the form `source`: made on its first submission; submitted again
    (a replay, or after Back from the preview) it is the same draft with the form's
    values. Once confirmed, the form can no longer change it."""
    existing = by_source(session, source)
    if existing is None:
        return create(session, team_id, draft, user_id, zone, source)
    if existing.state != AnnouncementState.DRAFT.value or existing.created_by != user_id:
        raise CopError("This form went out already; change it from copbot's Home tab.")
    existing.text, existing.mention = draft.text, draft.mention
    existing.pin, existing.send_at = draft.pin, draft.send_at
    session.add(existing)
    _set_copies(session, existing, draft.community_ids)
    return existing


def _set_copies(session: Session, announcement: Announcement, community_ids) -> None:
    for old in session.exec(
        select(AnnouncementCopy).where(AnnouncementCopy.announcement_id == announcement.id)
    ).all():
        session.delete(old)
    session.flush()
    for cid in community_ids:
        community = session.get(Community, cid)
        session.add(
            AnnouncementCopy(
                announcement_id=announcement.id,
                community_id=cid,
                channel=community.slack_channel_id,
            )
        )
    session.flush()


def by_source(session: Session, source: str) -> Announcement | None:
    return session.exec(select(Announcement).where(Announcement.source == source)).first()


def load(session: Session, announcement_id: int) -> Announcement:
    announcement = session.get(Announcement, announcement_id)
    if announcement is None:
        raise CopError("That announcement no longer exists.")
    return announcement


def confirm(session: Session, announcement_id: int, now: datetime) -> str | None:
    """Move a draft on: to scheduled (it has a send time) or sending (claimed now).
    Returns the new state, or None when it had moved on already (a replay)."""
    announcement = load(session, announcement_id)
    state = AnnouncementState.SCHEDULED if announcement.send_at else AnnouncementState.SENDING
    result = session.execute(
        update(Announcement)
        .where(
            Announcement.id == announcement_id,
            Announcement.state == AnnouncementState.DRAFT.value,
        )
        .values(state=state.value, claimed_at=now if state == AnnouncementState.SENDING else None)
    )
    return state.value if result.rowcount == 1 else None


def claim_next(session: Session, now: datetime) -> int | None:
    """Claim one scheduled announcement whose time has come (or whose sender died), by a
    conditional UPDATE: each is claimed by one pass. None when none is left."""
    due = or_(
        (Announcement.state == AnnouncementState.SCHEDULED.value) & (Announcement.send_at <= now),
        (Announcement.state == AnnouncementState.SENDING.value)
        & (Announcement.claimed_at < now - SEND_LEASE),
    )
    for announcement_id in session.exec(
        select(Announcement.id).where(due).order_by(Announcement.id)
    ).all():
        result = session.execute(
            update(Announcement)
            .where(Announcement.id == announcement_id, due)
            .values(state=AnnouncementState.SENDING.value, claimed_at=now)
        )
        if result.rowcount != 1:
            continue  # another pass claimed it first
        # copies a dead sender was posting: whether they went out is unknown, staff may Retry
        session.execute(
            update(AnnouncementCopy)
            .where(
                AnnouncementCopy.announcement_id == announcement_id,
                AnnouncementCopy.state == "posting",
            )
            .values(state="failed", error="interrupted")
        )
        return announcement_id
    return None


def claim_copy(session: Session, copy_id: int) -> bool:
    result = session.execute(
        update(AnnouncementCopy)
        .where(AnnouncementCopy.id == copy_id, AnnouncementCopy.state == "pending")
        .values(state="posting")
    )
    return result.rowcount == 1


def copy_done(session: Session, copy_id: int, ts: str | None, error: str | None) -> None:
    values = (
        {"state": "posted", "ts": ts, "error": None} if ts else {"state": "failed", "error": error}
    )
    session.execute(update(AnnouncementCopy).where(AnnouncementCopy.id == copy_id).values(**values))
    metrics.announcement_copy("sent" if ts else "failed")


def copies(session: Session, announcement_id: int) -> list[AnnouncementCopy]:
    return list(
        session.exec(
            select(AnnouncementCopy)
            .where(AnnouncementCopy.announcement_id == announcement_id)
            .order_by(AnnouncementCopy.id)
        ).all()
    )


def finish(session: Session, announcement_id: int, now: datetime) -> None:
    session.execute(
        update(Announcement)
        .where(
            Announcement.id == announcement_id,
            Announcement.state == AnnouncementState.SENDING.value,
        )
        .values(state=AnnouncementState.SENT.value, sent_at=now)
    )


def retry_failed(session: Session, announcement_id: int) -> int:
    """Put the failed copies back to pending; how many."""
    result = session.execute(
        update(AnnouncementCopy)
        .where(
            AnnouncementCopy.announcement_id == announcement_id,
            AnnouncementCopy.state == "failed",
        )
        .values(state="pending", error=None)
    )
    return result.rowcount


def edit(session: Session, announcement_id: int, draft: AnnouncementDraft, now: datetime) -> str:
    """Change an announcement: a scheduled one entirely, if it has not started going
    out (the database decides); else its text and mention, whose copies are then
    updated. Returns the state it is in."""
    if draft.send_at is not None:
        result = session.execute(
            update(Announcement)
            .where(
                Announcement.id == announcement_id,
                Announcement.state == AnnouncementState.SCHEDULED.value,
            )
            .values(text=draft.text, mention=draft.mention, pin=draft.pin, send_at=draft.send_at)
        )
        if result.rowcount == 1:
            _set_copies(session, load(session, announcement_id), draft.community_ids)
            return AnnouncementState.SCHEDULED.value
    announcement = load(session, announcement_id)
    if announcement.state == AnnouncementState.SCHEDULED.value:
        raise CopError("Pick a send time for a scheduled announcement (or cancel it).")
    if announcement.state not in (AnnouncementState.SENDING.value, AnnouncementState.SENT.value):
        raise CopError("That announcement was cancelled or deleted; write a new one.")
    session.execute(
        update(Announcement)
        .where(Announcement.id == announcement_id)
        .values(text=draft.text, mention=draft.mention, edited_at=now)
    )
    return announcement.state


def cancel_or_delete(session: Session, announcement_id: int) -> str | None:
    """Cancel a scheduled announcement or mark a sent one deleted (its copies are then
    removed). Returns the new state, or None when there was nothing to do."""
    for before, after in (
        (AnnouncementState.SCHEDULED, AnnouncementState.CANCELLED),
        (AnnouncementState.DRAFT, AnnouncementState.CANCELLED),
        (AnnouncementState.SENT, AnnouncementState.DELETED),
    ):
        result = session.execute(
            update(Announcement)
            .where(Announcement.id == announcement_id, Announcement.state == before.value)
            .values(state=after.value)
        )
        if result.rowcount == 1:
            return after.value
    return None


def delivery_line(items: list[AnnouncementCopy], names: dict[int, str]) -> str:
    """How many channels got it, which failed and why."""
    states = Counter(c.state for c in items)
    total = len(items)
    parts = [f"in {states['posted']} of {total} channels"]
    failed = [c for c in items if c.state == "failed"]
    if failed:
        shown = ", ".join(f"{names.get(c.community_id, c.channel)} ({c.error})" for c in failed[:8])
        more = f" and {len(failed) - 8} more" if len(failed) > 8 else ""
        parts.append(f"failed: {shown}{more}")
    waiting = states["pending"] + states["posting"]
    if waiting:
        parts.append(f"{waiting} still to post")
    if states["deleted"]:
        parts.append(f"{states['deleted']} deleted")
    return "; ".join(parts)


def listed(session: Session, limit: int = 10) -> list[Announcement]:
    """The latest announcements (sent, sending, scheduled) for staff's App Home."""
    return list(
        session.exec(
            select(Announcement)
            .where(
                Announcement.state.in_(
                    [
                        AnnouncementState.SCHEDULED.value,
                        AnnouncementState.SENDING.value,
                        AnnouncementState.SENT.value,
                    ]
                ),
            )
            .order_by(Announcement.created_at.desc())
            .limit(limit)
        ).all()
    )
