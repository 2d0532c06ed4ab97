"""Staff's exports open safely elsewhere: no CSV cell reaches a spreadsheet as a formula
(OWASP's CSV-injection guidance) while every other text comes back exactly as typed, and
no answer in a Markdown export forges a heading or carries raw HTML."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from bot.cli import export as health_cli
from bot.services import deliverables_export as dx
from bot.services import health_export, plan_export, polls, reports
from bot.services import poll_export as exports
from bot.text import csv_cell, csv_uncell, md_block, md_inline
from storage.models import ProgressReport
from tests.helpers.records import new_community

FORMULAS = [
    "=1+2 Oncology",
    '=HYPERLINK("http://evil.example","click")',
    "+SUM(A1)",
    "-2+3",
    "@SUM(1)",
    "\t=cmd",
    "\r=cmd",
    "'=already quoted",
]
HARMLESS = [
    "Oncology",
    "a = b",
    "Smith-Jones",
    "1+1",
    'She said "hi", then, left',
    "Line one\nline two",
    "Сообщество практики",
    "東京 ☕",
    "",
    "e-mail @ noon",
]


@pytest.mark.parametrize("text", FORMULAS)
def test_a_formula_cell_is_quoted_and_reads_back(text):
    cell = csv_cell(text)
    assert cell == "'" + text
    assert csv_uncell(cell) == text


@pytest.mark.parametrize("text", HARMLESS)
def test_other_text_is_left_exactly_as_typed(text):
    assert csv_cell(text) == text
    assert csv_uncell(text) == text


def test_numbers_and_empty_values_are_not_text():
    assert [csv_cell(v) for v in (-3, 0, 2.5, True, None)] == [-3, 0, 2.5, True, None]


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_every_csv_export_neutralises_formulas(session, settings):
    hostile = "=1+2 Oncology"
    c = new_community(session, name=hostile, channel="CF1", leader="U1")
    draft, errors = polls.validate(
        polls.PollForm(question="-1+1 or @two?", options=["=A1", "Plain"], anonymous=False),
        datetime.now(UTC),
    )
    assert not errors
    polls.create(session, [c], draft, "U1")
    session.add(
        ProgressReport(
            community_id=c.id,
            year=2030,
            state="submitted",
            updated_by="U1",
            results="+CMD|' /C calc'!A0",
            celebrations="Fine words, kept",
            practice="@import",
        )
    )
    session.commit()

    polled = _rows(exports.to_csv(exports.export_polls(session)))
    assert {r["community"] for r in polled} == {"'" + hostile}
    assert {r["question"] for r in polled} == {"'-1+1 or @two?"}
    assert [r["option"] for r in polled] == ["'=A1", "Plain"]

    [row] = _rows(dx.reports_csv(dx.reports(session, 2030)))
    assert (row["community"], row["results"], row["practice"]) == (
        "'" + hostile,
        "'+CMD|' /C calc'!A0",
        "'@import",
    )
    assert row["celebrations"] == "Fine words, kept"

    found = health_cli.health_rows(settings)
    text = health_export.to_csv(found)
    assert [r["name"] for r in _rows(text)] == ["'" + hostile]
    assert health_export.from_csv(text)[0]["name"] == hostile

    for out in (text, dx.reports_csv(dx.reports(session, 2030))):
        for cells in csv.reader(io.StringIO(out, newline="")):
            assert not [x for x in cells if x[:1] in ("=", "+", "-", "@", "\t", "\r")], cells


FORGED = "Grew to 40\n## Rural Care (submitted)\n\nAll done <script>alert(1)</script>"


def test_markdown_text_cannot_open_a_heading_or_html():
    out = md_block(FORGED + "\n<img src=x onerror=alert(1)>\nTitle\n===\n   # deep\n- a list item")
    lines = out.split("\n")
    assert "## Rural Care (submitted)" not in lines
    assert r"\## Rural Care (submitted)" in lines
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "<img" not in out and "&lt;img src=x onerror=alert(1)&gt;" in out
    assert r"\===" in lines and r"   \# deep" in lines
    assert "- a list item" in lines and "Grew to 40" in lines
    assert md_inline("Care\n# x [y](javascript:z) <b>") == r"Care # x \[y\](javascript:z) &lt;b&gt;"
    assert md_inline("#hashtag") == r"\#hashtag"


def _headings(markdown: str) -> list[str]:
    return [line for line in markdown.split("\n") if line.lstrip().startswith("#")]


def test_the_report_exports_keep_people_inside_their_section(session):
    c = new_community(session, name="Survivorship <b>", channel="CF2", leader="U1")
    report = ProgressReport(
        community_id=c.id,
        year=2030,
        state="draft",
        updated_by="U1",
        results=FORGED,
        celebrations="<img src=x onerror=alert(1)>",
        practice="Practice\n---",
    )
    session.add(report)
    session.commit()
    year_doc = dx.reports_markdown(dx.reports(session, 2030), 2030)
    assert _headings(year_doc) == [
        "# Progress reports 2030",
        "## Survivorship &lt;b&gt; (draft)",
        "### Results",
        "### Celebrations",
        "### Connection to professional practice",
    ]
    assert "<script>" not in year_doc and "<img" not in year_doc and "<b>" not in year_doc
    assert "\\---" in year_doc.split("\n")
    known = reports.Facts(
        year="2030", purpose="<b>p</b>", evidence_plan="# e", calls_held=1, calls_scheduled=0,
        recordings=0, onsite="Room <A>", agenda="draft", evidence_items=1,
    )  # fmt: skip
    one = reports.to_markdown(c, report, known, ["2030-01-02 ## Forged (https://x.example/a)"])
    assert [h for h in _headings(one) if "Forged" in h or "Rural" in h] == []
    assert "<script>" not in one and "<img" not in one
    assert one.startswith("# Survivorship &lt;b&gt;: annual progress report 2030")


def test_the_plan_export_keeps_answers_inside_their_question(session):
    from bot.services import plans

    c = new_community(session, name="Plan <i>", channel="CF3", leader="U1", mission="<b>m</b>")
    first = next(q for q in plan_export.SECTIONS[0].questions if q.kind != "areas")
    errors = plans.save_section(session, c, 1, {first.key: "Our why\n# 8. Forged section"}, "U1")
    assert errors == {}
    session.commit()
    doc = plan_export.to_markdown(plans.load(session, c))
    assert [h for h in _headings(doc) if "Forged" in h] == []
    assert "<i>" not in doc and "<b>" not in doc
    assert "\\# 8. Forged section" in doc.split("\n")
