"""The value questions' rules: answers checked and kept once (also when two arrive at
once), the follow-up planned once, and the report's draft naming only who agreed."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.services import CopError, value
from storage.db import session_scope
from storage.models import Person, ValueQuestion
from tests.helpers.records import ended_call, new_community

NOW = datetime.now(UTC)


@pytest.fixture
def asked(session):
    community = new_community(session, channel="CVALUE01", leader="U1")
    call = ended_call(session, community, NOW - timedelta(days=2), meeting_id=7)
    assert value.plan_try(session, call, ["U5", "U6"]) == 2
    assert value.plan_try(session, call, ["U5", "U6"]) == 0  # planned once
    session.add(Person(slack_user_id="U6", real_name="Cy Named"))
    session.commit()
    rows = session.exec(select(ValueQuestion).order_by(ValueQuestion.slack_user_id)).all()
    return community, call, {q.slack_user_id: q.id for q in rows}


def test_answers_are_checked(asked, session):
    _, _, ids = asked
    for text, words in (("   ", "Write a few words"), ("x" * 2001, "2,000 characters")):
        with pytest.raises(CopError, match=words):
            value.save_answer(
                session, ids["U5"], "U5", text, evidence_ok=True, may_name=False, now=NOW
            )
    with pytest.raises(CopError, match="not asked of you"):
        value.save_answer(
            session, ids["U5"], "U6", "mine", evidence_ok=True, may_name=False, now=NOW
        )


def test_two_answers_at_once_keep_one_and_plan_one_follow_up(asked, engine):
    _, _, ids = asked
    firsts: list[bool] = []
    barrier = threading.Barrier(4)

    def answer(n: int) -> None:
        barrier.wait()
        with session_scope(engine) as s:
            saved = value.save_answer(
                s, ids["U5"], "U5", f"answer {n}", evidence_ok=True, may_name=False, now=NOW
            )
            firsts.append(saved.first)

    threads = [threading.Thread(target=answer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(firsts) == [False, False, False, True]
    with session_scope(engine) as s:
        follow = s.exec(select(ValueQuestion).where(ValueQuestion.stage == "follow_up")).all()
    assert len(follow) == 1 and follow[0].due_at == NOW + timedelta(days=60)


def test_the_report_draft_names_only_those_who_agreed(asked, session):
    community, _, ids = asked
    value.save_answer(
        session, ids["U5"], "U5", "Ask-tell-ask", evidence_ok=True, may_name=False, now=NOW
    )
    value.save_answer(
        session, ids["U6"], "U6", "A huddle checklist", evidence_ok=True, may_name=True, now=NOW
    )
    session.commit()
    draft = value.practice_draft(
        session, community.id, NOW - timedelta(days=1), NOW + timedelta(days=1)
    )
    assert "- a member will try: “Ask-tell-ask”" in draft
    assert "- Cy Named will try: “A huddle checklist”" in draft
    assert "U5" not in draft
    nothing = value.practice_draft(
        session, community.id, NOW + timedelta(days=2), NOW + timedelta(days=3)
    )
    assert nothing == ""


def test_the_report_draft_fits_the_field_with_long_answers(asked, session):
    """Two answers of 2,000 characters: the draft stays within the field's 3,000
    characters (Slack refuses a longer initial value), each quote cut, none dropped."""
    community, _, ids = asked
    for user in ("U5", "U6"):
        value.save_answer(
            session, ids[user], user, "word " * 400, evidence_ok=True, may_name=False, now=NOW
        )
    session.commit()
    draft = value.practice_draft(
        session, community.id, NOW - timedelta(days=1), NOW + timedelta(days=1)
    )
    assert len(draft) <= value.DRAFT_MAX
    assert draft.count("- a member will try: “word word") == 2 and draft.count("…”") == 2


def test_answers_without_consent_stay_out_of_the_report(asked, session):
    community, _, ids = asked
    value.save_answer(
        session, ids["U5"], "U5", "Private", evidence_ok=False, may_name=True, now=NOW
    )
    session.commit()
    lines = value.practice_lines(
        session, community.id, NOW - timedelta(days=1), NOW + timedelta(days=1)
    )
    assert lines == []


def test_racing_passes_send_each_question_once(asked, engine, settings, slack):
    from bot.deps import Deps
    from bot.flows import after_call
    from bot.slack_client import make_web_client

    deps, client = Deps(settings=settings, engine=engine), make_web_client(settings)
    due = NOW + timedelta(days=3)
    results = []
    barrier = threading.Barrier(4)

    def send() -> None:
        result = after_call.AfterCallResult()
        barrier.wait()
        after_call.send_questions(deps, client, due, datetime.now(UTC), result)
        results.append(result.asked)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(q for asked in results for q in asked) == sorted(asked[2].values())
    sent_to = sorted(c.args["channel"] for c in slack.calls_to("chat.postMessage"))
    assert sent_to == ["U5", "U6"]
