"""Attendance: who came to a call, as Zoom's participant records tell it.

Zoom gives one record per join, so a person who dropped and rejoined appears several
times; `merge` makes them one attendee (by the registration they joined with, else email,
else Zoom's user id, else the name)
whose minutes are the union of their joins (two devices at once count once). `record`
stores, per call: how many came, the community's members among them, first-timers,
people not matched to anyone in Slack (a count only: no email of theirs is stored) and
minutes attended; and one row per Slack person with their minutes.

Leaders and staff see a call's attendance; a member sees their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, select

from bot.services.after_call_jobs import insert_ignoring_duplicates
from integrations.after_call import Participant
from storage.models import Attendance, Call, CallAttendance, Membership, Person

CHUNK = 500  # rows per INSERT


@dataclass
class Attendee:
    """One person at one call, rejoins merged."""

    key: str
    name: str
    email: str | None
    registrant_id: str | None = None
    spans: list[tuple[datetime, datetime]] = field(default_factory=list)
    seconds_without_times: int = 0

    @property
    def minutes(self) -> int:
        merged = 0
        end: datetime | None = None
        for start, stop in sorted(self.spans):
            if end is None or start > end:
                merged += int((stop - start).total_seconds())
                end = stop
            elif stop > end:
                merged += int((stop - end).total_seconds())
                end = stop
        return round((merged + self.seconds_without_times) / 60)


def _key(p: Participant) -> str:
    if p.registrant_id:
        return f"registrant:{p.registrant_id}"
    if p.email:
        return f"email:{p.email}"
    if p.user_id:
        return f"zoom:{p.user_id}"
    return f"name:{p.name.strip().casefold()}"


def merge(participants: Iterable[Participant]) -> list[Attendee]:
    """One attendee per person, whatever the number of joins."""
    people: dict[str, Attendee] = {}
    for p in participants:
        key = _key(p)
        person = people.setdefault(key, Attendee(key, p.name, p.email, p.registrant_id))
        if p.join_time and p.leave_time and p.leave_time >= p.join_time:
            person.spans.append((p.join_time, p.leave_time))
        elif p.join_time and p.seconds:
            person.spans.append((p.join_time, p.join_time + timedelta(seconds=p.seconds)))
        else:
            person.seconds_without_times += p.seconds
    return list(people.values())


def known_emails(session: Session, emails: Iterable[str]) -> dict[str, str]:
    """email -> Slack user id, for the emails copbot already knows from Slack profiles."""
    wanted = {e.lower() for e in emails if e}
    if not wanted:
        return {}
    found: dict[str, str] = {}
    listed = sorted(wanted)
    for i in range(0, len(listed), CHUNK):
        rows = session.exec(
            select(Person.slack_user_id, func.lower(Person.email)).where(
                func.lower(Person.email).in_(listed[i : i + CHUNK])
            )
        ).all()
        found.update({email: uid for uid, email in rows})
    return found


def remember_member_emails(session: Session, community_id: int, found: dict[str, str]) -> None:
    """Keep the emails Slack gave for the community's own members on their profiles (as
    users.info would), so the next call needs no lookup for them. Nobody else's."""
    if not found:
        return
    members = set(
        session.exec(
            select(Membership.slack_user_id).where(
                Membership.community_id == community_id,
                Membership.slack_user_id.in_(list(found)),
            )
        ).all()
    )
    for uid in sorted(members):
        person = session.get(Person, uid)
        if person is not None and not person.email:
            person.email = found[uid]
            session.add(person)
    session.flush()


@dataclass(frozen=True)
class Counted:
    came: int
    members: int
    first_timers: int
    guests: int
    minutes: int


def record(session: Session, call: Call, matched: dict[str, int], guests: list[int]) -> Counted:
    """Store a call's attendance: `matched` maps Slack user id -> minutes, `guests` holds
    the minutes of each person not matched to anyone in Slack. Replaces what was stored."""
    session.execute(delete(Attendance).where(Attendance.call_id == call.id))
    session.execute(delete(CallAttendance).where(CallAttendance.call_id == call.id))
    ids = sorted(matched)
    members = set()
    earlier = set()
    for i in range(0, len(ids), CHUNK):
        part = ids[i : i + CHUNK]
        members |= set(
            session.exec(
                select(Membership.slack_user_id).where(
                    Membership.community_id == call.community_id,
                    Membership.slack_user_id.in_(part),
                )
            ).all()
        )
        earlier |= set(
            session.exec(
                select(Attendance.slack_user_id).where(
                    Attendance.community_id == call.community_id,
                    Attendance.slack_user_id.in_(part),
                    Attendance.attended_at < call.start_at,
                )
            ).all()
        )
    rows = [
        {
            "call_id": call.id,
            "community_id": call.community_id,
            "slack_user_id": uid,
            "minutes": matched[uid],
            "member": uid in members,
            "first_time": uid not in earlier,
            "attended_at": call.start_at,
        }
        for uid in ids
    ]
    for i in range(0, len(rows), CHUNK):
        insert_ignoring_duplicates(session, Attendance, rows[i : i + CHUNK])
    counted = Counted(
        came=len(ids) + len(guests),
        members=len(members),
        first_timers=sum(1 for uid in ids if uid not in earlier),
        guests=len(guests),
        minutes=sum(matched.values()) + sum(guests),
    )
    session.add(
        CallAttendance(
            call_id=call.id,
            came=counted.came,
            members=counted.members,
            first_timers=counted.first_timers,
            guests=counted.guests,
            minutes=counted.minutes,
        )
    )
    session.flush()
    return counted


def of_call(session: Session, call_id: int) -> CallAttendance | None:
    return session.get(CallAttendance, call_id)


def people_at(session: Session, call_id: int) -> list[Attendance]:
    return list(
        session.exec(
            select(Attendance)
            .where(Attendance.call_id == call_id)
            .order_by(Attendance.slack_user_id)
        ).all()
    )


def own(session: Session, call_id: int, user_id: str) -> Attendance | None:
    return session.exec(
        select(Attendance).where(Attendance.call_id == call_id, Attendance.slack_user_id == user_id)
    ).first()


def year_summary(session: Session, community_id: int, since: datetime, until: datetime) -> str:
    """The attendance of the community's calls in a period, for the progress report:
    "3 calls read: 12, 9 and 14 people (35 in all, 8 members came at least once)"."""
    rows = session.exec(
        select(CallAttendance.came)
        .join(Call, Call.id == CallAttendance.call_id)
        .where(Call.community_id == community_id, Call.start_at >= since, Call.start_at < until)
        .order_by(Call.start_at)
    ).all()
    if not rows:
        return ""
    regulars = session.exec(
        select(func.count(func.distinct(Attendance.slack_user_id))).where(
            Attendance.community_id == community_id,
            Attendance.member.is_(True),
            Attendance.attended_at >= since,
            Attendance.attended_at < until,
        )
    ).one()
    counts = [str(n) for n in rows]
    listed = counts[0] if len(counts) == 1 else ", ".join(counts[:-1]) + " and " + counts[-1]
    calls = "1 call" if len(rows) == 1 else f"{len(rows)} calls"
    people = "person" if rows[-1] == 1 and len(rows) == 1 else "people"
    return (
        f"{calls} read: {listed} {people} ({sum(rows)} in all, "
        f"{regulars} member{'' if regulars == 1 else 's'} came at least once)"
    )
