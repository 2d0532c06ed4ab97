"""Shared learning opportunities (seed 002): `/cop share URL [note]` with an optional
date and region, and the monthly digest leaders can turn on, sent once a month (the
month is claimed community by community with a conditional UPDATE, so two scheduler
passes never both send one)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.services import CopError
from bot.text import safe_url
from storage.models import Share, ShareDigest

FORM = (
    "Share a link like this: `/cop share https://example.org/webinar A free webinar on "
    "survivorship care date:2027-03-04 region:Midwest` (the note, date and region are "
    "optional; links start with http:// or https://)."
)
MAX_NOTE = 1000
_DATE = re.compile(r"(?:^|\s)date:(\S+)")
_REGION = re.compile(r"(?:^|\s)region:(.+?)(?=\s+date:|$)")


@dataclass(frozen=True)
class ShareForm:
    url: str
    note: str
    event_date: date | None
    region: str | None


def parse(args: str) -> ShareForm:
    """`URL [note] [date:YYYY-MM-DD] [region:Name]`; CopError showing the form if not."""
    text = (args or "").strip()
    if not text:
        raise CopError(FORM)
    first, _, rest = text.partition(" ")
    # Slack sends links in a command's text as <url> or <url|label>
    if first.startswith("<") and first.endswith(">"):
        first = first[1:-1].split("|", 1)[0]
    url = safe_url(first)
    if url is None:
        raise CopError(f"That is not an http(s) link. {FORM}")
    event_date = None
    if match := _DATE.search(rest):
        try:
            event_date = date.fromisoformat(match.group(1))
        except ValueError:
            raise CopError(
                f"`date:{match.group(1)[:20]}` is not a date like 2027-03-04. {FORM}"
            ) from None
        rest = _DATE.sub(" ", rest, count=1)
    region = None
    if match := _REGION.search(rest):
        region = re.sub(r"\s+", " ", match.group(1)).strip()[:80] or None
        rest = _REGION.sub(" ", rest, count=1)
    note = re.sub(r"[ \t]+", " ", rest).strip()
    if len(note) > MAX_NOTE:
        raise CopError(f"Keep the note to {MAX_NOTE} characters (it has {len(note)}).")
    return ShareForm(url, note, event_date, region)


def add(session: Session, community_id: int, form: ShareForm, user_id: str) -> Share:
    share = Share(
        community_id=community_id,
        url=form.url,
        note=form.note,
        event_date=form.event_date,
        region=form.region,
        shared_by=user_id,
    )
    session.add(share)
    session.flush()
    return share


def set_digest(session: Session, community_id: int, enabled: bool, user_id: str) -> None:
    row = session.get(ShareDigest, community_id)
    if row is None:
        row = ShareDigest(community_id=community_id, enabled=enabled, updated_by=user_id)
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
            return
        except IntegrityError:
            row = session.get(ShareDigest, community_id)
    row.enabled, row.updated_by = enabled, user_id
    session.add(row)
    session.flush()


def digest_enabled(session: Session, community_id: int) -> bool:
    row = session.get(ShareDigest, community_id)
    return bool(row and row.enabled)


def previous_month(now: datetime, zone: ZoneInfo) -> tuple[str, datetime, datetime]:
    """('YYYY-MM' of the month before `now`'s, its first instant, the next month's)."""
    local = now.astimezone(zone).date()
    end = date(local.year, local.month, 1)
    start = date(end.year - (end.month == 1), 12 if end.month == 1 else end.month - 1, 1)
    return (
        f"{start:%Y-%m}",
        datetime.combine(start, time(), tzinfo=zone),
        datetime.combine(end, time(), tzinfo=zone),
    )


def _digest_due(month: str):
    return and_(
        ShareDigest.enabled.is_(True),
        or_(ShareDigest.last_month.is_(None), ShareDigest.last_month < month),
    )


def due_digests(session: Session, month: str) -> list[tuple[int, str | None]]:
    """The communities whose digest for `month` is still to send, each with the month it
    last had (what `claim_digest` compares and `give_back_digest` restores)."""
    rows = session.execute(
        select(ShareDigest.community_id, ShareDigest.last_month)
        .where(_digest_due(month))
        .order_by(ShareDigest.community_id)
    ).all()
    return [(community_id, before) for community_id, before in rows]


def _last_month_is(before: str | None):
    if before is None:
        return ShareDigest.last_month.is_(None)
    return ShareDigest.last_month == before


def claim_digest(session: Session, community_id: int, month: str, before: str | None) -> bool:
    """Claim the community's digest for `month`: a conditional UPDATE from the month it
    had, so of two passes (or two processes) exactly one gets True and sends it."""
    taken = session.execute(
        update(ShareDigest)
        .where(
            ShareDigest.community_id == community_id,
            _digest_due(month),
            _last_month_is(before),
        )
        .values(last_month=month)
        .returning(ShareDigest.community_id)
        .execution_options(synchronize_session=False)
    ).first()
    return taken is not None


def give_back_digest(session: Session, community_id: int, month: str, before: str | None) -> bool:
    """Slack did not take the digest (rate limited): it is due again, as before the claim."""
    result = session.execute(
        update(ShareDigest)
        .where(ShareDigest.community_id == community_id, ShareDigest.last_month == month)
        .values(last_month=before)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def in_month(session: Session, community_id: int, start: datetime, end: datetime) -> list[Share]:
    return list(
        session.exec(
            select(Share)
            .where(
                Share.community_id == community_id,
                Share.shared_at >= start,
                Share.shared_at < end,
            )
            .order_by(Share.shared_at)
        ).all()
    )


def count_between(session: Session, community_id: int, start: datetime, end: datetime) -> int:
    """Shares of the community in [start, end)."""
    return session.exec(
        select(func.count())
        .select_from(Share)
        .where(
            Share.community_id == community_id,
            Share.shared_at >= start,
            Share.shared_at < end,
        )
    ).one()
