"""The App Home's after-call part: staff see every community's health line, a leader
their own communities' lines and the switch of their value questions, and everyone the
archive (recordings, slides, readings) of their communities by call. Appended to the
Home view within Slack's 100 blocks."""

from __future__ import annotations

from typing import Any

from bot.blocks import MAX_HOME_BLOCKS
from bot.blocks import after_call as blocks
from bot.deps import Deps
from bot.services import calls, health, recordings, value
from bot.services import communities as svc
from bot.services.permissions import Action, Actor, can
from storage.db import session_scope
from storage.models import Community, Role, utcnow

ARCHIVE_CALLS = 5  # calls shown per community on Home


def with_after_call(
    deps: Deps, actor: Actor, community_ids: list[int], view: dict[str, Any]
) -> dict[str, Any]:
    """`view` with the after-call blocks appended (as many as fit)."""
    settings = deps.settings
    now = utcnow()
    first, end = calls.program_year(
        now.astimezone(settings.zone).date(), settings.program_year_start
    )
    with session_scope(deps.engine) as session:
        leads = [
            cid for cid in community_ids if svc.role_of(session, cid, actor.user_id) == Role.LEADER
        ]
        staff = can(actor, Action.VIEW_ALL_COMMUNITIES)
        staff_rows = health.build(session, now, first, end, settings.timezone) if staff else None
        own_rows = health.build(session, now, first, end, settings.timezone, leads) if leads else []
        communities = {c: session.get(Community, c) for c in community_ids}
        switches = [(communities[c], value.community_asks(session, c)) for c in leads]
        archives = [
            (communities[c], recordings.archive(session, c, ARCHIVE_CALLS)) for c in community_ids
        ]
    room = MAX_HOME_BLOCKS - len(view.get("blocks", []))
    extra = blocks.home_blocks(staff_rows, own_rows, archives, switches, room)
    return {**view, "blocks": [*view.get("blocks", []), *extra]}
