"""`/cop report`: the leaders' annual progress report, pre-filled with what copbot knows;
a draft or submitted (staff are told once). `/cop report status` (staff: who has
submitted) · `/cop report export` (the report as a Markdown file in a direct message)."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import report as blocks
from bot.deps import Deps
from bot.listeners.common import CommandRequest, modal_values, post_message, tell
from bot.services import CopError, evidence, reports
from bot.services import communities as svc
from bot.services.calls import year_label
from bot.services.permissions import Action, can, who_can
from storage.db import session_scope
from storage.models import Community, utcnow


def _year(deps: Deps):
    today = utcnow().astimezone(deps.settings.zone).date()
    return reports.year_of(today, deps.settings.program_year_start)


def cmd_report(req: CommandRequest) -> None:
    words = req.args.split()
    sub = words[0].lower() if words else ""
    year, first, end = _year(req.deps)
    if sub == "status":
        if not can(req.actor, Action.VIEW_ALL_COMMUNITIES):
            raise CopError(f"Only {who_can(Action.VIEW_ALL_COMMUNITIES)} see every report.")
        rows = [(c, reports.load(req.session, c.id, year)) for c in svc.all_by_name(req.session)]
        req.reply(blocks.status_message(year_label(first), rows))
        return
    if sub not in ("", "export"):
        raise CopError(
            f"I don't know `/cop report {sub[:20]}`. `/cop report` writes the progress report · "
            "`/cop report export` sends it as a file · `/cop report status` (staff)."
        )
    community = req.community()
    role = svc.role_of(req.session, community.id, req.user_id)
    if not can(req.actor, Action.EDIT_PLAN, role):
        raise CopError(
            f"Only {who_can(Action.EDIT_PLAN)} write the progress report of *{community.name}*."
        )
    if sub == "export":
        req.say_ephemeral("I'm sending you the progress report as a Markdown file.")
        req.later(send_export, req.client, req.deps, community.id, req.user_id, req.response_url)
        return
    known = reports.facts(req.session, community, first, end, utcnow())
    view = blocks.report_modal(
        community, year, known, reports.load(req.session, community.id, year)
    )
    req.ack()
    req.later(req.client.views_open, trigger_id=req.trigger_id, view=view)


def handle_report_submission(
    ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]
) -> None:
    deps: Deps = context["copbot"]
    view = body["view"]
    user_id = body["user"]["id"]
    values = modal_values(view)
    meta = blocks.read_metadata(view)
    submit = values.get(blocks.ACTION) == blocks.SUBMIT_CHOICE
    texts = {k: values.get(k) or "" for k in reports.TEXT_FIELDS}
    errors = reports.validate(texts, submit=submit)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    try:
        if meta is None:
            raise CopError("This form is out of date; run `/cop report` again.")
        community_id, year = meta
        with session_scope(deps.engine) as session:
            community = session.get(Community, community_id)
            if community is None:
                raise CopError("This community no longer exists.")
            role = svc.role_of(session, community.id, user_id)
            if not can(deps.actor(user_id), Action.EDIT_PLAN, role):
                raise CopError(f"Only {who_can(Action.EDIT_PLAN)} write the progress report.")
            current, first, end = _year(deps)
            if year not in (current, current - 1):
                raise CopError(f"Reports for {year} are closed; run `/cop report` again.")
            known = reports.facts(session, community, first, end, utcnow())
            saved = reports.save(session, community.id, year, texts, known, user_id, submit=submit)
    except CopError as e:
        ack(response_action="errors", errors={blocks.RESULTS: str(e)})
        return
    done = blocks.saved_view(
        community, known.year, state=saved.report.state, newly_submitted=saved.newly_submitted
    )
    ack(response_action="update", view=done)
    if saved.newly_submitted:
        notice = blocks.submitted_notice(community, known.year, user_id)
        for staff in sorted(deps.settings.staff):
            deps.later(post_message, client, staff, notice)


def send_export(
    client: WebClient, deps: Deps, community_id: int, user_id: str, response_url: str | None
) -> None:
    """The report as a Markdown file, in a direct message to `user_id`."""
    year, first, end = _year(deps)
    with session_scope(deps.engine) as session:
        community = session.get(Community, community_id)
        report = reports.load(session, community_id, year)
        known = reports.facts(session, community, first, end, utcnow())
        log_lines = [
            f"{e.added_at:%Y-%m-%d} {' '.join(e.text.split())[:300]}"
            + (f" ({e.permalink})" if e.permalink else "")
            for e in evidence.items(session, community_id, limit=50)
        ]
    slug = re.sub(r"[^a-z0-9]+", "-", community.name.lower()).strip("-") or "community"
    try:
        dm = client.conversations_open(users=user_id)["channel"]["id"]
        client.files_upload_v2(
            channel=dm,
            filename=f"{slug}-report-{year}.md",
            title=f"Progress report: {community.name}",
            content=reports.to_markdown(community, report, known, log_lines),
            initial_comment=f"The {known.year} progress report of *{community.name}*.",
        )
    except SlackApiError as e:
        tell(response_url or "", f"I couldn't send the report ({e.response.get('error')}).")


def register(app: App) -> None:
    app.view(blocks.REPORT_CALLBACK)(handle_report_submission)
