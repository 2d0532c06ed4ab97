"""App Home's year view: reads the overview for the viewer (staff: every community;
leaders: their to-do list) and adds it to the home view."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from bot.blocks.home_year import extend_home
from bot.deps import Deps
from bot.flows.after_call_home import with_health
from bot.services import calls, hosts, overview
from bot.services.permissions import Action, can


def with_year(
    deps: Deps, session: Session, user_id: str, view: dict[str, Any], page: int, show: str
) -> dict[str, Any]:
    settings = deps.settings
    now = deps.clock.now()
    today = now.astimezone(settings.zone).date()
    staff = can(deps.actor(user_id), Action.VIEW_ALL_COMMUNITIES)
    rows = (
        overview.staff_rows(
            session, today, settings.program_year_start, user_id, zone=settings.timezone
        )
        if staff
        else None
    )
    if rows is not None:
        rows = with_health(session, rows, deps.settings, now)
    todo = overview.leader_todo(
        session,
        user_id,
        today,
        settings.zone,
        settings.program_year_start,
        settings.agenda_due,
        settings.report_due,
    )
    return extend_home(
        view,
        rows=rows,
        todo=todo,
        page=page,
        show=show,
        calls=overview.next_calls(session, user_id, now),
        onsite=overview.onsite_grid(session, today) if staff else None,
        zoom_hosts=hosts.next_meetings(session, deps.conferencing.hosts, now) if staff else (),
        year=calls.year_label(calls.program_year(today, settings.program_year_start)[0]),
    )
