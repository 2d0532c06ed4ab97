"""Plans without Slack: saving a section, resuming, completeness, the nudge hook, export."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.services import CopError, plans
from bot.services.plan_export import to_json, to_markdown
from bot.services.planning_tool import SECTIONS, section
from storage.models import PurposeArea
from tests.helpers.records import new_community

T0 = datetime(2026, 9, 1, 15, 0, tzinfo=UTC)


@pytest.fixture
def community(session):
    return new_community(
        session,
        team="T1",
        channel="C1",
        name="Survivorship",
        mission="Better follow-up care.",
        areas=(PurposeArea.PRACTICE,),
        leader="U1",
    )


def fill(number: int, prefix: str = "answer") -> dict[str, str]:
    return {
        q.key: ("practice,knowledge" if q.kind == "areas" else f"{prefix} to {q.key}")
        for q in section(number).questions
    }


def test_a_new_plan_is_empty_and_offers_the_mission_and_areas(session, community):
    plan = plans.load(session, community)
    assert plan.progress == "0 of 7 sections complete"
    assert plan.resume_section() == 1
    statement = next(q for q in section(1).questions if q.key == "purpose.statement")
    areas = next(q for q in section(1).questions if q.kind == "areas")
    assert plan.suggested(statement) == "Better follow-up care."
    assert plan.suggested(areas) == "practice"
    assert plan.answer("purpose.statement") == ""  # a suggestion is not an answer


def test_save_resume_and_complete(session, community):
    assert plans.save_section(session, community, 1, fill(1), "U1", now=T0) == {}
    partial = dict(list(fill(2).items())[:2])
    plans.save_section(session, community, 2, partial, "U2", now=T0)
    plan = plans.load(session, community)
    assert plan.complete_sections == [1]
    assert plan.resume_section() == 2  # where the leader stopped, still unfinished
    assert plan.answered_in(2) == 2
    for n in range(2, 8):
        plans.save_section(session, community, n, fill(n), "U1", now=T0)
    plan = plans.load(session, community)
    assert plan.is_complete and plan.progress == "7 of 7 sections complete"
    assert plan.resume_section() == 1


def test_resume_skips_to_the_first_unfinished_when_the_last_one_is_done(session, community):
    plans.save_section(session, community, 1, fill(1), "U1")
    plans.save_section(session, community, 3, fill(3), "U1")
    assert plans.load(session, community).resume_section() == 2


def test_only_changed_answers_record_who_and_when(session, community):
    plans.save_section(session, community, 3, fill(3), "U1", now=T0)
    later = T0 + timedelta(days=2)
    changed = {**fill(3), "leadership.roles": "Ana hosts, Ben takes notes."}
    plans.save_section(session, community, 3, changed, "U2", now=later)
    plan = plans.load(session, community)
    assert plan.answers["leadership.roles"].updated_by == "U2"
    assert plan.answers["leadership.roles"].updated_at == later
    assert plan.answers["leadership.structure"].updated_by == "U1"
    assert plan.answers["leadership.structure"].updated_at == T0
    assert plan.last_edit().updated_by == "U2"


def test_an_over_long_answer_is_refused_and_the_others_are_kept(session, community):
    answers = {**fill(2), "membership.size": "x" * 3001}
    errors = plans.save_section(session, community, 2, answers, "U1")
    assert list(errors) == ["membership.size"]
    assert "3,000 characters" in errors["membership.size"]
    plan = plans.load(session, community)
    assert plan.answer("membership.size") == ""
    assert plan.answer("membership.profile") == "answer to membership.profile"


def test_answers_from_another_section_or_bad_areas_are_refused(session, community):
    errors = plans.save_section(session, community, 2, {"purpose.interest": "x"}, "U1")
    assert "not a question of section 2" in errors["purpose.interest"]
    errors = plans.save_section(session, community, 1, {"purpose.areas": "fun"}, "U1")
    assert errors == {"purpose.areas": "Choose among the four activity areas."}
    assert plans.load(session, community).answers == {}


def test_areas_are_kept_in_order_and_update_the_community(session, community):
    plans.save_section(session, community, 1, {"purpose.areas": "knowledge,relationships"}, "U1")
    assert plans.load(session, community).answer("purpose.areas") == "relationships,knowledge"
    assert [a.value for a in community.areas] == ["relationships", "knowledge"]


def test_clearing_an_answer_makes_the_section_incomplete(session, community):
    plans.save_section(session, community, 6, fill(6), "U1")
    assert plans.load(session, community).section_complete(6)
    plans.save_section(session, community, 6, {"results.celebration": "  "}, "U1")
    assert not plans.load(session, community).section_complete(6)


@pytest.mark.parametrize(
    ("text", "message"), [("9", "sections 1 to 7"), ("0", "no section 0"), ("two", "not a section")]
)
def test_section_numbers_typed_by_people(text, message):
    with pytest.raises(CopError, match=message):
        plans.parse_section_number(text)
    assert plans.parse_section_number("7") == 7


def test_unfinished_plans_for_nudges(session, community):
    other = new_community(session, team="T1", channel="C2", name="Informatics", leader="U3")
    for n in range(1, 8):
        plans.save_section(session, other, n, fill(n), "U3")
    plans.save_section(session, community, 4, fill(4), "U1")
    unfinished = plans.unfinished_plans(session)
    assert [(u.name, u.channel_id, u.sections) for u in unfinished] == [
        ("Survivorship", "C1", (1, 2, 3, 5, 6, 7))
    ]


def test_markdown_and_json_exports(session, community):
    plans.save_section(session, community, 1, fill(1), "U1", now=T0)
    plan = plans.load(session, community)
    md = to_markdown(plan)
    assert md.startswith("# Community of Practice plan: Survivorship\n")
    assert "_1 of 7 sections complete._ Last edited 2026-09-01 15:00 UTC." in md
    for s in SECTIONS:
        assert f"## {s.number}. {s.title}" in md
    assert "Learning and developing practice, Creating new knowledge" in md
    assert md.count("_Not answered yet._") == sum(len(s.questions) for s in SECTIONS[1:])
    data = json.loads(json.dumps(to_json(plan)))
    assert data["progress"] == {"complete": 1, "sections": 7}
    first = data["sections"][0]["questions"][0]
    assert first["updated_by"] == "U1" and first["updated_at"].startswith("2026-09-01T15:00")


def test_publication_is_recorded(session, community):
    plans.record_publication(session, community, "C1", ["1.1", "1.2"], "U1", T0)
    plan = plans.load(session, community)
    assert plan.published_channel == "C1" and plan.published_ts == ("1.1", "1.2")


def test_cli_exports_markdown_and_json(session, community, db_url, monkeypatch, tmp_path, capsys):
    from bot.cli import main

    plans.save_section(session, community, 1, fill(1), "U1", now=T0)
    session.commit()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["plan", "export", "survivorship"]) == 0
    out = capsys.readouterr().out
    assert out == to_markdown(plans.load(session, community))
    assert main(["plan", "export", "C1", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["community"]["name"] == "Survivorship"
    assert main(["plan", "export", str(community.id)]) == 0
    capsys.readouterr()
    assert main(["plan", "export", "Nope"]) == 1
    err = capsys.readouterr().err
    assert "no community 'Nope'" in err and "'Survivorship'" in err


def test_a_section_saved_whole_resumes_at_the_next_one_in_the_same_write(session, community):
    """`resume_at` moves the plan on only when every answer was saved, in the statement
    that records the section (no second write)."""
    plans.save_section(session, community, 2, fill(2), "U1", resume_at=3)
    assert plans.load(session, community).last_section == 3
    long = {**fill(2), next(iter(fill(2))): "x" * (plans.MAX_ANSWER_LENGTH + 1)}
    errors = plans.save_section(session, community, 2, long, "U1", resume_at=3)
    assert errors and plans.load(session, community).last_section == 2
