"""Registering people for calls' meetings, after the ack and in the scheduler's pass:
everyone of the community when a call's meeting is made or moved, a newcomer or a new
leader for the calls to come, a person who clicks Join; cancelling the registrations of someone who
left; and turning registration on for meetings made with one shared link (when
COPBOT_ZOOM_REGISTRATION is turned on). Emails come from Slack profiles (users.info,
`users:read.email`); someone Slack gives no email for is told why they have no link of
their own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk import WebClient

from bot.deps import Deps
from bot.flows.profiles import refresh_profiles
from bot.services import registrations as regs
from bot.slack_client import tell
from bot.text import escape, link
from integrations.conferencing import ConferencingError, Invitee
from storage.db import session_scope
from storage.models import Call, RegistrationState

log = logging.getLogger(__name__)

NO_EMAIL_NOTE = (
    "copbot could not read the email of your Slack profile (the workspace hides it, or "
    "copbot lacks the `users:read.email` scope), so it could not register you for the "
    "meeting with a link of your own. Ask a workspace admin, or register on Zoom's page "
    "with the shared link; the call's attendance will then count you as a guest."
)


@dataclass
class Registered:
    registered: list[str] = field(default_factory=list)
    no_email: list[str] = field(default_factory=list)
    problem: str | None = None


def enabled(deps: Deps) -> bool:
    return deps.settings.zoom_registration and deps.conferencing.configured


def register_call(
    deps: Deps, client: WebClient, call_id: int, only: list[str] | None = None
) -> Registered:
    """Register the community's people (or `only` those) for the call's meeting."""
    result = Registered()
    with session_scope(deps.engine) as session:
        call = session.get(Call, call_id)
        if not regs.open_for_registration(call):
            return result
        meeting_id = int(call.meeting_id)
        people = regs.wanted(session, call, only)
    unknown = [p.slack_user_id for p in people if p.email is None]
    if unknown:
        refresh_profiles(client, deps, unknown)
        with session_scope(deps.engine) as session:
            people = regs.wanted(session, session.get(Call, call_id), only)
    asked = [p for p in people if p.email]
    result.no_email = [p.slack_user_id for p in people if not p.email]
    if asked:
        try:
            seats = deps.conferencing.register(
                meeting_id, [Invitee(p.email or "", p.first_name, p.last_name) for p in asked]
            )
        except ConferencingError as e:
            log.warning("registering people for call %s: %s", call_id, e)
            result.problem = str(e)
            return result
        by_email = {s.email.strip().lower(): s for s in seats}
        found = {}
        for p in asked:
            seat = by_email.get((p.email or "").lower())
            if seat is not None:
                found[p.slack_user_id] = (seat.registrant_id, seat.join_url)
        result.registered = sorted(found)
        with session_scope(deps.engine) as session:
            regs.store(session, call_id, found, deps.clock.now())
    if result.no_email:
        with session_scope(deps.engine) as session:
            regs.note_no_email(session, call_id, result.no_email)
    return result


def register_newcomers(
    deps: Deps, client: WebClient, community_id: int, user_ids: list[str]
) -> None:
    """People who joined the community, or were made its leaders: register them for its
    calls to come (those already registered for a call are left as they are)."""
    if not enabled(deps) or not user_ids:
        return
    with session_scope(deps.engine) as session:
        calls = regs.upcoming_calls(session, community_id, deps.clock.now())
    for call_id in calls:
        register_call(deps, client, call_id, list(user_ids))


def cancel_leaver(deps: Deps, community_id: int, user_id: str) -> None:
    """Someone left the community: cancel their registrations for its calls to come."""
    if not deps.conferencing.configured:
        return
    with session_scope(deps.engine) as session:
        calls = regs.upcoming_calls(session, community_id, deps.clock.now())
        todo = []
        for call_id in calls:
            rid = regs.cancel(session, call_id, user_id, deps.clock.now())
            if rid:
                todo.append((int(session.get(Call, call_id).meeting_id), rid))
    for meeting_id, rid in todo:
        try:
            deps.conferencing.cancel_registrations(meeting_id, [rid])
        except ConferencingError as e:
            log.warning("cancelling registration %s of meeting %s: %s", rid, meeting_id, e)


def join_clicked(
    deps: Deps, client: WebClient, call_id: int, user_id: str, response_url: str
) -> None:
    """Someone clicked Join: their own link, only to them (registered now if need be)."""
    with session_scope(deps.engine) as session:
        call = session.get(Call, call_id)
        if call is None:
            tell(response_url, "That call no longer exists.")
            return
        shared = call.join_url
        open_ = regs.open_for_registration(call)
        own = regs.personal_link(session, call_id, user_id) if open_ else None
        topic = escape(call.topic)
    if not open_:
        if shared and call.status != "cancelled":
            tell(response_url, f"Join *{topic}*: " + link(shared, "open the meeting"))
        else:
            tell(response_url, f"*{topic}* has no meeting to join.")
        return
    if own:
        tell(response_url, f"Your own link to *{topic}*: " + link(own, "join the meeting"))
        return
    done = register_call(deps, client, call_id, [user_id])
    with session_scope(deps.engine) as session:
        own = regs.personal_link(session, call_id, user_id)
        row = regs.of(session, call_id, user_id)
    if own:
        tell(
            response_url,
            f"You're registered for *{topic}*. Your own link (keep it to yourself): "
            + link(own, "join the meeting"),
        )
    elif row is not None and row.state == RegistrationState.NO_EMAIL.value:
        tell(response_url, NO_EMAIL_NOTE + " " + link(shared or "", "Shared link"))
    else:
        tell(
            response_url,
            f"copbot could not register you for *{topic}* just now ({escape(done.problem or '')}). "
            "Try the Join button again in a minute.",
        )


def move_over(deps: Deps, client: WebClient, now: datetime) -> list[int]:
    """Turn registration on for meetings made with one shared link, and register their
    people (each call claimed by one worker); the calls moved over."""
    if not enabled(deps):
        return []
    with session_scope(deps.engine) as session:
        calls = regs.calls_to_move_over(session, now)
    moved = []
    for call_id in calls:
        with session_scope(deps.engine) as session:
            if not regs.claim_move_over(session, call_id):
                continue
            meeting_id = int(session.get(Call, call_id).meeting_id)
        try:
            deps.conferencing.enable_registration(meeting_id)
        except ConferencingError as e:
            log.warning("turning registration on for call %s: %s", call_id, e)
            with session_scope(deps.engine) as session:
                regs.give_back_move_over(session, call_id)
            continue
        register_call(deps, client, call_id)
        moved.append(call_id)
    return moved
