"""The year at a glance, for App Home: one row a community for staff (leaders, calls
against 3-6, plan sections, onsite block, agenda, report, guidelines, failed reminders),
and a leader's to-do list with its deadlines. Each column is one query for all
communities, so 300 communities cost the same handful of queries as three."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, select

from bot.services import agenda, onsite, reports, resources
from bot.services import calls as call_rules
from bot.services import communities as svc
from bot.services.planning_tool import SECTIONS
from bot.services.plans import Answer, PlanSnapshot
from storage.models import Community, PlanAnswer, ProgressReport, Reminder

FILTERS = {
    "all": "Every community",
    "no_leader": "Without a leader",
    "few_calls": "Fewer than 3 calls",
    "no_block": "No onsite block",
    "agenda": "Agenda not submitted",
    "report": "Report not submitted",
    "guidelines": "Guidelines not acknowledged",
    "failed": "Failed reminders",
}


@dataclass(frozen=True)
class Row:
    community: Community
    leaders: int
    members: int
    calls: int
    plan_done: int
    block: str | None  # "Fri 10:00-12:00 Room A", or None
    agenda: str  # submitted | draft | not started
    report: str
    guidelines: bool
    failed: int
    health: str = ""  # the after-call health line (bot.flows.home)

    def matches(self, show: str) -> bool:
        return {
            "all": True,
            "no_leader": self.leaders == 0,
            "few_calls": self.calls < 3,
            "no_block": self.block is None,
            "agenda": self.agenda != "submitted",
            "report": self.report != "submitted",
            "guidelines": not self.guidelines,
            "failed": self.failed > 0,
        }.get(show, True)


def _plan_done(session: Session, communities: list[Community]) -> dict[int, int]:
    answers: dict[int, dict[str, Answer]] = defaultdict(dict)
    for r in session.exec(select(PlanAnswer)).all():
        answers[r.community_id][r.question_key] = Answer(r.answer, r.updated_by, r.updated_at)
    return {
        c.id: len(
            PlanSnapshot(
                community=c, answers=answers.get(c.id, {}), last_section=1
            ).complete_sections
        )
        for c in communities
    }


def staff_rows(
    session: Session,
    today: date,
    program_year_start: tuple[int, int],
    viewer: str,
    zone: str = "UTC",
) -> list[Row]:
    """One row for each community; calls are counted in the program year whose
    boundaries are midnight in `zone` (the organisation's), as everywhere else."""
    summaries = svc.all_communities(session, viewer)
    communities = [s.community for s in summaries]
    ids = [c.id for c in communities]
    year, first, end = reports.year_of(today, program_year_start)
    calls = call_rules.community_call_counts(session, ids, first, end, zone=zone)
    meeting = onsite.current_meeting(session, today)
    blocks = {}
    agendas = {}
    if meeting is not None:
        zone = ZoneInfo(meeting.timezone)
        for e in onsite.grid(session, meeting):
            a, b = e.block.start_at.astimezone(zone), e.block.end_at.astimezone(zone)
            blocks[e.community.id] = f"{a:%a %H:%M}-{b:%H:%M} {e.room.name}"
        agendas = agenda.status(session, meeting.year)
    report_rows = {
        r.community_id: r.state
        for r in session.exec(select(ProgressReport).where(ProgressReport.year == year)).all()
    }
    acks = resources.acknowledged(session, year)
    failed = dict(
        session.exec(
            select(Reminder.community_id, func.count())
            .where(Reminder.state == "failed")
            .group_by(Reminder.community_id)
        ).all()
    )
    plan = _plan_done(session, communities)
    return [
        Row(
            community=s.community,
            leaders=s.leader_count,
            members=s.member_count,
            calls=calls.get(s.community.id, 0),
            plan_done=plan.get(s.community.id, 0),
            block=blocks.get(s.community.id),
            agenda=agendas[s.community.id].state if s.community.id in agendas else "not started",
            report=report_rows.get(s.community.id, "not started"),
            guidelines=s.community.id in acks,
            failed=int(failed.get(s.community.id, 0)),
        )
        for s in summaries
    ]


@dataclass(frozen=True)
class Todo:
    community: Community
    what: str
    due: datetime | None = None


def leader_todo(
    session: Session,
    user_id: str,
    today: date,
    settings_zone,
    program_year_start: tuple[int, int],
    agenda_due: tuple[int, int],
    report_due: tuple[int, int],
) -> list[Todo]:
    """What each community the person leads still has to do this program year."""
    led = [s.community for s in svc.for_person(session, user_id) if s.role.value == "leader"]
    if not led:
        return []
    rows = {
        r.community.id: r
        for r in staff_rows(session, today, program_year_start, user_id, zone=str(settings_zone))
    }
    year, _first, _end = reports.year_of(today, program_year_start)
    meeting = onsite.current_meeting(session, today)
    todo: list[Todo] = []
    for c in led:
        r = rows[c.id]
        if r.plan_done < len(SECTIONS):
            todo.append(
                Todo(c, f"Finish the plan ({r.plan_done} of {len(SECTIONS)} sections): `/cop plan`")
            )
        if r.calls < 3:
            todo.append(
                Todo(
                    c,
                    f"Schedule community calls ({r.calls} so far; the year needs 3 to 6): "
                    "`/cop schedule`",
                )
            )
        if meeting is not None and r.block is not None and r.agenda != "submitted":
            due = agenda.due_at(meeting.year, agenda_due, settings_zone)
            todo.append(Todo(c, f"Submit the onsite agenda ({r.agenda}): `/cop agenda`", due))
        if r.report != "submitted":
            month, day = report_due
            due = datetime(year, month, day, 9, 0, tzinfo=settings_zone)
            todo.append(Todo(c, f"Submit the progress report ({r.report}): `/cop report`", due))
        if not r.guidelines:
            todo.append(Todo(c, "Acknowledge the guidelines: `/cop resources`"))
    return todo


def next_calls(session: Session, user_id: str, now: datetime, limit: int = 5):
    """(community, call) of the person's next calls across their communities, soonest first."""
    found = []
    for s in svc.for_person(session, user_id):
        found += [
            (s.community, c) for c in call_rules.upcoming(session, s.community.id, now, limit)
        ]
    found.sort(key=lambda pair: pair[1].start_at)
    return found[:limit]


def onsite_grid(session: Session, today: date):
    """(meeting, rooms, blocks) of the Annual Meeting for staff's Home, or None."""
    meeting = onsite.current_meeting(session, today)
    if meeting is None:
        return None
    return meeting, onsite.rooms_of(session, meeting.id), onsite.grid(session, meeting)
