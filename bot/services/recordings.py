"""A call's archive: its recording (from Zoom), and the slides and readings leaders add.

Each is one row per call, kind and link (a unique key: a webhook, its retries and a
polling pass archive a recording once). Whoever posts an item in the call's thread first
claims it with a conditional UPDATE, so it is posted once. The archive of a community
lists these by call, with the links kept on the call itself (the host's after-call form).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import update
from sqlmodel import Session, select

from bot.services import CopError
from bot.services.after_call_jobs import insert_ignoring_duplicates
from bot.text import safe_url
from integrations.after_call import Recording
from storage.models import Call, CallResource, CallStatus

RECORDING, SLIDES, READING = "recording", "slides", "reading"
KINDS = (SLIDES, READING)
MAX_URL = 2000
MAX_TITLE = 200


def archive_recording(
    session: Session, call: Call, recording: Recording, by: str = "zoom"
) -> CallResource | None:
    """Keep the recording with the call (and on the call, for the host's form); the
    row, or None when its link is not an http(s) link."""
    url = safe_url(recording.url)
    if url is None or len(url) > MAX_URL:
        return None
    insert_ignoring_duplicates(
        session,
        CallResource,
        [
            {
                "call_id": call.id,
                "community_id": call.community_id,
                "kind": RECORDING,
                "title": "",
                "url": url,
                "passcode": (recording.passcode or None) and recording.passcode[:64],
                "added_by": by,
                "deletes_on": recording.deletes_on,
            }
        ],
    )
    if recording.deletes_on is not None:  # archived before Zoom gave the date: keep it now
        session.execute(
            update(CallResource)
            .where(
                CallResource.call_id == call.id,
                CallResource.kind == RECORDING,
                CallResource.url == url,
                CallResource.deletes_on.is_(None),
            )
            .values(deletes_on=recording.deletes_on)
            .execution_options(synchronize_session=False)
        )
    if not call.recording_url:
        session.execute(
            update(Call)
            .where(Call.id == call.id, Call.recording_url.is_(None))
            .values(recording_url=url)
            .execution_options(synchronize_session=False)
        )
    return _find(session, call.id, RECORDING, url)


def check_link(url: str, title: str, kind: str) -> dict[str, str]:
    """Errors of the add-slides form, by field; empty when it is fine."""
    errors = {}
    if kind not in KINDS:
        errors["kind"] = "Choose slides or a reading."
    if not url.strip():
        errors["url"] = "Give the link (a web address, or the link of a file shared in Slack)."
    elif len(url) > MAX_URL:
        errors["url"] = f"Keep the link under {MAX_URL:,} characters."
    elif safe_url(url) is None:
        errors["url"] = "Give a web address starting with https:// (or http://)."
    if len(title) > MAX_TITLE:
        errors["title"] = f"Keep the title to {MAX_TITLE} characters."
    return errors


def add_link(
    session: Session, call: Call, kind: str, url: str, title: str, by: str
) -> tuple[CallResource, bool]:
    """Add slides or a reading to a call; (the row, False) when it was added already."""
    if call.status == CallStatus.CANCELLED.value:
        raise CopError("That call was cancelled: nothing is kept with it.")
    url = url.strip()
    errors = check_link(url, title, kind)
    if errors:
        raise CopError(next(iter(errors.values())))
    new = insert_ignoring_duplicates(
        session,
        CallResource,
        [
            {
                "call_id": call.id,
                "community_id": call.community_id,
                "kind": kind,
                "title": title.strip(),
                "url": url,
                "added_by": by,
            }
        ],
    )
    if kind == SLIDES and not call.slides_url:
        session.execute(
            update(Call)
            .where(Call.id == call.id, Call.slides_url.is_(None))
            .values(slides_url=url)
            .execution_options(synchronize_session=False)
        )
    item = _find(session, call.id, kind, url)
    assert item is not None
    return item, bool(new)


def claim_post(session: Session, resource_id: int, now: datetime) -> bool:
    """True for the one caller that gets to post this item in the call's thread."""
    won = session.execute(
        update(CallResource)
        .where(CallResource.id == resource_id, CallResource.posted_at.is_(None))
        .values(posted_at=now)
        .returning(CallResource.id)
        .execution_options(synchronize_session=False)
    ).first()
    return won is not None


def _find(session: Session, call_id: int, kind: str, url: str) -> CallResource | None:
    return session.exec(
        select(CallResource).where(
            CallResource.call_id == call_id, CallResource.kind == kind, CallResource.url == url
        )
    ).first()


class ArchivedItem(NamedTuple):
    kind: str
    title: str  # or ""
    url: str
    deletes_on: date | None = None  # a recording: the day Zoom deletes it


@dataclass(frozen=True)
class ArchivedCall:
    call: Call
    items: list[ArchivedItem]  # recording first


def archive(session: Session, community_id: int, limit: int = 20) -> list[ArchivedCall]:
    """The community's calls that have something archived, newest first."""
    rows = session.exec(
        select(CallResource)
        .where(CallResource.community_id == community_id)
        .order_by(CallResource.added_at)
    ).all()
    by_call: dict[int, list[ArchivedItem]] = {}
    for r in rows:
        by_call.setdefault(r.call_id, []).append(ArchivedItem(r.kind, r.title, r.url, r.deletes_on))
    calls = session.exec(
        select(Call).where(
            Call.community_id == community_id,
            Call.status != CallStatus.CANCELLED.value,
            (Call.id.in_(list(by_call)))
            | Call.recording_url.is_not(None)
            | Call.slides_url.is_not(None),
        )
    ).all()
    found = []
    for call in calls:
        items = by_call.get(call.id, [])
        urls = {item.url for item in items}
        for kind, url in ((RECORDING, call.recording_url), (SLIDES, call.slides_url)):
            if url and url not in urls:
                items.append(ArchivedItem(kind, "", url))
        items.sort(key=lambda item: item.kind != RECORDING)
        found.append(ArchivedCall(call, items))
    found.sort(key=lambda a: a.call.start_at, reverse=True)
    return found[:limit]


# ---- Zoom deletes recordings ----------------------------------------------------------------
DELETION_NOTICE = timedelta(days=7)  # leaders are told this long before


def deletions_to_tell(session: Session, today: date) -> list[int]:
    """Archived recordings of calls not cancelled that Zoom deletes within a week (from
    `today`, not already gone) and whose leaders were not told yet."""
    rows = session.execute(
        select(CallResource.id)
        .join(Call, Call.id == CallResource.call_id)
        .where(
            CallResource.kind == RECORDING,
            CallResource.deletes_on.is_not(None),
            CallResource.deletes_on >= today,
            CallResource.deletes_on <= today + DELETION_NOTICE,
            CallResource.deletion_told_at.is_(None),
            Call.status != CallStatus.CANCELLED.value,
        )
        .order_by(CallResource.deletes_on, CallResource.id)
    )
    return list(rows.scalars().all())


def claim_deletion_notice(session: Session, resource_id: int, now: datetime) -> bool:
    """True for the one pass that tells the leaders (a conditional UPDATE)."""
    won = session.execute(
        update(CallResource)
        .where(CallResource.id == resource_id, CallResource.deletion_told_at.is_(None))
        .values(deletion_told_at=now)
        .returning(CallResource.id)
        .execution_options(synchronize_session=False)
    ).first()
    return won is not None


def give_back_deletion_notice(session: Session, resource_id: int, now: datetime) -> None:
    """No leader heard it: a later pass tells them (if this claim still holds it)."""
    session.execute(
        update(CallResource)
        .where(CallResource.id == resource_id, CallResource.deletion_told_at == now)
        .values(deletion_told_at=None)
        .execution_options(synchronize_session=False)
    )
