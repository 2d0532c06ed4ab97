"""`/cop report`: the leaders' annual progress report, pre-filled with what copbot knows;
a draft or submitted (staff are told once). `/cop report status` (staff: who has
submitted) · `/cop report export` (the report as a Markdown file in a direct message)."""

from __future__ import annotations

import re
from typing import Any

from bot.blocks import escape
from bot.blocks import report as blocks
from bot.flows import reports as flows
from bot.flows.reports import current_year
from bot.listeners.common import CommandRequest
from bot.listeners.guard import Interaction, on_action, on_submission, where_possible
from bot.listeners.routes import Routes
from bot.services import CopError, access, reports
from bot.services import communities as svc
from bot.services.calls import year_label
from bot.services.ids import whole_number
from bot.services.permissions import Action, can, who_can
from bot.slack_client import post_message
from storage.models import Community, ProgressReport

route = Routes()


def cmd_report(req: CommandRequest) -> None:
    sub = req.sub
    year, first, end = current_year(req.deps)
    if sub == "status":
        req.require(Action.VIEW_ALL_COMMUNITIES, "see every report")
        rows = [(c, reports.load(req.session, c.id, year)) for c in svc.all_by_name(req.session)]
        req.reply(blocks.status_message(year_label(first), rows))
        return
    if sub not in ("", "export"):
        raise req.unknown(
            "report",
            "`/cop report` writes the progress report · `/cop report export` sends it as a "
            "file · `/cop report status` (staff).",
        )
    community = req.community()
    if not req.may(Action.EDIT_PLAN, community):
        raise CopError(
            f"Only {who_can(Action.EDIT_PLAN)} write the progress report of *{community.name}*."
        )
    if sub == "export":
        req.say_ephemeral("I'm sending you the progress report as a Markdown file.")
        req.later(
            flows.send_export, req.client, req.deps, community.id, req.user_id, req.response_url
        )
        return
    known = reports.facts(req.session, community, first, end, req.deps.clock.now())
    view = blocks.report_modal(
        community, year, known, reports.load(req.session, community.id, year)
    )
    req.open_view(view)


@route.view(blocks.REPORT_CALLBACK)
@on_submission(blocks.RESULTS)
def handle_report_submission(i: Interaction) -> None:
    """The report form: a draft or the submitted report; staff are told of a submission."""
    values = i.values()
    submit = values.get(blocks.ACTION) == blocks.SUBMIT_CHOICE
    texts = {k: values.get(k) or "" for k in reports.TEXT_FIELDS}
    errors = reports.validate(texts, submit=submit)
    if i.form_errors(errors):
        return
    meta = blocks.read_metadata(i.view)
    if meta is None:
        raise CopError("This form is out of date; run `/cop report` again.")
    community_id, year = meta
    community = i.community_allowing(
        community_id,
        Action.EDIT_PLAN,
        refusal=f"Only {who_can(Action.EDIT_PLAN)} write the progress report.",
    )
    current, first, end = current_year(i.deps)
    if year not in (current, current - 1):
        raise CopError(f"Reports for {year} are closed; run `/cop report` again.")
    known = reports.facts(i.session, community, first, end, i.deps.clock.now())
    saved = reports.save(
        i.session,
        community.id,
        year,
        texts,
        known,
        i.user_id,
        submit=submit,
        now=i.deps.clock.now(),
    )
    done = blocks.saved_view(
        community, known.year, state=saved.report.state, newly_submitted=saved.newly_submitted
    )
    i.ack(response_action="update", view=done)
    if saved.newly_submitted:
        notice = blocks.submitted_notice(community, known.year, i.user_id, saved.report.id)
        for staff in sorted(i.deps.settings.staff):
            i.later(post_message, i.client, staff, notice)


# ---- reading a report in Slack ------------------------------------------------------------
def _readable(i: Interaction, raw: str) -> tuple[ProgressReport, Community]:
    """(report, community) if the person may read the report an id names: staff, or the
    leaders of the report's own community; CopError saying why not."""
    gone = "That progress report no longer exists."
    report = access.load(i.session, ProgressReport, raw, missing=gone)
    community = i.session.get(Community, report.community_id)
    if community is None:
        raise CopError(gone)
    role = svc.role_of(i.session, community.id, i.user_id)
    if not (can(i.actor, Action.VIEW_ALL_COMMUNITIES) or can(i.actor, Action.EDIT_PLAN, role)):
        raise CopError(
            f"Only staff and the leaders of *{escape(community.name)}* can read its "
            "progress report."
        )
    return report, community


def _report_view(i: Interaction, raw: str, page: int) -> dict[str, Any]:
    report, community = _readable(i, raw)
    known = reports.facts_as_saved(report)
    label = known.year if known else str(report.year)
    return blocks.read_view(community, report, known, label, page)


@route.action(blocks.READ_ACTION)
@on_action(refuse=where_possible)
def handle_read(i: Interaction) -> None:
    """Read the report: opens it read-only, first page."""
    i.open_view(_report_view(i, i.value, 0))


@route.action(re.compile(f"^{blocks.PAGE_ACTION}_"))
@on_action(refuse=where_possible)
def handle_page(i: Interaction) -> None:
    """Previous/Next in the read-only report: the same modal, another page."""
    raw, _, page = i.value.partition(":")
    view = _report_view(i, raw, whole_number(page, max_digits=5) or 0)
    shown = i.view
    i.later(i.client.views_update, view_id=shown.get("id"), hash=shown.get("hash"), view=view)


@route.action(blocks.FILE_ACTION)
@on_action(refuse=where_possible)
def handle_file(i: Interaction) -> None:
    """Send me the Markdown file: the report as a file in a direct message."""
    report, community = _readable(i, i.value)
    i.later(
        flows.send_export, i.client, i.deps, community.id, i.user_id, i.response_url, report.year
    )


register = route.register
