"""The sample one-year plan (August to May) as a draft a leader edits and accepts.

Four webinars (November to February) and a wrap-up session (April) become calls; the
other activities become milestones: identify the issues (August), confirm participants
(September), follow up on the orientation (October), distribute each webinar's guide one
week before and post its readings, archive each recording and its slides, follow up on
the webinars (March) and report results to the sponsor (May). Dates that fall on a
weekend or a public holiday move to the next working day.

A program year is accepted once per community: the `year_plan` row (unique per community
and year) is written first, under the community's lock, so a second acceptance (another
form, a double click, a replay) is refused and schedules nothing. The steps tied to a
webinar carry its call id: they move when it moves and go when it is cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot.services import CopError, hosts
from bot.services import calls as call_rules
from storage.models import Call, CallKind, Community, Milestone, YearPlan

CALL_HOUR = time(12, 0)
MILESTONE_HOUR = time(9, 0)


@dataclass(frozen=True)
class SampleCall:
    key: str
    month: int
    topic: str
    agenda: str


@dataclass(frozen=True)
class SampleMilestone:
    month: int
    kind: str
    title: str


WEBINAR_AGENDA = (
    "The guide goes out one week before; readings are posted ahead. The recording and "
    "slides are archived afterwards."
)

SAMPLE_CALLS: tuple[SampleCall, ...] = (
    SampleCall("webinar1", 11, "Webinar #1", WEBINAR_AGENDA),
    SampleCall("webinar2", 12, "Webinar #2", WEBINAR_AGENDA),
    SampleCall("webinar3", 1, "Webinar #3", WEBINAR_AGENDA),
    SampleCall("webinar4", 2, "Webinar #4", WEBINAR_AGENDA),
    SampleCall(
        "wrapup",
        4,
        "Wrap-up session",
        "Share success stories and final products; decide what comes next.",
    ),
)

SAMPLE_MILESTONES: tuple[SampleMilestone, ...] = (
    SampleMilestone(
        8,
        "purpose",
        "Identify research issues or questions to establish the purpose of the community",
    ),
    SampleMilestone(9, "participants", "Confirm participants"),
    SampleMilestone(
        10,
        "follow_up",
        "Follow-up communication from orientation: schedule of "
        "webinars, survey results, roll-up of data",
    ),
    SampleMilestone(
        3,
        "follow_up",
        "Follow-up communication from the four webinars: blog "
        "post and templates for success stories or final products",
    ),
    SampleMilestone(5, "report", "Report results to the sponsor and other partners"),
)


is_working_day = call_rules.is_working_day
next_working_day = call_rules.next_working_day


def third_wednesday(year: int, month: int) -> date:
    first = date(year, month, 1)
    offset = (2 - first.weekday()) % 7
    return first + timedelta(days=offset + 14)


def month_in_year(first: date, month: int) -> date:
    """The first of `month` within the program year that starts on `first`."""
    year = first.year if month >= first.month else first.year + 1
    return date(year, month, 1)


@dataclass(frozen=True)
class DraftCall:
    key: str
    topic: str
    agenda: str
    day: date


def draft_calls(first: date, holidays_country: str | None) -> list[DraftCall]:
    """The sample calls of the program year starting on `first`, on working days."""
    out = []
    for sample in SAMPLE_CALLS:
        month = month_in_year(first, sample.month)
        day = next_working_day(third_wednesday(month.year, month.month), holidays_country)
        out.append(DraftCall(sample.key, sample.topic, sample.agenda, day))
    return out


@dataclass(frozen=True)
class Accepted:
    calls: list[Call]
    milestones: list[Milestone]
    moved: list[str]  # what moved off a weekend or holiday, in words
    additional: list[str]  # calls made "additional" because the year had six already
    skipped: list[str]  # what was already in the past


def accept(
    session: Session,
    community: Community,
    first: date,
    chosen: dict[str, tuple[str, date]],
    *,
    at: time,
    zone: str,
    duration: int,
    user_id: str,
    now: datetime,
    holidays_country: str | None,
    year_start: tuple[int, int],
    with_meeting: bool,
    org_zone: str = "UTC",
    view_id: str | None = None,
    zoom_hosts: tuple[str, ...] = (),
) -> Accepted:
    """Schedule the chosen calls (topic, day by sample key) and record the milestones,
    once per community and program year (CopError when the year was accepted already).
    With `zoom_hosts`, each call books a host free at its time; `hosts.HostsBusy` when a
    call has none (nothing is saved)."""
    claim_year(session, community, first, user_id, view_id)
    calls: list[Call] = []
    milestones: list[Milestone] = []
    moved: list[str] = []
    additional: list[str] = []
    skipped: list[str] = []
    for sample in SAMPLE_CALLS:
        if sample.key not in chosen:
            continue
        topic, day = chosen[sample.key]
        working = next_working_day(day, holidays_country)
        if working != day:
            moved.append(f"{topic}: {day:%a %b %-d} → {working:%a %b %-d}")
        start = _start(working, at, zone)
        if start <= now:
            skipped.append(f"{topic} ({working:%b %-d})")
            continue
        draft = _draft(topic, sample.agenda, start, duration, zone, user_id)
        if call_rules.year_limit_error(session, community, draft, year_start, zone=org_zone):
            draft = call_rules.CallDraft(**{**draft.__dict__, "kind": CallKind.ADDITIONAL})
            additional.append(topic)
        call = call_rules.create(session, community, draft, user_id, with_meeting=with_meeting)
        if with_meeting and zoom_hosts:
            try:  # every call a host free at its time, or the whole year is refused
                hosts.book_or_refuse(session, call, zoom_hosts, now)
            except hosts.HostsBusy as e:
                raise hosts.HostsBusy(f"{topic}, {working:%a %b %-d}: {e}") from None
        calls.append(call)
        if sample.key.startswith("webinar"):
            milestones += webinar_steps(call, user_id)
    milestones += _year_milestones(community, first, holidays_country, zone, user_id, now, skipped)
    for m in milestones:
        if m.due_at > now:
            session.add(m)
    session.flush()
    return Accepted(calls, [m for m in milestones if m.due_at > now], moved, additional, skipped)


def _start(day: date, at: time, zone: str) -> datetime:
    """`day` at `at` in `zone`, in UTC; an hour later when the clocks skip that time."""
    start = call_rules.local_start(day, at, zone)
    if start is None:  # the clocks skip that time: an hour later exists
        start = call_rules.local_start(
            day, (datetime.combine(day, at) + timedelta(hours=1)).time(), zone
        )
    return start


def _draft(
    topic: str,
    agenda: str,
    start: datetime,
    duration: int,
    zone: str,
    user_id: str,
) -> call_rules.CallDraft:
    """A sample call as a community call hosted by the leader accepting the year."""
    return call_rules.CallDraft(
        start_at=start,
        duration_minutes=duration,
        timezone=zone,
        topic=topic,
        agenda=agenda,
        host_user_id=user_id,
        alternate_user_id=None,
        kind=CallKind.COMMUNITY,
    )


def _year_milestones(
    community: Community,
    first: date,
    holidays_country: str | None,
    zone: str,
    user_id: str,
    now: datetime,
    skipped: list[str],
) -> list[Milestone]:
    """The year's sample milestones, each on a working day near the middle of its month;
    those already past are named in `skipped` instead."""
    tz = ZoneInfo(zone)
    milestones = []
    for sample in SAMPLE_MILESTONES:
        month = month_in_year(first, sample.month)
        day = next_working_day(month.replace(day=15), holidays_country)
        due = datetime.combine(day, MILESTONE_HOUR, tzinfo=tz).astimezone(UTC)
        if due <= now:
            skipped.append(f"{sample.title} ({day:%b %-d})")
            continue
        milestones.append(
            Milestone(
                community_id=community.id,
                kind=sample.kind,
                title=sample.title,
                due_at=due,
                created_by=user_id,
            )
        )
    return milestones


def webinar_steps(call: Call, user_id: str) -> list[Milestone]:
    """The steps around a webinar, tied to its call (they move and go with it)."""
    topic = call.topic
    steps = (
        ("guide", f"Distribute the guide for {topic}", timedelta(days=-7)),
        ("readings", f"Post the readings for {topic}", timedelta(days=-3)),
        (
            "archive",
            f"Archive the recording and slides of {topic}",
            timedelta(days=1, minutes=call.duration_minutes),
        ),
    )
    return [
        Milestone(
            community_id=call.community_id,
            call_id=call.id,
            kind=kind,
            title=title,
            due_at=call.start_at + offset,
            created_by=user_id,
        )
        for kind, title, offset in steps
    ]


def accepted_by(session: Session, community_id: int, first: date) -> YearPlan | None:
    return session.exec(
        select(YearPlan).where(YearPlan.community_id == community_id, YearPlan.first_day == first)
    ).first()


class AlreadyAccepted(CopError):
    """The program year was accepted before; `view_id` is the form that accepted it."""

    def __init__(self, message: str, view_id: str | None):
        super().__init__(message)
        self.view_id = view_id


def claim_year(
    session: Session, community: Community, first: date, user_id: str, view_id: str | None
) -> None:
    """Record that `first`'s program year is being accepted, or refuse: the community's
    row is locked first, and the unique (community, year) row backs it up."""
    call_rules.lock_community(session, community.id)
    done = accepted_by(session, community.id, first)
    if done is not None:
        raise AlreadyAccepted(
            f"The year plan {call_rules.year_label(first)} of {community.name} was "
            "accepted already; `/cop calls` shows its calls.",
            done.view_id,
        )
    session.add(
        YearPlan(community_id=community.id, first_day=first, accepted_by=user_id, view_id=view_id)
    )
    session.flush()
