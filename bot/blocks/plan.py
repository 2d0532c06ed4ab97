"""Block Kit for the plan: one modal per section, the saved and review views, and the plan
as messages split within Slack's limits."""

from __future__ import annotations

import json
from typing import Any

from bot.blocks import (
    MAX_MESSAGE_BLOCKS,
    MAX_SECTION_TEXT,
    Block,
    context,
    escape,
    header,
    join_words,
    mention,
    plain,
    section,
)
from bot.services.plan_export import display_answer
from bot.services.planning_tool import MAX_ANSWER_LENGTH, SECTION_COUNT, SECTIONS, Section
from bot.services.plans import PlanSnapshot
from storage.models import PURPOSE_AREA_LABELS, PurposeArea

SECTION_CALLBACK = "plan_section"
REVIEW_CALLBACK = "plan_review"
BACK_ACTION = "plan_back"
SAVE_CLOSE_ACTION = "plan_save_close"
OPEN_SECTION_ACTION = "plan_open_section"
ACTIONS_BLOCK = "plan_nav"
# a message holds at most 50 blocks; a soft size keeps each part readable
MESSAGE_TEXT_BUDGET = 12000


def metadata(community_id: int, section_number: int) -> str:
    return json.dumps({"community": community_id, "section": section_number})


def read_metadata(view: dict[str, Any]) -> tuple[int, int]:
    meta = json.loads(view.get("private_metadata") or "{}")
    return int(meta["community"]), int(meta["section"])


def _edited_line(plan: PlanSnapshot) -> str:
    edit = plan.last_edit()
    line = plan.progress
    if edit:
        ts = int(edit.updated_at.timestamp())
        line += (
            f" · last edit by {mention(edit.updated_by)} "
            f"<!date^{ts}^{{date_short_pretty}} at {{time}}|{edit.updated_at:%Y-%m-%d %H:%M} UTC>"
        )
    return line


def _question_input(plan: PlanSnapshot, question) -> Block:
    current = plan.suggested(question)
    if question.kind == "areas":
        options = [{"text": plain(PURPOSE_AREA_LABELS[a]), "value": a.value} for a in PurposeArea]
        element: dict[str, Any] = {"type": "checkboxes", "options": options}
        chosen = [o for o in options if o["value"] in current.split(",")]
        if chosen:
            element["initial_options"] = chosen
    else:
        element = {
            "type": "plain_text_input",
            "multiline": True,
            "max_length": MAX_ANSWER_LENGTH,
        }
        if current:
            element["initial_value"] = current
    block: Block = {
        "type": "input",
        "block_id": question.key,
        "label": plain(question.text, 2000),
        "element": {**element, "action_id": "value"},
        "optional": True,
    }
    if question.hint:
        block["hint"] = plain(question.hint, 2000)
    return block


def section_modal(plan: PlanSnapshot, number: int, note: str | None = None) -> dict[str, Any]:
    """The modal for section `number`: its purpose, intro, one input per question."""
    s: Section = SECTIONS[number - 1]
    blocks: list[Block] = []
    if note:
        blocks.append(section(note))
    blocks += [
        header(f"Section {number} of {SECTION_COUNT} · {s.title}"),
        context(f"*{escape(s.purpose)}*\n{_edited_line(plan)}"),
        section(f"_{escape(s.intro)}_"),
    ]
    blocks += [_question_input(plan, q) for q in s.questions]
    nav = []
    if number > 1:
        nav.append(
            {
                "type": "button",
                "action_id": BACK_ACTION,
                "text": plain(f"◀ Back to {SECTIONS[number - 2].title}"[:75]),
                "value": str(number),
            }
        )
    nav.append(
        {
            "type": "button",
            "action_id": SAVE_CLOSE_ACTION,
            "text": plain("Save & close"),
            "value": str(number),
        }
    )
    blocks.append({"type": "actions", "block_id": ACTIONS_BLOCK, "elements": nav})
    blocks.append(
        context("Answers are saved on every step; `/cop plan` picks up where you left off.")
    )
    submit = "Save & next" if number < SECTION_COUNT else "Save & review"
    return {
        "type": "modal",
        "callback_id": SECTION_CALLBACK,
        "title": plain(f"Plan · {number} of {SECTION_COUNT}", 24),
        "submit": plain(submit, 24),
        "close": plain("Cancel", 24),
        "private_metadata": metadata(plan.community.id, number),
        "blocks": blocks,
    }


def saved_view(plan: PlanSnapshot, number: int, problems: str | None = None) -> dict[str, Any]:
    """Shown after Save & close."""
    s = SECTIONS[number - 1]
    text = f"Saved *{number}. {escape(s.title)}*. {plan.progress}."
    if problems:
        text += f"\n:warning: {problems}"
    blocks = [section(text), _progress_list(plan)]
    blocks.append(
        context("`/cop plan` picks up where you left off; `/cop plan show` shows it all.")
    )
    return {
        "type": "modal",
        "title": plain("Plan saved", 24),
        "close": plain("Done", 24),
        "blocks": blocks,
    }


def review_view(plan: PlanSnapshot) -> dict[str, Any]:
    """After the last section: progress, gaps, and a Publish button."""
    c = plan.community
    blocks: list[Block] = [
        header(f"Plan for {c.name}"),
        section(
            f"{plan.progress}."
            + (
                " Every section has answers."
                if plan.is_complete
                else " Sections with open questions are marked; you can publish now and "
                "update the posted plan later."
            )
        ),
        _progress_list(plan),
        context(
            f"Publishing posts the plan to <#{c.slack_channel_id}>; publishing again "
            "updates those messages."
        ),
    ]
    return {
        "type": "modal",
        "callback_id": REVIEW_CALLBACK,
        "title": plain("Review the plan", 24),
        "submit": plain("Publish", 24),
        "close": plain("Not yet", 24),
        "private_metadata": metadata(c.id, SECTION_COUNT),
        "blocks": blocks,
    }


def _progress_list(plan: PlanSnapshot) -> Block:
    lines = []
    for s in SECTIONS:
        done = plan.section_complete(s.number)
        mark = ":white_check_mark:" if done else ":white_circle:"
        count = f"{plan.answered_in(s.number)}/{len(s.questions)} answered"
        lines.append(f"{mark} {s.number}. {escape(s.title)} · {count}")
    return section("\n".join(lines))


def _answer_blocks(question, text: str) -> list[Block]:
    """A question and its answer as sections of at most 3,000 characters each."""
    title = f"*{escape(question.text)}*\n"
    body = escape(display_answer(question, text))
    room = MAX_SECTION_TEXT - len(title)
    first, rest = body[:room], body[room:]
    blocks = [section(title + first)]
    while rest:
        blocks.append(section(rest[:MAX_SECTION_TEXT]))
        rest = rest[MAX_SECTION_TEXT:]
    return blocks


def _block_text_size(block: Block) -> int:
    text = block.get("text")
    if isinstance(text, dict):
        return len(text.get("text", ""))
    return sum(len(e.get("text", "")) for e in block.get("elements", []))


def plan_messages(plan: PlanSnapshot, *, include_unanswered: bool) -> list[dict[str, Any]]:
    """The plan as one or more messages (headers per section), each within Slack's limits
    and with a plain-text fallback."""
    c = plan.community
    groups: list[tuple[str, list[Block]]] = [
        (
            "",
            [
                header(f"Community of Practice plan: {c.name}"),
                context(_edited_line(plan)),
            ],
        )
    ]
    if c.mission:
        groups[0][1].append(section(f"*Mission:* {escape(c.mission)}"[:MAX_SECTION_TEXT]))
    for s in SECTIONS:
        blocks: list[Block] = [header(f"{s.number}. {s.title}")]
        answered = 0
        for q in s.questions:
            text = plan.answer(q.key).strip()
            if text:
                answered += 1
                blocks += _answer_blocks(q, text)
            elif include_unanswered:
                blocks.append(section(f"*{escape(q.text)}*\n_Not answered yet._"))
        if not answered and not include_unanswered:
            blocks.append(context("_Not written yet._"))
        groups.append((s.title, blocks))

    messages: list[tuple[list[str], list[Block]]] = [([], [])]
    for title, blocks in groups:
        # a long section may itself need several messages
        for block in blocks:
            titles, current = messages[-1]
            size = sum(_block_text_size(b) for b in current)
            if current and (
                len(current) >= MAX_MESSAGE_BLOCKS
                or size + _block_text_size(block) > MESSAGE_TEXT_BUDGET
            ):
                messages.append(([], []))
                titles, current = messages[-1]
            current.append(block)
            if title and title not in titles:
                titles.append(title)
    total = len(messages)
    out = []
    for i, (titles, blocks) in enumerate(messages, start=1):
        part = f" (part {i} of {total})" if total > 1 else ""
        covers = f": {join_words(titles)}" if titles else ""
        text = f"Community of Practice plan for {c.name}{part}{covers}. {plan.progress}."
        out.append({"text": text, "blocks": blocks})
    return out


def readonly_intro(plan: PlanSnapshot, leaders: list[str]) -> str:
    who = join_words([mention(u) for u in leaders]) or "its leaders"
    return (
        f"Here is the plan of *{escape(plan.community.name)}* ({plan.progress}). "
        f"Only leaders and staff can edit it; ask {who}."
    )
