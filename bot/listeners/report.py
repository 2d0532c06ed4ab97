"""`/cop report`: the leaders' annual progress report, pre-filled with what copbot knows;
a draft or submitted (staff are told once). `/cop report status` (staff: who has
submitted) · `/cop report export` (the report as a Markdown file in a direct message)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import community as community_blocks
from bot.blocks import escape
from bot.blocks import report as blocks
from bot.deps import Deps
from bot.listeners.common import CommandRequest, modal_values, object_id
from bot.services import CopError, evidence, reports
from bot.services import communities as svc
from bot.services.calls import year_label
from bot.services.ids import whole_number
from bot.services.permissions import Action, can, who_can
from bot.slack_client import post_message, tell
from storage.db import session_scope
from storage.models import Community, ProgressReport, utcnow


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
        notice = blocks.submitted_notice(community, known.year, user_id, saved.report.id)
        for staff in sorted(deps.settings.staff):
            deps.later(post_message, client, staff, notice)


def send_export(
    client: WebClient,
    deps: Deps,
    community_id: int,
    user_id: str,
    response_url: str | None,
    year: int | None = None,
) -> None:
    """The report of `year` (default: this program year's) as a Markdown file, in a
    direct message to `user_id`."""
    current, first, end = _year(deps)
    if year is not None and year != current:
        start = deps.settings.program_year_start
        _, first, end = reports.year_of(date(year, *start) - timedelta(days=1), start)
    year = current if year is None else year
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
            initial_comment=f"The {known.year} progress report of *{escape(community.name)}*.",
        )
    except SlackApiError as e:
        tell(response_url or "", f"I couldn't send the report ({e.response.get('error')}).")


# ---- reading a report in Slack ------------------------------------------------------------
def _readable(deps: Deps, session, report_id: int | None, user_id: str):
    """(report, community) if `user_id` may read the report an id names: staff, or the
    leaders of the report's own community; CopError saying why not."""
    report = session.get(ProgressReport, report_id) if report_id is not None else None
    community = session.get(Community, report.community_id) if report else None
    if report is None or community is None:
        raise CopError("That progress report no longer exists.")
    actor = deps.actor(user_id)
    role = svc.role_of(session, community.id, user_id)
    if not (can(actor, Action.VIEW_ALL_COMMUNITIES) or can(actor, Action.EDIT_PLAN, role)):
        raise CopError(
            f"Only staff and the leaders of *{escape(community.name)}* can read its "
            "progress report."
        )
    return report, community


def _report_view(deps: Deps, report_id: int | None, user_id: str, page: int) -> dict[str, Any]:
    with session_scope(deps.engine) as session:
        report, community = _readable(deps, session, report_id, user_id)
        known = reports.facts_as_saved(report)
        label = known.year if known else str(report.year)
        return blocks.read_view(community, report, known, label, page)


def _refused(deps: Deps, body: dict[str, Any], client: WebClient, text: str) -> None:
    """Tell who pressed a button why nothing happened: under the message, or in a direct
    message when the button was in a modal (which has no response_url)."""
    if body.get("response_url"):
        deps.later(tell, body["response_url"], text)
    else:
        deps.later(post_message, client, body["user"]["id"], community_blocks.message_for(text))


def handle_read(ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
    """Read the report: opens it read-only, first page."""
    ack()
    deps: Deps = context["copbot"]
    value = ((body.get("actions") or [{}])[0]).get("value")
    try:
        view = _report_view(deps, object_id(value), body["user"]["id"], 0)
    except CopError as e:
        _refused(deps, body, client, str(e))
        return
    deps.open_view(client, body.get("trigger_id", ""), view)


def handle_page(ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
    """Previous/Next in the read-only report: the same modal, another page."""
    ack()
    deps: Deps = context["copbot"]
    raw, _, page = str(((body.get("actions") or [{}])[0]).get("value") or "").partition(":")
    number = whole_number(page, max_digits=5) or 0
    try:
        view = _report_view(deps, object_id(raw), body["user"]["id"], number)
    except CopError as e:
        _refused(deps, body, client, str(e))
        return
    shown = body.get("view") or {}
    deps.later(client.views_update, view_id=shown.get("id"), hash=shown.get("hash"), view=view)


def handle_file(ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
    """Send me the Markdown file: the report as a file in a direct message."""
    ack()
    deps: Deps = context["copbot"]
    user_id = body["user"]["id"]
    value = ((body.get("actions") or [{}])[0]).get("value")
    try:
        with session_scope(deps.engine) as session:
            report, community = _readable(deps, session, object_id(value), user_id)
            community_id, year = community.id, report.year
    except CopError as e:
        _refused(deps, body, client, str(e))
        return
    deps.later(send_export, client, deps, community_id, user_id, body.get("response_url"), year)


def register(app: App) -> None:
    app.view(blocks.REPORT_CALLBACK)(handle_report_submission)
    app.action(blocks.READ_ACTION)(handle_read)
    app.action(re.compile(f"^{blocks.PAGE_ACTION}_"))(handle_page)
    app.action(blocks.FILE_ACTION)(handle_file)
