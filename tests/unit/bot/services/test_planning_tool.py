"""The planning tool as data covers every guiding question of the seed document."""

from __future__ import annotations

import re

import pytest

from bot.services.planning_tool import QUESTIONS, SECTION_COUNT, SECTIONS, section
from storage.models import PURPOSE_AREA_LABELS
from tests.helpers.paths import SPECS

SEED = (SPECS / "seed_planning_tool.txt").read_text()


def _norm(text: str) -> str:
    text = text.replace("…", "").replace("...", "")
    return re.sub(r"[^a-z0-9 ]+", "", re.sub(r"\s+", " ", text.lower())).strip()


def _seed_questions() -> list[str]:
    """Every guiding question or norm statement of the seed: bullet lines and "…" lines."""
    found = []
    for line in SEED.splitlines():
        line = line.strip()
        if line.startswith("- "):
            found.append(line[2:])
        elif line.startswith("..."):
            found.append(line[3:])
        elif line.endswith("?") and len(line) > 20:
            found.append(line)
    return found


def test_the_seed_has_what_we_expect_to_check():
    questions = _seed_questions()
    assert len(questions) >= 26  # 3+2 purpose/results, 5, 3, 7+1 norms, 3, 2
    assert any("role and a voice" in q for q in questions)


@pytest.mark.parametrize("question", _seed_questions())
def test_every_seed_question_is_in_the_tool(question):
    wanted = _norm(question)
    # the seed names one organisation's conference; the tool speaks of "the annual conference"
    wanted = wanted.replace("the cass annual conference in march", "the annual conference")
    texts = [_norm(q.text) for q in QUESTIONS.values()]
    assert any(wanted in t for t in texts), question


def test_seven_sections_in_the_seed_order():
    assert SECTION_COUNT == 7
    assert [s.title for s in SECTIONS] == [
        "Purpose",
        "Membership",
        "Leadership",
        "Norms",
        "Collaborative plan",
        "Results & celebrations",
        "Connection to professional practice",
    ]
    for s in SECTIONS:
        assert _norm(s.title.replace("&", "")).split()[0] in _norm(SEED)


def test_norms_have_the_seven_statements_and_how_they_are_shared():
    norms = section(4).questions
    assert len(norms) == 8
    assert norms[-1].text.startswith("How will the norms be developed and shared")


def test_purpose_offers_the_four_activity_areas():
    areas = [q for q in section(1).questions if q.kind == "areas"]
    assert len(areas) == 1
    for label in PURPOSE_AREA_LABELS.values():
        assert label.lower() in areas[0].hint.lower()


def test_keys_are_unique_and_fit_block_ids():
    keys = [q.key for s in SECTIONS for q in s.questions]
    assert len(keys) == len(set(keys))
    assert all(len(k) <= 64 for k in keys)  # the answer table's column, under Slack's 255


def test_section_range():
    assert section(1).key == "purpose" and section(7).key == "practice"
    for bad in (0, 8, -1):
        with pytest.raises(ValueError, match="sections 1 to 7"):
            section(bad)
