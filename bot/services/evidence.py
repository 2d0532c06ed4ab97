"""The evidence log (seed 001): Slack messages and notes a community keeps as evidence of
what it did, with who added them, when, and a permalink. It feeds the progress report."""

from __future__ import annotations

from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.services import CopError
from storage.models import Evidence

MAX_TEXT = 3000
BY_COPBOT = "copbot"  # `added_by` of items copbot adds itself (answers to the value questions)
PAGE = 20


def add_message(
    session: Session,
    community_id: int,
    *,
    channel: str,
    ts: str,
    text: str,
    author: str | None,
    added_by: str,
) -> tuple[Evidence, bool]:
    """Save a Slack message; (the item, False) when it was saved already."""
    item = Evidence(
        community_id=community_id,
        text=(text or "").strip()[:MAX_TEXT] or "(a message without text)",
        author=author,
        message_channel=channel,
        message_ts=ts,
        added_by=added_by,
    )
    try:
        with session.begin_nested():
            session.add(item)
            session.flush()
    except IntegrityError:
        existing = session.exec(
            select(Evidence).where(
                Evidence.community_id == community_id,
                Evidence.message_channel == channel,
                Evidence.message_ts == ts,
            )
        ).one()
        return existing, False
    return item, True


def add_note(session: Session, community_id: int, text: str, added_by: str) -> Evidence:
    text = (text or "").strip()
    if not text:
        raise CopError("Write the note after the command: `/cop evidence We ran our first …`.")
    if len(text) > MAX_TEXT:
        raise CopError(f"Keep a note to {MAX_TEXT} characters (it has {len(text)}).")
    item = Evidence(community_id=community_id, text=text, author=added_by, added_by=added_by)
    session.add(item)
    session.flush()
    return item


def set_permalink(session: Session, item_id: int, permalink: str) -> None:
    session.execute(
        update(Evidence)
        .where(Evidence.id == item_id, Evidence.permalink.is_(None))
        .values(permalink=permalink)
        .execution_options(synchronize_session=False)
    )


def items(session: Session, community_id: int, limit: int = PAGE) -> list[Evidence]:
    """The latest items first."""
    return list(
        session.exec(
            select(Evidence)
            .where(Evidence.community_id == community_id)
            .order_by(Evidence.added_at.desc(), Evidence.id.desc())
            .limit(limit)
        ).all()
    )


def count(session: Session, community_id: int) -> int:
    return session.exec(
        select(func.count()).select_from(Evidence).where(Evidence.community_id == community_id)
    ).one()


def remove(session: Session, community_id: int, item_id: int) -> bool:
    """Remove the item if it is this community's; False when it is not there (any more)."""
    result = session.execute(
        delete(Evidence)
        .where(Evidence.id == item_id, Evidence.community_id == community_id)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount > 0
