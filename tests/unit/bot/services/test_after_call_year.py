"""After the call, joined to the year's deliverables: consented answers in the evidence
log (anonymised unless the person may be named), the progress report's attendance and
its "connection to practice" draft, and `/cop resources` listing the archive by call."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.blocks import report as report_blocks
from bot.blocks.evidence import evidence_list
from bot.services import recordings, reports, value
from bot.services.evidence import BY_COPBOT
from sandbox.slack_standin import TEAM_ID
from storage.db import session_scope
from storage.models import CallAttendance, Evidence, Person, ValueQuestion
from tests.helpers.records import ended_call, new_community
from tests.helpers.slack import ack_text

NOW = datetime.now(UTC)
CHANNEL = "CYEARAC1"


def _questions(session, community, call):
    value.plan_try(session, call, ["U5", "U6"])
    session.add(Person(slack_user_id="U6", real_name="Cy Named"))
    session.commit()
    rows = session.exec(select(ValueQuestion).order_by(ValueQuestion.slack_user_id)).all()
    return {q.slack_user_id: q.id for q in rows}


def test_consented_answers_go_to_the_evidence_log_named_only_when_allowed(session):
    community = new_community(session, channel=CHANNEL, leader="U1")
    call = ended_call(session, community, NOW - timedelta(days=1), topic="Huddles <b>")
    ids = _questions(session, community, call)
    value.save_answer(
        session, ids["U5"], "U5", "Teach-back", evidence_ok=True, may_name=False, now=NOW
    )
    value.save_answer(
        session, ids["U6"], "U6", "Checklists", evidence_ok=True, may_name=True, now=NOW
    )
    session.commit()
    items = session.exec(select(Evidence).order_by(Evidence.id)).all()
    assert [(i.text, i.author, i.added_by) for i in items] == [
        ("After “Huddles <b>”, a member will try: Teach-back", None, BY_COPBOT),
        ("After “Huddles <b>”, a member will try: Checklists", "U6", BY_COPBOT),
    ]
    shown = [
        json.dumps(b, ensure_ascii=False)
        for b in evidence_list(community, items, 2, may_remove=False)["blocks"][1:]
    ]
    assert "U5" not in shown[0] and "added by copbot" in shown[0]
    assert "&lt;b&gt;" in shown[0]  # what a person typed stays inert
    assert "<@U6>" in shown[1] and "added by copbot" in shown[1]


def test_answers_without_consent_stay_out_of_the_evidence_log(session):
    community = new_community(session, channel=CHANNEL, leader="U1")
    call = ended_call(session, community, NOW - timedelta(days=1))
    ids = _questions(session, community, call)
    value.save_answer(session, ids["U5"], "U5", "Mine", evidence_ok=False, may_name=True, now=NOW)
    session.commit()
    assert session.exec(select(Evidence)).all() == []


def test_the_report_knows_attendance_and_drafts_the_connection_to_practice(session, settings):
    community = new_community(session, channel=CHANNEL, leader="U1")
    start = NOW - timedelta(days=3)
    call = ended_call(session, community, start)
    session.add(CallAttendance(call_id=call.id, came=12, members=7, first_timers=2))
    ids = _questions(session, community, call)
    value.save_answer(
        session, ids["U6"], "U6", "A checklist", evidence_ok=True, may_name=True, now=NOW
    )
    session.commit()
    today = NOW.astimezone(settings.zone).date()
    year, first, end = reports.year_of(today, settings.program_year_start)
    known = reports.facts(session, community, first, end, NOW)
    assert known.attended.startswith("1 call read: 12 people (12 in all")
    assert "- Cy Named will try: “A checklist”" in known.practice_draft
    modal = report_blocks.report_modal(community, year, known, None)
    practice = next(b for b in modal["blocks"] if b.get("block_id") == report_blocks.PRACTICE)
    assert "A checklist" in practice["element"]["initial_value"]
    assert "Attendance: 1 call read" in report_blocks.facts_text(known)


def test_cop_resources_lists_the_archive_by_call(as_user, engine):
    with session_scope(engine) as s:
        community = new_community(s, channel=CHANNEL, leader="U1", team=TEAM_ID)
        call = ended_call(s, community, NOW - timedelta(days=2), topic="Webinar <#3>")
        recordings.add_link(s, call, "reading", "https://read.example/a", "Paper A", "U1")
        recordings.add_link(s, call, "slides", "https://slides.example/d", "", "U1")
    text = ack_text(as_user("U1", CHANNEL).reply("resources"))
    assert "Webinar &lt;#3&gt;" in text
    assert "<https://read.example/a|Paper A>" in text
    assert "<https://slides.example/d|slides>" in text
