"""Attendance after a call: the meeting's instances that were the call, everyone who
joined them, matched to Slack people (by the registrant id they joined with, an email
copbot knows, or Slack's users.lookupByEmail); guests are counted, never named."""

from __future__ import annotations

import logging
from datetime import timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.flows.after_call.common import (
    SlackLookupFailed,
    SlackRateLimited,
    rate_limited,
    slack_error,
)
from bot.services import after_call_jobs as jobs
from bot.services import attendance, registrations, value
from integrations.after_call import MeetingFacts, NotFound
from storage.db import session_scope
from storage.models import AfterCallJob, Call

log = logging.getLogger(__name__)

# instances of the meeting that started this long around the call count as the call's
BEFORE, AFTER = timedelta(hours=2), timedelta(hours=6)


def read_attendance(
    deps: Deps, client: WebClient, zoom: MeetingFacts, job: AfterCallJob, token: str, now
) -> None:
    with session_scope(deps.engine) as session:
        call = session.get(Call, job.call_id)
        session.expunge(call)
    uuids = _instances(zoom, call, job.meeting_uuid)
    records = [p for uuid in uuids for p in zoom.participants(uuid)]
    people = attendance.merge(records)
    matched, guests, looked_up = _match(deps, client, people, call)
    with session_scope(deps.engine) as session:
        if not jobs.finish(session, job.id, token, now):  # another pass took it over
            log.info("attendance of call %s: the claim was taken over; not stored", job.call_id)
            return
        call = session.get(Call, job.call_id)
        counted = attendance.record(session, call, matched, guests)
        attendance.remember_member_emails(session, call.community_id, looked_up)
        members = [a.slack_user_id for a in attendance.people_at(session, call.id) if a.member]
        value.plan_try(session, call, members)
    log.info(
        "attendance of call %s: %d came (%d members, %d not in Slack)",
        call.id,
        counted.came,
        counted.members,
        counted.guests,
    )


def _instances(zoom: MeetingFacts, call: Call, named: str | None) -> list[str]:
    """The meeting instances that were this call (a restarted meeting has several)."""
    try:
        listed = zoom.instances(int(call.meeting_id))
    except NotFound:
        if named:
            return [named]
        raise
    end = jobs.call_end(call)
    found = [
        uuid
        for uuid, start in listed
        if start is None or call.start_at - BEFORE <= start <= end + AFTER
    ]
    if named and named not in found:
        found.append(named)
    if not found:
        raise NotFound("Zoom has no instance of the meeting around the call's time")
    return found


def _match(
    deps: Deps, client: WebClient, people: list[attendance.Attendee], call: Call
) -> tuple[dict[str, int], list[int], dict[str, str]]:
    """Slack user id -> minutes for those copbot registered (by the registrant id they
    joined with) or found in Slack by email; minutes of the rest (guests, also those who
    registered on Zoom's own page: counted, never named); and the emails Slack was asked
    about and answered (user id -> email). Stopped by a rate limit, the members' emails
    found so far are kept, so the next pass skips them."""
    community_id = call.community_id
    emails = [p.email for p in people if p.email]
    with session_scope(deps.engine) as session:
        known = attendance.known_emails(session, emails)
        registered = registrations.by_registrant(session, call.id)
    matched: dict[str, int] = {}
    guests: list[int] = []
    looked_up: dict[str, str] = {}
    for person in people:
        uid = registered.get(person.registrant_id or "")
        if uid is None and person.email:
            uid = known.get(person.email)
        if uid is None and person.email:
            try:
                uid = _lookup(client, person.email)
            except SlackRateLimited:
                with session_scope(deps.engine) as session:
                    attendance.remember_member_emails(session, community_id, looked_up)
                raise
            if uid is not None:
                looked_up[uid] = person.email
        if uid is None:
            guests.append(person.minutes)
        else:
            matched[uid] = matched.get(uid, 0) + person.minutes
    return matched, guests, looked_up


def _lookup(client: WebClient, email: str) -> str | None:
    try:
        answer = client.users_lookupByEmail(email=email)
    except SlackApiError as e:
        error = slack_error(e)
        if error == "users_not_found":
            return None
        wait = rate_limited(e)
        if wait is not None:
            raise SlackRateLimited(wait, "looking people up by email") from None
        raise SlackLookupFailed(f"Slack could not look people up by email ({error})") from None
    user = answer.get("user") or {}
    if user.get("is_bot") or user.get("deleted"):
        return None
    return user.get("id")
