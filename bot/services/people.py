"""People: the cache of Slack profiles (display name, time zone, email when known)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from storage.models import Person

PROFILE_MAX_AGE = timedelta(hours=24)


def ensure_people(session: Session, user_ids: Iterable[str]) -> None:
    """Make sure a row exists for each user id (profile filled in later)."""
    wanted = set(user_ids)
    if not wanted:
        return
    known = set(
        session.exec(select(Person.slack_user_id).where(Person.slack_user_id.in_(wanted))).all()
    )
    for uid in sorted(wanted - known):
        session.add(Person(slack_user_id=uid))
    session.flush()


def needs_profile(session: Session, user_id: str, now: datetime) -> bool:
    """True when the profile was never fetched or is older than a day at `now`."""
    person = session.get(Person, user_id)
    if person is None or person.profile_fetched_at is None:
        return True
    return now - person.profile_fetched_at > PROFILE_MAX_AGE


def store_profile(session: Session, user: Mapping[str, Any], now: datetime) -> Person:
    """Store the fields copbot uses from a users.info `user` object, fetched at `now`."""
    uid = user["id"]
    person = session.get(Person, uid) or Person(slack_user_id=uid)
    profile = user.get("profile") or {}
    person.display_name = (profile.get("display_name") or user.get("name") or "")[:200]
    person.real_name = (profile.get("real_name") or user.get("real_name") or "")[:200]
    person.tz = user.get("tz") or None
    person.email = profile.get("email") or person.email
    person.is_bot = bool(user.get("is_bot")) or uid == "USLACKBOT"
    person.profile_fetched_at = now
    session.add(person)
    session.flush()
    return person


def get(session: Session, user_id: str) -> Person | None:
    return session.get(Person, user_id)
