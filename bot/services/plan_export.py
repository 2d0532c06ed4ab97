"""A plan as Markdown or JSON, for `copbot plan export` and `/cop plan export`; what
people typed goes through `md_inline`/`md_block` (no forged headings, no raw HTML)."""

from __future__ import annotations

from typing import Any

from bot.services.planning_tool import SECTION_COUNT, SECTIONS, Question
from bot.services.plans import PlanSnapshot
from bot.text import md_block, md_inline
from storage.models import PURPOSE_AREA_LABELS, PurposeArea


def display_answer(question: Question, text: str) -> str:
    """An answer as a person reads it (activity areas by their names)."""
    if question.kind == "areas":
        return ", ".join(PURPOSE_AREA_LABELS[PurposeArea(v)] for v in text.split(",") if v)
    return text


def to_markdown(plan: PlanSnapshot) -> str:
    c = plan.community
    lines = [f"# Community of Practice plan: {md_inline(c.name)}", ""]
    lines.append(f"_{plan.progress}._")
    edit = plan.last_edit()
    if edit:
        lines[-1] += f" Last edited {edit.updated_at:%Y-%m-%d %H:%M} UTC."
    if c.mission:
        lines += ["", f"**Mission:** {md_inline(c.mission)}"]
    for s in SECTIONS:
        lines += ["", f"## {s.number}. {s.title}", "", f"_{s.intro}_"]
        for q in s.questions:
            answer = (
                md_block(display_answer(q, plan.answer(q.key)).strip()) or "_Not answered yet._"
            )
            lines += ["", f"**{q.text}**", "", answer]
    return "\n".join(lines) + "\n"


def to_json(plan: PlanSnapshot) -> dict[str, Any]:
    c = plan.community
    return {
        "community": {
            "id": c.id,
            "name": c.name,
            "channel": c.slack_channel_id,
            "mission": c.mission,
            "description": c.description,
        },
        "progress": {"complete": len(plan.complete_sections), "sections": SECTION_COUNT},
        "sections": [
            {
                "number": s.number,
                "key": s.key,
                "title": s.title,
                "complete": plan.section_complete(s.number),
                "questions": [
                    {
                        "key": q.key,
                        "question": q.text,
                        "answer": plan.answer(q.key),
                        "updated_by": a.updated_by if (a := plan.answers.get(q.key)) else None,
                        "updated_at": a.updated_at.isoformat() if a else None,
                    }
                    for q in s.questions
                ],
            }
            for s in SECTIONS
        ],
    }
