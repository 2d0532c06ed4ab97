"""`/cop plan`: the planning conversation (a modal a section at a time), review, publish
and export.

`/cop plan` opens the section the leaders stopped at; `/cop plan N` opens section N;
`/cop plan show | publish | export`. Each step saves, so closing Slack loses nothing.
Members who are not leaders get the plan read-only.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from bot.blocks import escape, plain
from bot.blocks import plan as blocks
from bot.blocks import section as section_block
from bot.flows import plans as flows
from bot.listeners.common import CommandRequest, modal_values
from bot.listeners.guard import Interaction, on_action, on_submission
from bot.listeners.routes import Routes
from bot.services import CopError, plans
from bot.services import communities as svc
from bot.services.permissions import Action, who_can
from bot.services.planning_tool import SECTION_COUNT, section
from bot.slack_client import respond
from storage.models import Community, PurposeArea

route = Routes()

log = logging.getLogger(__name__)

USAGE = (
    "`/cop plan` opens the plan where you left off · `/cop plan 3` opens section 3 · "
    "`/cop plan show` shows it all · `/cop plan publish` posts it to the channel · "
    "`/cop plan export` sends it to you as a Markdown file."
)


# ---- the command ------------------------------------------------------------------------
def cmd_plan(req: CommandRequest) -> None:
    community = req.community()
    sub = req.sub
    may_edit = req.may(Action.EDIT_PLAN, community)
    plan = plans.load(req.session, community)

    if sub == "show" or (not may_edit and (sub == "" or _is_number(sub))):
        intro = None
        if not may_edit:
            intro = blocks.readonly_intro(plan, svc.leaders(req.session, community.id))
        _show(req, plan, intro)
        return
    if sub in ("publish", "export") and not may_edit:
        raise CopError(
            f"Only {who_can(Action.EDIT_PLAN)} can {sub} the plan of *{escape(community.name)}*."
        )
    if sub == "publish":
        name = escape(community.name)
        if not plans.claim_publication(req.session, community, req.user_id):
            raise CopError(_BUSY.format(name=name, channel=community.slack_channel_id))
        req.say_ephemeral(f"Publishing the plan of *{name}* to <#{community.slack_channel_id}>…")
        req.later(flows.publish, req.client, req.deps, community.id, req.user_id, req.response_url)
        return
    if sub == "export":
        req.say_ephemeral("I'm sending you the plan as a Markdown file in a direct message.")
        req.later(
            flows.send_export, req.client, req.deps, community.id, req.user_id, req.response_url
        )
        return
    if sub == "" or _is_number(sub):
        number = plans.parse_section_number(sub) if sub else plan.resume_section()
        view = blocks.section_modal(plan, number)
        req.open_view(view)
        return
    raise req.unknown("plan", USAGE)


_BUSY = (
    "The plan of *{name}* is being published to <#{channel}> right now; it will be there "
    "in a moment. Publish again afterwards if you changed something since."
)
# the ack and four response_url answers: Slack allows five uses of a response_url
SHOW_MAX_MESSAGES = 5


def _is_number(text: str) -> bool:
    return re.fullmatch(r"[+-]?\d+", text) is not None


def _show(req: CommandRequest, plan: plans.PlanSnapshot, intro: str | None) -> None:
    """The plan in at most SHOW_MAX_MESSAGES messages: the ack, then response_url
    answers (four at most, within Slack's five uses of one response_url)."""
    messages = blocks.plan_messages(
        plan, include_unanswered=True, max_messages=SHOW_MAX_MESSAGES, lead=intro
    )
    req.reply({"response_type": "ephemeral", **messages[0]})
    for more in messages[1:SHOW_MAX_MESSAGES]:
        req.later(respond, req.response_url, more)


# ---- the modal ----------------------------------------------------------------------------
def _answers_from(view: dict[str, Any], number: int) -> dict[str, str]:
    """The answers of section `number` in a modal's state; inputs not in the modal are
    left out, and an emptied one is ""."""
    present = (view.get("state") or {}).get("values") or {}
    values = modal_values(view)
    answers = {}
    for q in section(number).questions:
        if q.key not in present:
            continue
        value = values.get(q.key, "")
        if isinstance(value, list):
            # the areas in their own order, whatever order Slack lists them in
            value = ",".join(a.value for a in PurposeArea if a.value in value)
        answers[q.key] = value if isinstance(value, str) else ""
    return answers


_FORGED = (
    "This form is not one I can read (it may be from an older copbot); "
    "open the plan again with `/cop plan`."
)


def _metadata(view: dict[str, Any]) -> tuple[int, int, dict[str, str] | None]:
    """The modal's community, section and fingerprints, or CopError when malformed."""
    try:
        return blocks.read_full_metadata(view)
    except blocks.BadMetadata:
        raise CopError(_FORGED) from None


def _in_modal(i: Interaction, error: CopError) -> None:
    i.ack(response_action="update", view=_message_view(str(error)))


def _editable(i: Interaction, community_id: int) -> Community:
    return i.community_allowing(community_id, Action.EDIT_PLAN, "edit this plan")


@route.view(blocks.SECTION_CALLBACK)
@on_submission(_in_modal)
def handle_section_submission(i: Interaction) -> None:
    """Save & next (or Save & review on the last section)."""
    community_id, number, shown = _metadata(i.view)
    answers = _answers_from(i.view, number)
    community = _editable(i, community_id)
    errors = plans.save_section(
        i.session,
        community,
        number,
        answers,
        i.user_id,
        shown=shown,
        resume_at=number + 1 if number < SECTION_COUNT else None,
    )
    plan = plans.load(i.session, community)
    if errors:
        i.ack(response_action="errors", errors=errors)
    elif number < SECTION_COUNT:
        i.ack(response_action="update", view=blocks.section_modal(plan, number + 1))
    else:
        i.ack(response_action="update", view=blocks.review_view(plan))


@route.view(blocks.REVIEW_CALLBACK)
@on_submission(_in_modal)
def handle_review_submission(i: Interaction) -> None:
    """Publish from the review modal (one publication at a time)."""
    community_id, _, _ = _metadata(i.view)
    community = _editable(i, community_id)
    if not plans.claim_publication(i.session, community, i.user_id):
        raise CopError(
            _BUSY.format(name=escape(community.name), channel=community.slack_channel_id)
        )
    i.ack()
    i.later(flows.publish, i.client, i.deps, community_id, i.user_id, None)


def _message_view(text: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": plain("Community plan", 24),
        "close": plain("Close", 24),
        "blocks": [section_block(text)],
    }


def _update_modal(i: Interaction, view: dict[str, Any]) -> None:
    shown = i.view
    if shown.get("id"):
        i.later(i.client.views_update, view_id=shown["id"], hash=shown.get("hash"), view=view)


def _nav_refused(i: Interaction, error: CopError) -> None:
    _update_modal(i, _message_view(str(error)))


@route.action(blocks.SAVE_CLOSE_ACTION)
@route.action(blocks.BACK_ACTION)
@on_action(refuse=_nav_refused)
def handle_nav_action(i: Interaction) -> None:
    """Back, or Save & close: save what is in the modal, then move or confirm."""
    action = i.action.get("action_id")
    community_id, number, shown = _metadata(i.view)
    answers = _answers_from(i.view, number)
    community = _editable(i, community_id)
    errors = plans.save_section(i.session, community, number, answers, i.user_id, shown=shown)
    target = number - 1 if action == blocks.BACK_ACTION and number > 1 else number
    plans.set_last_section(i.session, community, target)
    plan = plans.load(i.session, community)
    problems = " ".join(errors.values()) or None
    if action == blocks.BACK_ACTION:
        new_view = blocks.section_modal(plan, target, note=problems and f":warning: {problems}")
    else:
        new_view = blocks.saved_view(plan, number, problems)
    _update_modal(i, new_view)


register = route.register
