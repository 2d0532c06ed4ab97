"""The annual progress report (seed 001 sections 6 and 7, seed 002's report to the
sponsor): what copbot knows of the program year, and the leaders' results, celebrations
and connection to professional practice. A draft, then submitted once (a conditional
UPDATE); a submitted report stops the report nudges."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from dataclasses import fields as dataclass_fields
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.services import CopError, agenda, attendance, evidence, onsite, plans, shares
from bot.services import value as value_answers
from bot.services.years import program_year, year_label
from bot.text import md_block, md_inline
from storage.models import (
    Call,
    CallKind,
    CallStatus,
    Community,
    OnsiteRoom,
    ProgressReport,
)

DRAFT, SUBMITTED = "draft", "submitted"
MAX_TEXT = 3000
TEXT_FIELDS = ("results", "celebrations", "practice")


@dataclass(frozen=True)
class Facts:
    """What copbot knows of the community's program year."""

    year: str
    purpose: str
    evidence_plan: str
    calls_held: int
    calls_scheduled: int
    recordings: int
    onsite: str
    agenda: str
    evidence_items: int
    shares: int = 0
    attended: str = ""  # the attendance of the year's calls (bot.services.attendance)
    practice_draft: str = ""  # consented value answers (bot.services.value)

    @property
    def calls_total(self) -> int:
        return self.calls_held + self.calls_scheduled


def year_of(today: date, start: tuple[int, int]) -> tuple[int, date, date]:
    """(the report's year: the one the program year ends in, first day, end)."""
    first, end = program_year(today, start)
    return end.year if (end.month, end.day) != (1, 1) else first.year, first, end


def facts(session: Session, community: Community, first: date, end: date, now: datetime) -> Facts:
    plan = plans.load(session, community)
    lo = datetime.combine(first, time(), tzinfo=UTC)
    hi = datetime.combine(end, time(), tzinfo=UTC)
    rows = session.exec(
        select(Call.start_at, Call.recording_url, Call.status).where(
            Call.community_id == community.id,
            Call.kind == CallKind.COMMUNITY.value,
            Call.status != CallStatus.CANCELLED.value,
            Call.start_at >= lo,
            Call.start_at < hi,
        )
    ).all()
    held = sum(1 for at, _r, st in rows if st == CallStatus.HELD.value or at <= now)
    recordings = int(
        session.exec(
            select(func.count()).where(
                Call.community_id == community.id,
                Call.recording_url.is_not(None),
                Call.start_at >= lo,
                Call.start_at < hi,
            )
        ).one()
    )
    meeting = onsite.current_meeting(session, now.date())
    block = onsite.block_of(session, meeting.id, community.id) if meeting else None
    if block is not None:
        room = session.get(OnsiteRoom, block.room_id)
        tz = ZoneInfo(meeting.timezone)
        a, b = block.start_at.astimezone(tz), block.end_at.astimezone(tz)
        where = f"{meeting.name}, {a:%a %b %-d %H:%M}-{b:%H:%M} {a.tzname()}, {room.name}"
    else:
        where = "no block assigned"
    current = agenda.load(session, community.id, meeting.year) if meeting else None
    return Facts(
        year=year_label(first),
        purpose=plan.answer("purpose.statement") or community.mission,
        evidence_plan=plan.answer("results.evidence"),
        calls_held=held,
        calls_scheduled=len(rows) - held,
        recordings=recordings,
        onsite=where,
        agenda=current.state if current else "not started",
        evidence_items=evidence.count(session, community.id),
        shares=shares.count_between(session, community.id, lo, hi),
        attended=attendance.year_summary(session, community.id, lo, hi),
        practice_draft=value_answers.practice_draft(session, community.id, lo, hi),
    )


def load(session: Session, community_id: int, year: int) -> ProgressReport | None:
    return session.exec(
        select(ProgressReport).where(
            ProgressReport.community_id == community_id, ProgressReport.year == year
        )
    ).first()


def validate(texts: dict[str, str], *, submit: bool) -> dict[str, str]:
    """Field -> message for each field that breaks a rule."""
    errors = {}
    for key in TEXT_FIELDS:
        value = (texts.get(key) or "").strip()
        if len(value) > MAX_TEXT:
            errors[key] = f"Keep this to {MAX_TEXT} characters (it has {len(value)})."
        elif submit and key == "results" and not value:
            errors[key] = "Write the year's results before submitting."
    return errors


@dataclass(frozen=True)
class Saved:
    report: ProgressReport
    newly_submitted: bool


def save(
    session: Session,
    community_id: int,
    year: int,
    texts: dict[str, str],
    known: Facts,
    user_id: str,
    *,
    submit: bool,
    now: datetime,
) -> Saved:
    """Store the report's texts at `now`; with `submit`, submit it (once)."""
    errors = validate(texts, submit=submit)
    if errors:
        raise CopError(next(iter(errors.values())))
    values = {k: (texts.get(k) or "").strip() for k in TEXT_FIELDS}
    report = load(session, community_id, year)
    if report is None:
        report = ProgressReport(
            community_id=community_id, year=year, updated_by=user_id, updated_at=now
        )
        try:
            with session.begin_nested():
                session.add(report)
                session.flush()
        except IntegrityError:  # the co-leader saved first
            report = load(session, community_id, year)
    for key, value in values.items():
        setattr(report, key, value)
    report.facts = json.dumps(asdict(known), ensure_ascii=False)
    report.updated_by, report.updated_at = user_id, now
    session.add(report)
    session.flush()
    newly = False
    if submit:
        won = session.execute(
            update(ProgressReport)
            .where(ProgressReport.id == report.id, ProgressReport.state == DRAFT)
            .values(state=SUBMITTED, submitted_at=now, submitted_by=user_id)
            .returning(ProgressReport.id)
            .execution_options(synchronize_session=False)
        ).first()
        newly = won is not None
        session.refresh(report)
    return Saved(report, newly)


def submitted(session: Session, community_id: int, year: int) -> bool:
    """Has the community submitted its progress report for `year`? (Report nudges ask.)"""
    return (
        session.exec(
            select(ProgressReport.id).where(
                ProgressReport.community_id == community_id,
                ProgressReport.year == year,
                ProgressReport.state == SUBMITTED,
            )
        ).first()
        is not None
    )


def stored_facts(report: ProgressReport | None) -> dict:
    if report is None:
        return {}
    try:
        return json.loads(report.facts or "{}")
    except ValueError:
        return {}


def facts_as_saved(report: ProgressReport | None) -> Facts | None:
    """What copbot knew when the report was last saved, or None when it cannot tell."""
    stored = stored_facts(report)
    names = {f.name for f in dataclass_fields(Facts)}
    try:
        return Facts(**{k: v for k, v in stored.items() if k in names})
    except TypeError:
        return None


def to_markdown(
    community: Community,
    report: ProgressReport | None,
    known: Facts,
    evidence_log: list[str] | None = None,
) -> str:
    """The report as a Markdown document (for `/cop report export`), with the latest
    items of the evidence log."""
    state = report.state if report else "not started"
    by = md_inline(report.submitted_by) if report else ""
    lines = [
        f"# {md_inline(community.name)}: annual progress report {known.year}",
        "",
        f"Status: {state}"
        + (
            f" (submitted {report.submitted_at:%Y-%m-%d} by {by})"
            if report and report.submitted_at
            else ""
        ),
        "",
        "## What copbot knows",
        "",
        f"- Purpose: {md_inline(known.purpose) or '(not written yet)'}",
        f"- Evidence planned: {md_inline(known.evidence_plan) or '(not written yet)'}",
        f"- Community calls: {known.calls_held} held, {known.calls_scheduled} scheduled "
        f"({known.calls_total} of 3-6)",
        f"- Recordings archived: {known.recordings}",
        f"- Onsite meeting: {md_inline(str(known.onsite))}; agenda {md_inline(str(known.agenda))}",
        f"- Evidence log: {known.evidence_items} item(s)",
        f"- Learning opportunities shared: {known.shares}",
        "",
    ]
    titles = {
        "results": "Results",
        "celebrations": "Celebrations",
        "practice": "Connection to professional practice",
    }
    for key in TEXT_FIELDS:
        text = md_block(getattr(report, key, "") if report else "")
        lines += [f"## {titles[key]}", "", text or "-", ""]
    if evidence_log:
        lines += ["## Evidence log", ""] + [f"- {md_inline(item)}" for item in evidence_log] + [""]
    return "\n".join(lines)
