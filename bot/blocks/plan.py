"""Block Kit for the plan: one modal per section, the saved and review views, and the plan
as messages split within Slack's limits.

A published plan fills each message up to 50 blocks and MESSAGE_TEXT_BUDGET characters
(Slack refuses a message whose blocks hold much more than 13,000 characters with
`msg_blocks_too_long`, whatever the block count), splitting a long answer across sections
and messages where it must, so it takes as few messages as the text allows: a plan with
all 27 text answers at 3,000 characters of plain text is 7 messages. `/cop plan show` passes
`max_messages` (5: the ack and four response_url answers, within Slack's five uses)
and long answers are shortened to fit, with a pointer to the full export."""

from __future__ import annotations

import json
from typing import Any

from bot.blocks import (
    MAX_HINT,
    MAX_LABEL,
    MAX_MESSAGE_BLOCKS,
    MAX_MODAL_TITLE,
    MAX_SECTION_TEXT,
    Block,
    context,
    escape,
    form,
    header,
    join_words,
    mention,
    plain,
    section,
    text_sections,
)
from bot.services.plan_export import display_answer
from bot.services.planning_tool import (
    MAX_ANSWER_LENGTH,
    SECTION_COUNT,
    SECTIONS,
    Section,
)
from bot.services.planning_tool import section as plan_section
from bot.services.plans import PlanSnapshot, fingerprint
from storage.models import PURPOSE_AREA_LABELS, PurposeArea

SECTION_CALLBACK = "plan_section"
REVIEW_CALLBACK = "plan_review"
BACK_ACTION = "plan_back"
SAVE_CLOSE_ACTION = "plan_save_close"
OPEN_SECTION_ACTION = "plan_open_section"
ACTIONS_BLOCK = "plan_nav"
# the characters of block text one message may hold (see the module docstring)
MESSAGE_TEXT_BUDGET = 12000
# a section is split across messages only when at least this much room is left
MIN_SPLIT = 500
SHORTENED_NOTE = "_Some long answers are shortened here; `/cop plan export` has them in full._"


class BadMetadata(ValueError):
    """private_metadata that copbot did not write (forged, or from an old version)."""


def metadata(community_id: int, section_number: int, shown: dict[str, str] | None = None) -> str:
    """The modal's private_metadata: the community, the section, and the fingerprint of
    each saved answer as the modal showed it (so untouched answers are not written)."""
    meta: dict[str, Any] = {"community": community_id, "section": section_number}
    if shown is not None:
        meta["shown"] = shown
    return json.dumps(meta, separators=(",", ":"))


def read_metadata(view: dict[str, Any]) -> tuple[int, int]:
    """(community id, section number) from a plan modal; BadMetadata when malformed."""
    community_id, number, _ = read_full_metadata(view)
    return community_id, number


def read_full_metadata(view: dict[str, Any]) -> tuple[int, int, dict[str, str] | None]:
    try:
        meta = json.loads(view.get("private_metadata") or "")
        community_id, number = meta["community"], meta["section"]
        shown = meta.get("shown")
    except (ValueError, TypeError, KeyError, AttributeError):
        raise BadMetadata("not plan metadata") from None
    if type(community_id) is not int or type(number) is not int or community_id < 1:
        raise BadMetadata("ids must be whole numbers")
    if not 1 <= number <= SECTION_COUNT:
        raise BadMetadata("no such section")
    if shown is not None and not (
        isinstance(shown, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in shown.items())
    ):
        raise BadMetadata("bad fingerprints")
    return community_id, number, shown


def shown_fingerprints(plan: PlanSnapshot, number: int) -> dict[str, str]:
    """The fingerprint of each saved answer of section `number`."""
    return {q.key: fingerprint(plan.answer(q.key)) for q in plan_section(number).questions}


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
        "label": plain(question.text, MAX_LABEL),
        "element": {**element, "action_id": "value"},
        "optional": True,
    }
    if question.hint:
        block["hint"] = plain(question.hint, MAX_HINT)
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
    return form(
        SECTION_CALLBACK,
        f"Plan · {number} of {SECTION_COUNT}",
        submit,
        blocks,
        metadata(plan.community.id, number, shown_fingerprints(plan, number)),
    )


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
        "title": plain("Plan saved", MAX_MODAL_TITLE),
        "close": plain("Done", MAX_MODAL_TITLE),
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
    return form(
        REVIEW_CALLBACK,
        "Review the plan",
        "Publish",
        blocks,
        metadata(c.id, SECTION_COUNT),
        close="Not yet",
    )


def _progress_list(plan: PlanSnapshot) -> Block:
    lines = []
    for s in SECTIONS:
        done = plan.section_complete(s.number)
        mark = ":white_check_mark:" if done else ":white_circle:"
        count = f"{plan.answered_in(s.number)}/{len(s.questions)} answered"
        lines.append(f"{mark} {s.number}. {escape(s.title)} · {count}")
    return section("\n".join(lines))


def _cut(text: str, limit: int) -> int:
    """Where to cut escaped mrkdwn `text` to keep at most `limit` characters: at a line
    break or space near the limit if there is one, and never inside an entity (&amp;)."""
    if len(text) <= limit:
        return len(text)
    cut = limit
    amp = text.rfind("&", max(0, cut - 5), cut)
    if amp != -1 and ";" not in text[amp:cut]:
        cut = amp
    for sep in ("\n", " "):
        at = text.rfind(sep, max(0, cut - 200), cut)
        if at > 0:
            return at + 1
    return cut


def _answer_blocks(question, text: str, limit: int | None = None) -> tuple[list[Block], bool]:
    """A question and its answer as sections of at most 3,000 characters each; the answer
    shortened to `limit` characters when given. Returns the blocks and whether it was."""
    answer = display_answer(question, text)
    shortened = limit is not None and len(answer) > limit
    if shortened:
        answer = answer[:limit].rstrip() + " …"
    title = f"*{escape(question.text)}*\n"
    body = escape(answer)
    blocks = text_sections(title + body)
    return blocks, shortened


def _block_text_size(block: Block) -> int:
    text = block.get("text")
    if isinstance(text, dict):
        return len(text.get("text", ""))
    return sum(len(e.get("text", "")) for e in block.get("elements", []))


def _plan_groups(
    plan: PlanSnapshot, include_unanswered: bool, limit: int | None, lead: str | None = None
) -> tuple[list[tuple[str, list[Block]]], bool]:
    c = plan.community
    intro: list[Block] = [section(lead)] if lead else []
    intro += [
        header(f"Community of Practice plan: {c.name}"),
        context(_edited_line(plan)),
    ]
    if c.mission:
        mission = escape(c.mission)
        intro.append(section(f"*Mission:* {mission[: _cut(mission, MAX_SECTION_TEXT - 20)]}"))
    groups: list[tuple[str, list[Block]]] = [("", intro)]
    any_shortened = False
    for s in SECTIONS:
        blocks: list[Block] = [header(f"{s.number}. {s.title}")]
        answered = 0
        for q in s.questions:
            text = plan.answer(q.key).strip()
            if text:
                answered += 1
                more, shortened = _answer_blocks(q, text, limit)
                blocks += more
                any_shortened |= shortened
            elif include_unanswered:
                blocks.append(section(f"*{escape(q.text)}*\n_Not answered yet._"))
        if not answered and not include_unanswered:
            blocks.append(context("_Not written yet._"))
        groups.append((s.title, blocks))
    if any_shortened:
        intro.append(context(SHORTENED_NOTE))
    return groups, any_shortened


def _pack(groups: list[tuple[str, list[Block]]]) -> list[tuple[list[str], list[Block]]]:
    """Blocks into as few messages as fit 50 blocks and MESSAGE_TEXT_BUDGET characters; a
    section that does not fit is split when enough room is left for it to be worth it."""
    messages: list[tuple[list[str], list[Block]]] = [([], [])]
    size = 0
    for title, blocks in groups:
        for block in blocks:
            titles, current = messages[-1]
            need = _block_text_size(block)
            if current and (
                len(current) >= MAX_MESSAGE_BLOCKS or size + need > MESSAGE_TEXT_BUDGET
            ):
                room = MESSAGE_TEXT_BUDGET - size
                text = block.get("text", {}).get("text", "") if block["type"] == "section" else ""
                if text and len(current) < MAX_MESSAGE_BLOCKS and room >= MIN_SPLIT:
                    cut = _cut(text, room)
                    current.append(section(text[:cut]))
                    block = section(text[cut:])
                    need = _block_text_size(block)
                    if title and title not in titles:
                        titles.append(title)
                messages.append(([], []))
                titles, current = messages[-1]
                size = 0
            current.append(block)
            size += need
            if title and title not in titles:
                titles.append(title)
    return messages


def plan_messages(
    plan: PlanSnapshot,
    *,
    include_unanswered: bool,
    max_messages: int | None = None,
    lead: str | None = None,
) -> list[dict[str, Any]]:
    """The plan as one or more messages (headers per section), each within Slack's limits
    and with a plain-text fallback; `lead` (mrkdwn) opens the first. With `max_messages`,
    long answers are shortened (by the same measure for all) until the plan fits in that
    many messages."""
    limit: int | None = None
    while True:
        groups, _ = _plan_groups(plan, include_unanswered, limit, lead)
        messages = _pack(groups)
        if max_messages is None or len(messages) <= max_messages or limit == 0:
            break
        longest = max((len(a.text) for a in plan.answers.values()), default=0)
        limit = int((limit if limit is not None else longest) * 0.8)
    total = len(messages)
    name = escape(plan.community.name)
    out = []
    for i, (titles, blocks) in enumerate(messages, start=1):
        part = f" (part {i} of {total})" if total > 1 else ""
        covers = f": {join_words(titles)}" if titles else ""
        text = f"Community of Practice plan for {name}{part}{covers}. {plan.progress}."
        if lead and i == 1:
            text = f"{lead}\n{text}"
        out.append({"text": text, "blocks": blocks})
    return out


def readonly_intro(plan: PlanSnapshot, leaders: list[str]) -> str:
    who = join_words([mention(u) for u in leaders]) or "its leaders"
    return (
        f"Here is the plan of *{escape(plan.community.name)}* ({plan.progress}). "
        f"Only leaders and staff can edit it; ask {who}."
    )
