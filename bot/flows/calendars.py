"""The calendar files copbot serves at `/calendar/...`: a community's feed of calls, one
call, one call with a registered person's own join link, and the onsite block. Each path
carries an unguessable token; an unknown one is None (the server answers 404)."""

from __future__ import annotations

import re

from sqlmodel import select

from bot.deps import Deps
from bot.services.registrations import by_calendar_token
from integrations.calendar import call_ics, feed_ics
from integrations.onsite_calendar import onsite_file
from storage.db import session_scope
from storage.models import Call, Community

_FEED = re.compile(r"^/calendar/([A-Za-z0-9_-]{16,64})\.ics$")
_ONE_CALL = re.compile(r"^/calendar/call/([A-Za-z0-9_-]{16,64})\.ics$")
_OWN_CALL = re.compile(r"^/calendar/mine/([A-Za-z0-9_-]{16,64})\.ics$")


def calendar_file(deps: Deps, path: str) -> bytes | None:
    """The .ics at `path`: a community's feed, one call, or one call with a registered
    person's own join link; None when there is none."""
    if path.startswith("/calendar/onsite/"):
        return onsite_file(deps.engine, path)
    with session_scope(deps.engine) as session:
        if match := _OWN_CALL.match(path):
            row = by_calendar_token(session, match.group(1))
            call = session.get(Call, row.call_id) if row is not None else None
            if call is None:
                return None
            community = session.get(Community, call.community_id)
            return call_ics(call, community, row.join_url)
        if match := _ONE_CALL.match(path):
            call = session.exec(select(Call).where(Call.uid == match.group(1))).first()
            if call is None:
                return None
            return call_ics(call, session.get(Community, call.community_id))
        if match := _FEED.match(path):
            community = session.exec(
                select(Community).where(Community.calendar_token == match.group(1))
            ).first()
            if community is None:
                return None
            calls = session.exec(
                select(Call).where(Call.community_id == community.id).order_by(Call.start_at)
            ).all()
            return feed_ics(community, calls)
    return None
