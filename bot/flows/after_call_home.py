"""The App Home's after-call part: staff see each community's health in the table of
every community (`with_health`), a leader their own communities' lines and the switch of
their value questions, and everyone the archive (recordings, slides, readings) of their
communities by call, appended within Slack's 100 blocks (`with_after_call`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.blocks import MAX_HOME_BLOCKS
from bot.blocks import after_call as blocks
from bot.deps import Deps
from bot.services import calls, health, recordings, value
from bot.services import communities as svc
from bot.services.permissions import Actor
from storage.db import session_scope
from storage.models import Community, Role

ARCHIVE_CALLS = 5  # calls shown per community on Home


def with_after_call(
    deps: Deps, actor: Actor, community_ids: list[int], view: dict[str, Any]
) -> dict[str, Any]:
    """`view` with the after-call blocks appended (as many as fit)."""
    settings = deps.settings
    now = deps.clock.now()
    first, end = calls.program_year(
        now.astimezone(settings.zone).date(), settings.program_year_start
    )
    with session_scope(deps.engine) as session:
        leads = [
            cid for cid in community_ids if svc.role_of(session, cid, actor.user_id) == Role.LEADER
        ]
        own_rows = health.build(session, now, first, end, settings.timezone, leads) if leads else []
        communities = {c: session.get(Community, c) for c in community_ids}
        switches = [(communities[c], value.community_asks(session, c)) for c in leads]
        archives = [
            (communities[c], recordings.archive(session, c, ARCHIVE_CALLS)) for c in community_ids
        ]
    room = MAX_HOME_BLOCKS - len(view.get("blocks", []))
    extra = blocks.home_blocks(own_rows, archives, switches, room)
    return {**view, "blocks": [*view.get("blocks", []), *extra]}


def with_health(session: Session, rows: list, settings: Any, now: datetime) -> list:
    """Staff's table rows (`bot.services.overview.Row`) with each community's health as of
    `now`."""
    first, end = calls.program_year(
        now.astimezone(settings.zone).date(), settings.program_year_start
    )
    found = {
        h.community_id: h
        for h in health.build(
            session, now, first, end, settings.timezone, [r.community.id for r in rows]
        )
    }
    return [
        replace(r, health=blocks.health_text(found[r.community.id]))
        if r.community.id in found
        else r
        for r in rows
    ]
