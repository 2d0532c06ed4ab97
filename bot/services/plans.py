"""A community's plan: answers to the planning tool, saved a section at a time, progress,
resuming, publication records, and the list of unfinished plans for nudges.

Each answer is written by one INSERT ... ON CONFLICT DO UPDATE, so two leaders saving at
the same moment both keep their answers; publishing is claimed by one conditional UPDATE,
so two leaders publishing at once post the plan once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from bot.services import CopError
from bot.services.planning_tool import (
    MAX_ANSWER_LENGTH,
    PURPOSE_STATEMENT_KEY,
    SECTION_COUNT,
    SECTIONS,
    Question,
    section,
)
from storage.models import Community, Plan, PlanAnswer, PurposeArea, utcnow


@dataclass(frozen=True)
class Answer:
    text: str
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True)
class PlanSnapshot:
    """A community's plan as read in one unit of work."""

    community: Community
    answers: Mapping[str, Answer]
    last_section: int
    published_channel: str | None = None
    published_ts: tuple[str, ...] = ()
    published_at: datetime | None = None

    def answer(self, key: str) -> str:
        found = self.answers.get(key)
        return found.text if found else ""

    def suggested(self, question: Question) -> str:
        """The saved answer, else what the community already says (mission, areas)."""
        saved = self.answer(question.key)
        if saved:
            return saved
        if question.key == PURPOSE_STATEMENT_KEY:
            return self.community.mission
        if question.kind == "areas":
            return self.community.purpose_areas
        return ""

    def section_complete(self, number: int) -> bool:
        return all(self.answer(q.key).strip() for q in section(number).questions)

    def answered_in(self, number: int) -> int:
        return sum(1 for q in section(number).questions if self.answer(q.key).strip())

    @property
    def complete_sections(self) -> list[int]:
        return [s.number for s in SECTIONS if self.section_complete(s.number)]

    @property
    def incomplete_sections(self) -> list[int]:
        return [s.number for s in SECTIONS if not self.section_complete(s.number)]

    @property
    def is_complete(self) -> bool:
        return not self.incomplete_sections

    @property
    def progress(self) -> str:
        return f"{len(self.complete_sections)} of {SECTION_COUNT} sections complete"

    def resume_section(self) -> int:
        """Where `/cop plan` opens: the section last worked on if it is unfinished, else
        the first unfinished one, else the first."""
        if not self.section_complete(self.last_section):
            return self.last_section
        unfinished = self.incomplete_sections
        return unfinished[0] if unfinished else 1

    def last_edit(self) -> Answer | None:
        return max(self.answers.values(), key=lambda a: a.updated_at, default=None)


# a publication that has not finished after this long is taken to have died
PUBLISH_CLAIM = timedelta(minutes=10)


def _insert(session: Session, table: Any):
    """INSERT for the session's database, with its ON CONFLICT clause."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def _ensure_plan_row(session: Session, community_id: int) -> None:
    """The community's plan row exists afterwards, whoever made it (no race)."""
    stmt = _insert(session, Plan.__table__).values(community_id=community_id, published_ts="[]")
    session.execute(stmt.on_conflict_do_nothing(index_elements=["community_id"]))


def _set_plan(session: Session, community_id: int, **values: Any) -> None:
    _ensure_plan_row(session, community_id)
    session.execute(
        update(Plan)
        .where(Plan.community_id == community_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    _forget_plan(session, community_id)


def _forget_plan(session: Session, community_id: int) -> None:
    """Expire a loaded Plan row after an UPDATE statement changed it behind the ORM."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Plan) and obj.community_id == community_id:
            session.expire(obj)


def load(session: Session, community: Community) -> PlanSnapshot:
    # populate_existing: answers may have been written by statements the ORM did not see
    rows = session.exec(
        select(PlanAnswer)
        .where(PlanAnswer.community_id == community.id)
        .execution_options(populate_existing=True)
    ).all()
    plan = session.get(Plan, community.id, populate_existing=True)
    return PlanSnapshot(
        community=community,
        answers={r.question_key: Answer(r.answer, r.updated_by, r.updated_at) for r in rows},
        last_section=plan.last_section if plan else 1,
        published_channel=plan.published_channel if plan else None,
        published_ts=tuple(json.loads(plan.published_ts)) if plan else (),
        published_at=plan.published_at if plan else None,
    )


def answer_errors(section_number: int, answers: Mapping[str, str]) -> dict[str, str]:
    """Question key -> message for each answer that cannot be saved."""
    keys = {q.key: q for q in section(section_number).questions}
    errors = {}
    for key, text in answers.items():
        question = keys.get(key)
        if question is None:
            errors[key] = f"{key!r} is not a question of section {section_number}."
        elif len(text) > MAX_ANSWER_LENGTH:
            errors[key] = (
                f"Keep this answer to {MAX_ANSWER_LENGTH:,} characters (it has {len(text):,}); "
                "your other answers are saved."
            )
        elif question.kind == "areas":
            values = [v for v in text.split(",") if v]
            if any(v not in {a.value for a in PurposeArea} for v in values):
                errors[key] = "Choose among the four activity areas."
    return errors


def save_section(
    session: Session,
    community: Community,
    section_number: int,
    answers: Mapping[str, str],
    user_id: str,
    now: datetime | None = None,
    shown: Mapping[str, str] | None = None,
    resume_at: int | None = None,
) -> dict[str, str]:
    """Save the valid answers of one section; return errors for the others.

    `shown` holds the fingerprint (`fingerprint()`) of each answer as the person's modal
    showed it: an answer they left as it was is not written, so a co-leader's change
    saved meanwhile survives. The others are upserted (one statement for the section)
    writing only a changed text, so "changed last by" stays true. The plan resumes at
    this section, or at `resume_at` when every answer was saved.
    """
    section(section_number)  # range check
    errors = answer_errors(section_number, answers)
    now = now or utcnow()
    texts: dict[str, str] = {}
    for key, text in answers.items():
        if key in errors:
            continue
        if shown is not None and shown.get(key) == fingerprint(text):
            continue  # untouched by this person: whatever is saved stays
        text = text.strip()
        if key.endswith(".areas"):
            chosen = set(text.split(","))
            text = ",".join(a.value for a in PurposeArea if a.value in chosen)
            session.execute(
                update(Community)
                .where(Community.id == community.id)
                .values(purpose_areas=text)
                .execution_options(synchronize_session=False)
            )
            set_committed_value(community, "purpose_areas", text)
        texts[key] = text
    _write_answers(session, community.id, texts, user_id, now)
    resume = section_number if errors or resume_at is None else resume_at
    section(resume)  # range check
    _set_plan(session, community.id, last_section=resume)
    return errors


_UPSERTS: dict[str, Any] = {}


def _answer_upsert(dialect: str) -> Any:
    """The statement that inserts an answer, or updates it when its text changed (one
    statement, no race). Built once per kind of database: building it costs more than
    running it."""
    stmt = _UPSERTS.get(dialect)
    if stmt is None:
        table = PlanAnswer.__table__
        row = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
        stmt = _UPSERTS[dialect] = row.on_conflict_do_update(
            index_elements=["community_id", "question_key"],
            set_={
                "answer": row.excluded.answer,
                "updated_by": row.excluded.updated_by,
                "updated_at": row.excluded.updated_at,
            },
            where=table.c.answer != row.excluded.answer,
        )
    return stmt


def _write_answers(
    session: Session, community_id: int, texts: Mapping[str, str], user_id: str, now: datetime
) -> None:
    """The answers, each inserted, updated when its text changed, or cleared when empty."""
    rows = [
        {
            "community_id": community_id,
            "question_key": key,
            "answer": text,
            "updated_by": user_id,
            "updated_at": now,
        }
        for key, text in texts.items()
        if text
    ]
    if rows:
        session.execute(_answer_upsert(session.get_bind().dialect.name), rows)
    for key in (key for key, text in texts.items() if not text):
        # nothing to insert; clear a saved answer if there is one
        session.execute(
            update(PlanAnswer)
            .where(
                PlanAnswer.community_id == community_id,
                PlanAnswer.question_key == key,
                PlanAnswer.answer != "",
            )
            .values(answer="", updated_by=user_id, updated_at=now)
            .execution_options(synchronize_session=False)
        )


def fingerprint(text: str) -> str:
    """A short digest of an answer as shown in a modal (whitespace at the ends ignored)."""
    return hashlib.sha256(text.strip().encode()).hexdigest()[:12]


def set_last_section(session: Session, community: Community, number: int) -> None:
    section(number)
    _set_plan(session, community.id, last_section=number)


def claim_publication(
    session: Session, community: Community, user_id: str, now: datetime | None = None
) -> bool:
    """Claim the right to publish the plan now; False when another publication is under
    way (claimed less than PUBLISH_CLAIM ago). One conditional UPDATE decides."""
    now = now or utcnow()
    _ensure_plan_row(session, community.id)
    claimed = session.execute(
        update(Plan)
        .where(
            Plan.community_id == community.id,
            or_(Plan.publishing_since.is_(None), Plan.publishing_since < now - PUBLISH_CLAIM),
        )
        .values(publishing_since=now, published_by=user_id)
        .execution_options(synchronize_session=False)
    )
    _forget_plan(session, community.id)
    return claimed.rowcount == 1


def record_publication(
    session: Session,
    community: Community,
    channel: str,
    ts: Sequence[str],
    user_id: str,
    now: datetime,
) -> None:
    """Where the plan is posted (at `now`); ends the publication's claim."""
    _set_plan(
        session,
        community.id,
        published_channel=channel,
        published_ts=json.dumps(list(ts)),
        published_at=now,
        published_by=user_id,
        publishing_since=None,
    )


def parse_section_number(text: str) -> int:
    """A section number typed by a person, or CopError with the valid range."""
    try:
        number = int(text)
    except ValueError:
        raise CopError(
            f"`{text[:20]}` is not a section: use a number from 1 to {SECTION_COUNT}."
        ) from None
    if not 1 <= number <= SECTION_COUNT:
        raise CopError(
            f"There is no section {number}: the plan has sections 1 to {SECTION_COUNT}, "
            "e.g. `/cop plan 3` for Leadership."
        )
    return number


@dataclass(frozen=True)
class UnfinishedPlan:
    community_id: int
    name: str
    channel_id: str
    sections: tuple[int, ...]  # the incomplete ones


def unfinished_plans(session: Session) -> list[UnfinishedPlan]:
    """Every community whose plan has an incomplete section, with those sections.

    For the scheduler's weekly nudges to leaders.
    """
    communities = session.exec(select(Community).order_by(Community.id)).all()
    answered: dict[int, set[str]] = {}
    for community_id, key, text in session.exec(
        select(PlanAnswer.community_id, PlanAnswer.question_key, PlanAnswer.answer)
    ).all():
        if text.strip():
            answered.setdefault(community_id, set()).add(key)
    result = []
    for c in communities:
        keys = answered.get(c.id, set())
        missing = tuple(s.number for s in SECTIONS if any(q.key not in keys for q in s.questions))
        if missing:
            result.append(UnfinishedPlan(c.id, c.name, c.slack_channel_id, missing))
    return result
