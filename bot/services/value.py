"""The value a community creates (Wenger-Trayner's value-creation cycles): the day after a
call, members who attended are asked one optional question, "What will you try from this
call?"; about 60 days after they answered, "Did you try it? What happened?".

A question is one row per call, person and stage (a unique key: planned once however
often attendance is read). Passes claim due questions by a conditional UPDATE with a
token. A person who turns the questions off is never asked again (their pending
questions are skipped, and a claim never picks them); leaders can turn them off for their
community. An answer is saved once (a replayed form changes nothing); only the first
answer to "what will you try" plans the follow-up. Answers go into the community's
evidence log when the person agrees, anonymised unless they tick "you may name me".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, update
from sqlmodel import Session, select

from bot.services import CopError
from bot.services.after_call_jobs import insert_ignoring_duplicates
from bot.services.evidence import BY_COPBOT, MAX_TEXT
from storage.claims import claim_where
from storage.models import (
    Call,
    CommunityAfterCall,
    Evidence,
    Person,
    ValueOptOut,
    ValueQuestion,
)

TRY, FOLLOW_UP = "try", "follow_up"
PENDING, CLAIMED, SENT, SKIPPED, FAILED = "pending", "claimed", "sent", "skipped", "failed"
FOLLOW_UP_AFTER = timedelta(days=60)
ASK_AT = time(10, 0)  # the day after the call, at 10:00 in the call's zone
CLAIM_TIMEOUT = timedelta(minutes=10)
MAX_ANSWER = 2000
QUESTION = {TRY: "What will you try from this call?", FOLLOW_UP: "Did you try it? What happened?"}


def day_after(call: Call) -> datetime:
    local = call.start_at.astimezone(ZoneInfo(call.timezone))
    return datetime.combine(local.date() + timedelta(days=1), ASK_AT, tzinfo=local.tzinfo)


def community_asks(session: Session, community_id: int) -> bool:
    row = session.get(CommunityAfterCall, community_id)
    return row is None or row.value_questions


def set_community_asks(
    session: Session, community_id: int, on: bool, by: str, now: datetime
) -> None:
    row = session.get(CommunityAfterCall, community_id, with_for_update=True)
    if row is None:
        inserted = insert_ignoring_duplicates(
            session,
            CommunityAfterCall,
            [
                {
                    "community_id": community_id,
                    "value_questions": on,
                    "updated_by": by,
                    "updated_at": now,
                }
            ],
        )
        if inserted:
            return
        row = session.get(CommunityAfterCall, community_id, with_for_update=True)
    row.value_questions = on
    row.updated_by = by
    row.updated_at = now
    session.add(row)
    if not on:
        session.execute(
            update(ValueQuestion)
            .where(ValueQuestion.community_id == community_id, ValueQuestion.state == PENDING)
            .values(state=SKIPPED)
            .execution_options(synchronize_session=False)
        )


def plan_try(session: Session, call: Call, member_ids: list[str]) -> int:
    """Ask each member who attended, the day after the call; how many were planned."""
    if not member_ids or not community_asks(session, call.community_id):
        return 0
    stopped = set(
        session.exec(
            select(ValueOptOut.slack_user_id).where(ValueOptOut.slack_user_id.in_(member_ids))
        ).all()
    )
    due = day_after(call)
    rows = [
        {
            "call_id": call.id,
            "community_id": call.community_id,
            "slack_user_id": uid,
            "stage": TRY,
            "due_at": due,
            "state": PENDING,
            "evidence_ok": False,
            "may_name": False,
        }
        for uid in sorted(set(member_ids) - stopped)
    ]
    return insert_ignoring_duplicates(session, ValueQuestion, rows)


def claim(session: Session, now: datetime, at: datetime, limit: int = 50) -> tuple[str, list[int]]:
    """Claim due questions (of people who did not turn them off, in communities that ask)."""
    stopped = select(ValueOptOut.slack_user_id).where(
        ValueOptOut.slack_user_id == ValueQuestion.slack_user_id
    )
    community_off = select(CommunityAfterCall.community_id).where(
        CommunityAfterCall.community_id == ValueQuestion.community_id,
        CommunityAfterCall.value_questions.is_(False),
    )
    ready = and_(
        or_(
            and_(ValueQuestion.state == PENDING, ValueQuestion.due_at <= now),
            and_(ValueQuestion.state == CLAIMED, ValueQuestion.claimed_at < at - CLAIM_TIMEOUT),
        ),
        ~stopped.exists(),
        ~community_off.exists(),
    )
    return claim_where(session, ValueQuestion, ready, at, limit)


def mark(session: Session, question_id: int, token: str, state: str, now: datetime) -> bool:
    """Sent or failed, if `token` still holds the question."""
    done = session.execute(
        update(ValueQuestion)
        .where(
            ValueQuestion.id == question_id,
            ValueQuestion.state == CLAIMED,
            ValueQuestion.claim_token == token,
        )
        .values(state=state, sent_at=now if state == SENT else None, claim_token=None)
        .returning(ValueQuestion.id)
        .execution_options(synchronize_session=False)
    ).first()
    return done is not None


def stop_asking(session: Session, user_id: str) -> None:
    """The person turns the questions off: never asked again."""
    insert_ignoring_duplicates(session, ValueOptOut, [{"slack_user_id": user_id}])
    session.execute(
        update(ValueQuestion)
        .where(
            ValueQuestion.slack_user_id == user_id,
            ValueQuestion.state.in_([PENDING, CLAIMED]),
        )
        .values(state=SKIPPED)
        .execution_options(synchronize_session=False)
    )


def stopped(session: Session, user_id: str) -> bool:
    return session.get(ValueOptOut, user_id) is not None


def question_for(session: Session, question_id: int, user_id: str) -> ValueQuestion:
    """The question, if it was asked of `user_id`; CopError otherwise (a forged id)."""
    q = session.get(ValueQuestion, question_id)
    if q is None or q.slack_user_id != user_id:
        raise CopError("That question was not asked of you.")
    return q


def earlier_answer(session: Session, q: ValueQuestion) -> str | None:
    """For a follow-up: what the person said they would try."""
    if q.stage != FOLLOW_UP:
        return None
    first = session.exec(
        select(ValueQuestion.answer).where(
            ValueQuestion.call_id == q.call_id,
            ValueQuestion.slack_user_id == q.slack_user_id,
            ValueQuestion.stage == TRY,
        )
    ).first()
    return first


@dataclass(frozen=True)
class Saved:
    question: ValueQuestion
    first: bool  # False: it was answered already, nothing changed


def save_answer(
    session: Session,
    question_id: int,
    user_id: str,
    text: str,
    *,
    evidence_ok: bool,
    may_name: bool,
    now: datetime,
) -> Saved:
    """Keep the answer once; the first answer to "what will you try" plans the follow-up."""
    text = (text or "").strip()
    if len(text) > MAX_ANSWER:
        raise CopError(f"Keep the answer to {MAX_ANSWER:,} characters (it has {len(text):,}).")
    if not text:
        raise CopError("Write a few words, or close the form: the question is optional.")
    q = question_for(session, question_id, user_id)
    won = session.execute(
        update(ValueQuestion)
        .where(ValueQuestion.id == q.id, ValueQuestion.answered_at.is_(None))
        .values(answer=text, answered_at=now, evidence_ok=evidence_ok, may_name=may_name)
        .returning(ValueQuestion.id)
        .execution_options(synchronize_session=False)
    ).first()
    session.refresh(q)
    if won is None:
        return Saved(q, False)
    if q.stage == TRY:
        insert_ignoring_duplicates(
            session,
            ValueQuestion,
            [
                {
                    "call_id": q.call_id,
                    "community_id": q.community_id,
                    "slack_user_id": user_id,
                    "stage": FOLLOW_UP,
                    "due_at": now + FOLLOW_UP_AFTER,
                    "state": PENDING,
                    "evidence_ok": False,
                    "may_name": False,
                }
            ],
        )
    if evidence_ok:
        to_evidence(session, q)
    return Saved(q, True)


def to_evidence(session: Session, q: ValueQuestion) -> None:
    """A consented answer becomes an item of the community's evidence log, added by
    copbot, with the person as its author only when they may be named."""
    call = session.get(Call, q.call_id)
    said = "will try" if q.stage == TRY else "tried"
    text = f"After “{call.topic}”, a member {said}: {q.answer or ''}"
    session.add(
        Evidence(
            community_id=q.community_id,
            text=text[:MAX_TEXT],
            author=q.slack_user_id if q.may_name else None,
            added_by=BY_COPBOT,
        )
    )
    session.flush()


@dataclass(frozen=True)
class PracticeLine:
    """An answer for the progress report's "connection to practice"."""

    stage: str
    answer: str
    who: str | None  # the Slack user id when they may be named; None: anonymised
    answered_at: datetime


def practice_lines(
    session: Session, community_id: int, since: datetime, until: datetime
) -> list[PracticeLine]:
    """Consented answers of the period, oldest first."""
    rows = session.exec(
        select(ValueQuestion)
        .where(
            ValueQuestion.community_id == community_id,
            ValueQuestion.evidence_ok.is_(True),
            ValueQuestion.answered_at >= since,
            ValueQuestion.answered_at < until,
        )
        .order_by(ValueQuestion.answered_at)
    ).all()
    return [
        PracticeLine(
            q.stage, q.answer or "", q.slack_user_id if q.may_name else None, q.answered_at
        )
        for q in rows
    ]


DRAFT_MAX = 3000  # the report field's max_length: Slack refuses a longer initial value
QUOTE_MAX = 400  # one answer's share of the draft


def practice_draft(
    session: Session, community_id: int, since: datetime, until: datetime, limit: int = 12
) -> str:
    """A first draft of the progress report's "connection to practice": the consented
    answers of the period, each as a quote (long ones cut), named only when the person
    said so; never longer than the field takes (`DRAFT_MAX`)."""
    lines = practice_lines(session, community_id, since, until)
    if not lines:
        return ""
    shown = []
    for line in lines[-limit:]:
        who = "a member"
        if line.who:
            person = session.get(Person, line.who)
            who = (person.real_name or person.display_name) if person else ""
            who = who or "a member"
        said = "will try" if line.stage == TRY else "tried"
        answer = line.answer.strip()
        if len(answer) > QUOTE_MAX:
            answer = answer[: QUOTE_MAX - 1].rstrip() + "…"
        shown.append(f"- {who} {said}: “{answer}”")
    head = "What members took from the calls into their practice:\n"
    tail = "- and {} more in the evidence log"
    while shown:
        more = len(lines) - len(shown)
        text = head + "\n".join(shown + ([tail.format(more)] if more else []))
        if len(text) <= DRAFT_MAX:
            return text
        shown.pop()  # the newest quotes come last: keep the earlier ones whole
    return (head + tail.format(len(lines)))[:DRAFT_MAX]
