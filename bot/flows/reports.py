"""After `/cop report export` or the report's "Send me the Markdown file" is acked: the
progress report of a program year as a Markdown file, in a direct message."""

from __future__ import annotations

import re
from datetime import date, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.services import evidence, reports
from bot.slack_client import tell
from bot.text import escape
from storage.db import session_scope
from storage.models import Community


def current_year(deps: Deps):
    """(year, first day, end) of the program year today is in."""
    today = deps.clock.now().astimezone(deps.settings.zone).date()
    return reports.year_of(today, deps.settings.program_year_start)


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
    current, first, end = current_year(deps)
    if year is not None and year != current:
        start = deps.settings.program_year_start
        _, first, end = reports.year_of(date(year, *start) - timedelta(days=1), start)
    year = current if year is None else year
    with session_scope(deps.engine) as session:
        community = session.get(Community, community_id)
        report = reports.load(session, community_id, year)
        known = reports.facts(session, community, first, end, deps.clock.now())
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
