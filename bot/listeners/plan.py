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

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import community as community_blocks
from bot.blocks import escape, plain, plural
from bot.blocks import plan as blocks
from bot.blocks import section as section_block
from bot.deps import Deps
from bot.listeners.common import CommandRequest, community_allowing, modal_values
from bot.services import CopError, plans
from bot.services import communities as svc
from bot.services.permissions import Action, can, who_can
from bot.services.plan_export import to_markdown
from bot.services.planning_tool import SECTION_COUNT, section
from bot.slack_client import post_message, respond
from storage.db import session_scope
from storage.models import Community, PurposeArea

log = logging.getLogger(__name__)

USAGE = (
    "`/cop plan` opens the plan where you left off · `/cop plan 3` opens section 3 · "
    "`/cop plan show` shows it all · `/cop plan publish` posts it to the channel · "
    "`/cop plan export` sends it to you as a Markdown file."
)


# ---- the command ------------------------------------------------------------------------
def cmd_plan(req: CommandRequest) -> None:
    community = req.community()
    words = req.args.split()
    sub = words[0].lower() if words else ""
    role = svc.role_of(req.session, community.id, req.user_id)
    may_edit = can(req.actor, Action.EDIT_PLAN, role)
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
        req.later(publish, req.client, req.deps, community.id, req.user_id, req.response_url)
        return
    if sub == "export":
        req.say_ephemeral("I'm sending you the plan as a Markdown file in a direct message.")
        req.later(send_export, req.client, req.deps, community.id, req.user_id, req.response_url)
        return
    if sub == "" or _is_number(sub):
        number = plans.parse_section_number(sub) if sub else plan.resume_section()
        req.ack()
        view = blocks.section_modal(plan, number)
        req.deps.open_view(req.client, req.trigger_id, view)
        return
    raise CopError(f"I don't know `/cop plan {sub[:20]}`. {USAGE}")


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
def _editable(deps: Deps, session, community_id: int, user_id: str) -> Community:
    """The community, if `user_id` may edit its plan; CopError otherwise."""
    return community_allowing(
        deps, session, community_id, user_id, Action.EDIT_PLAN, "edit this plan"
    )


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


def handle_section_submission(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    """Save & next (or Save & review on the last section)."""
    deps: Deps = context["copbot"]
    view = body["view"]
    user_id = body["user"]["id"]
    try:
        community_id, number, shown = _metadata(view)
    except CopError as e:
        ack(response_action="update", view=_message_view(str(e)))
        return
    answers = _answers_from(view, number)
    try:
        with session_scope(deps.engine) as session:
            community = _editable(deps, session, community_id, user_id)
            errors = plans.save_section(
                session,
                community,
                number,
                answers,
                user_id,
                shown=shown,
                resume_at=number + 1 if number < SECTION_COUNT else None,
            )
            plan = plans.load(session, community)
    except CopError as e:
        ack(response_action="update", view=_message_view(str(e)))
        return
    if errors:
        ack(response_action="errors", errors=errors)
    elif number < SECTION_COUNT:
        ack(response_action="update", view=blocks.section_modal(plan, number + 1))
    else:
        ack(response_action="update", view=blocks.review_view(plan))


def handle_review_submission(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    """Publish from the review modal (one publication at a time)."""
    deps: Deps = context["copbot"]
    user_id = body["user"]["id"]
    try:
        community_id, _, _ = _metadata(body["view"])
        with session_scope(deps.engine) as session:
            community = _editable(deps, session, community_id, user_id)
            if not plans.claim_publication(session, community, user_id):
                raise CopError(
                    _BUSY.format(name=escape(community.name), channel=community.slack_channel_id)
                )
    except CopError as e:
        ack(response_action="update", view=_message_view(str(e)))
        return
    ack()
    deps.later(publish, client, deps, community_id, user_id, None)


def _message_view(text: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": plain("Community plan", 24),
        "close": plain("Close", 24),
        "blocks": [section_block(text)],
    }


def handle_nav_action(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    """Back, or Save & close: save what is in the modal, then move or confirm."""
    ack()
    deps: Deps = context["copbot"]
    view = body.get("view") or {}
    action = body["actions"][0]["action_id"]
    user_id = body["user"]["id"]
    try:
        community_id, number, shown = _metadata(view)
        answers = _answers_from(view, number)
        with session_scope(deps.engine) as session:
            community = _editable(deps, session, community_id, user_id)
            errors = plans.save_section(session, community, number, answers, user_id, shown=shown)
            target = number - 1 if action == blocks.BACK_ACTION and number > 1 else number
            plans.set_last_section(session, community, target)
            plan = plans.load(session, community)
    except CopError as e:
        new_view = _message_view(str(e))
    else:
        problems = " ".join(errors.values()) or None
        if action == blocks.BACK_ACTION:
            new_view = blocks.section_modal(plan, target, note=problems and f":warning: {problems}")
        else:
            new_view = blocks.saved_view(plan, number, problems)
    if view.get("id"):
        deps.later(client.views_update, view_id=view["id"], hash=view.get("hash"), view=new_view)


# ---- publish and export -----------------------------------------------------------------
def publish(
    client: WebClient, deps: Deps, community_id: int, user_id: str, response_url: str | None
) -> None:
    """Post the plan to the community's channel, or update the messages posted before.

    The caller holds the publication's claim (`plans.claim_publication`); recording the
    publication ends it, whatever happened."""
    with session_scope(deps.engine) as session:
        community = session.get(Community, community_id)
        if community is None:
            _tell(client, user_id, response_url, "That community no longer exists.")
            return
        plan = plans.load(session, community)
    channel = community.slack_channel_id
    messages = blocks.plan_messages(plan, include_unanswered=False)
    old = list(plan.published_ts) if plan.published_channel == channel else []
    posted: list[str] = []
    error = None
    try:
        posted = _post_plan(client, channel, messages, old)
    except SlackApiError as e:
        error = e.response.get("error") or "unknown_error"
    except Exception as e:  # noqa: BLE001 - the claim must end whatever went wrong
        log.warning("publishing the plan of %s failed: %s", community_id, type(e).__name__)
        error = "unexpected_error"
    if error:
        posted = [*posted, *old[len(posted) :]]  # keep track of what is still out there
    with session_scope(deps.engine) as session:
        community = session.get(Community, community_id)
        if community is not None:
            plans.record_publication(session, community, channel, posted, user_id)
    count = plural(len(messages), "message")
    if error:
        text = (
            f"I couldn't post the plan in <#{channel}> ({error}). If I'm not in that channel, "
            "invite me with `/invite @copbot` and publish again."
        )
    elif old:
        text = f"Updated the plan posted in <#{channel}> ({count})."
    else:
        text = f"Published the plan in <#{channel}> ({count})."
    _tell(client, user_id, response_url, text)


def _post_plan(
    client: WebClient, channel: str, messages: list[dict[str, Any]], old: list[str]
) -> list[str]:
    """Update the messages posted before, post the rest, delete those left over."""
    posted: list[str] = []
    for i, payload in enumerate(messages):
        if i < len(old):
            try:
                client.chat_update(channel=channel, ts=old[i], **payload)
                posted.append(old[i])
                continue
            except SlackApiError as e:
                if e.response.get("error") not in ("message_not_found", "cant_update_message"):
                    raise
        posted.append(client.chat_postMessage(channel=channel, **payload)["ts"])
    for ts in old[len(messages) :]:
        try:
            client.chat_delete(channel=channel, ts=ts)
        except SlackApiError as e:
            log.info("could not delete an old plan message: %s", e.response.get("error"))
    return posted


def _tell(client: WebClient, user_id: str, response_url: str | None, text: str) -> None:
    if response_url:
        respond(response_url, community_blocks.message_for(text))
    else:
        post_message(client, user_id, community_blocks.message_for(text))


def export_filename(community: Community) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", community.name.lower()).strip("-") or "community"
    return f"{slug}-plan.md"


def send_export(
    client: WebClient, deps: Deps, community_id: int, user_id: str, response_url: str | None
) -> None:
    """The plan as a Markdown file, in a direct message to `user_id`."""
    with session_scope(deps.engine) as session:
        community = session.get(Community, community_id)
        plan = plans.load(session, community)
    try:
        dm = client.conversations_open(users=user_id)["channel"]["id"]
        client.files_upload_v2(
            channel=dm,
            filename=export_filename(community),
            title=f"Plan: {community.name}",
            content=to_markdown(plan),
            initial_comment=f"The plan of *{escape(community.name)}* ({plan.progress}).",
        )
    except SlackApiError as e:
        _tell(
            client,
            user_id,
            response_url,
            f"I couldn't send the plan as a file ({e.response.get('error')}). "
            "`/cop plan show` shows it here.",
        )


def register(app: App) -> None:
    app.view(blocks.SECTION_CALLBACK)(handle_section_submission)
    app.view(blocks.REVIEW_CALLBACK)(handle_review_submission)
    app.action(blocks.BACK_ACTION)(handle_nav_action)
    app.action(blocks.SAVE_CLOSE_ACTION)(handle_nav_action)
