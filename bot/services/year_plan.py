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


@dataclass(frozen=True)
class _Terms:
    """How every call of an accepted year is made, and by whom, at what moment."""

    at: time
    zone: str
    duration: int
    user_id: str
    now: datetime
    holidays_country: str | None
    year_start: tuple[int, int]
    with_meeting: bool
    org_zone: str
    zoom_hosts: tuple[str, ...]


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
    terms = _Terms(
        at=at,
        zone=zone,
        duration=duration,
        user_id=user_id,
        now=now,
        holidays_country=holidays_country,
        year_start=year_start,
        with_meeting=with_meeting,
        org_zone=org_zone,
        zoom_hosts=zoom_hosts,
    )
    done = Accepted(calls=[], milestones=[], moved=[], additional=[], skipped=[])
    for sample in SAMPLE_CALLS:
        if sample.key in chosen:
            _schedule_sample(session, community, sample, *chosen[sample.key], terms, done)
    _sample_milestones(community, first, terms, done)
    for m in done.milestones:
        session.add(m)
    session.flush()
    return done


def _schedule_sample(
    session: Session,
    community: Community,
    sample: SampleCall,
    topic: str,
    day: date,
    terms: _Terms,
    done: Accepted,
) -> None:
    """One chosen call, moved to a working day; skipped when already past, made
    "additional" when the year has its six, with its webinar steps when it is one."""
    working = next_working_day(day, terms.holidays_country)
    if working != day:
        done.moved.append(f"{topic}: {day:%a %b %-d} → {working:%a %b %-d}")
    start = call_rules.local_start(working, terms.at, terms.zone)
    if start is None:  # the clocks skip that time: an hour later exists
        later = (datetime.combine(working, terms.at) + timedelta(hours=1)).time()
        start = call_rules.local_start(working, later, terms.zone)
    if start <= terms.now:
        done.skipped.append(f"{topic} ({working:%b %-d})")
        return
    draft = call_rules.CallDraft(
        start_at=start,
        duration_minutes=terms.duration,
        timezone=terms.zone,
        topic=topic,
        agenda=sample.agenda,
        host_user_id=terms.user_id,
        alternate_user_id=None,
        kind=CallKind.COMMUNITY,
    )
    if call_rules.year_limit_error(
        session, community, draft, terms.year_start, zone=terms.org_zone
    ):
        draft = call_rules.CallDraft(**{**draft.__dict__, "kind": CallKind.ADDITIONAL})
        done.additional.append(topic)
    call = call_rules.create(
        session, community, draft, terms.user_id, with_meeting=terms.with_meeting
    )
    if terms.with_meeting and terms.zoom_hosts:
        try:  # every call a host free at its time, or the whole year is refused
            hosts.book_or_refuse(session, call, terms.zoom_hosts, terms.now)
        except hosts.HostsBusy as e:
            raise hosts.HostsBusy(f"{topic}, {working:%a %b %-d}: {e}") from None
    done.calls.append(call)
    if sample.key.startswith("webinar"):
        done.milestones.extend(
            m for m in webinar_steps(call, terms.user_id) if m.due_at > terms.now
        )


def _sample_milestones(community: Community, first: date, terms: _Terms, done: Accepted) -> None:
    """The year's sample milestones, each on a working day mid-month, those still ahead."""
    tz = ZoneInfo(terms.zone)
    for sample in SAMPLE_MILESTONES:
        month = month_in_year(first, sample.month)
        day = next_working_day(month.replace(day=15), terms.holidays_country)
        due = datetime.combine(day, MILESTONE_HOUR, tzinfo=tz).astimezone(UTC)
        if due <= terms.now:
            done.skipped.append(f"{sample.title} ({day:%b %-d})")
            continue
        done.milestones.append(
            Milestone(
                community_id=community.id,
                kind=sample.kind,
                title=sample.title,
                due_at=due,
                created_by=terms.user_id,
            )
        )


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
