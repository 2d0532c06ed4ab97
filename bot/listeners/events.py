"""Events API: App Home (a retried event is handled once: `bot.listeners.replay`)."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient

from bot.blocks.community import home_view
from bot.deps import Deps
from bot.flows import announcements as announcement_flows
from bot.flows import home
from bot.flows.after_call_home import with_after_call as home_sections
from bot.listeners.routes import Routes
from bot.services import calls, reminders
from bot.services import communities as svc
from bot.services.permissions import Action, can
from storage.db import session_scope

route = Routes()

log = logging.getLogger(__name__)


@route.event("app_home_opened")
def handle_app_home_opened(event: dict[str, Any], client: WebClient, deps: Deps) -> None:
    """Home opened: published after the ack."""
    if event.get("tab", "home") != "home":
        return
    deps.later(publish_home, client, deps, event["user"])


def publish_home(
    client: WebClient, deps: Deps, user_id: str, page: int = 0, show: str = "all"
) -> None:
    actor = deps.actor(user_id)
    settings = deps.settings
    first, end = calls.program_year(
        deps.clock.now().astimezone(settings.zone).date(), settings.program_year_start
    )
    with session_scope(deps.engine) as session:
        mine = svc.for_person(session, user_id)
        everyone = (
            svc.all_communities(session, user_id)
            if can(actor, Action.VIEW_ALL_COMMUNITIES)
            else None
        )
        ids = sorted({s.community.id for s in [*mine, *(everyone or [])]})
        counts = calls.community_call_counts(session, ids, first, end, zone=settings.timezone)
        problems = None
        if everyone is not None:
            names = {s.community.id: s.community.name for s in everyone}
            problems = [
                f"{names.get(r.community_id, '?')}: {r.kind.replace('_', ' ')} due "
                f"{r.due_at:%Y-%m-%d %H:%M} UTC, {r.state}"
                + (f" ({r.last_error})" if r.last_error and r.state == "failed" else "")
                for r in [*reminders.failures(session, 10), *reminders.missed(session, 10)]
            ]
    view = home_view(
        user_id,
        mine,
        everyone,
        call_counts=counts,
        year=calls.year_label(first),
        reminder_problems=problems,
    )
    view = announcement_flows.with_home_blocks(view, deps, user_id, [s.community.id for s in mine])
    with session_scope(deps.engine) as session:
        view = home.with_year(deps, session, user_id, view, page, show)
    view = home_sections(deps, actor, [s.community.id for s in mine], view)
    client.views_publish(user_id=user_id, view=view)


register = route.register
