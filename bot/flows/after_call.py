"""After the call, the part that talks to Zoom and Slack: one `run` in the scheduler's
pass opens the jobs of calls that ended, reads attendance and recordings for the due ones
(claimed with a token, so two passes never do one twice), and sends the value questions
that are due. Webhooks (`bot.webhooks.zoom`) only make jobs due sooner, or archive a
recording they carry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import update

from bot.blocks import after_call as blocks
from bot.deps import Deps
from bot.services import after_call_jobs as jobs
from bot.services import attendance, recordings, registrations, value
from integrations.after_call import FactsError, MeetingFacts, NotFound, meeting_facts
from storage.db import session_scope
from storage.models import AfterCallJob, Call, CallResource, Community

log = logging.getLogger(__name__)

# instances of the meeting that started this long around the call count as the call's
BEFORE, AFTER = timedelta(hours=2), timedelta(hours=6)
# how long to wait when Slack says `ratelimited`: its Retry-After, within these bounds
DEFAULT_WAIT, MIN_WAIT, MAX_WAIT = 60, 1, 3600  # seconds


@dataclass
class AfterCallResult:
    opened: int = 0
    attendance: list[int] = field(default_factory=list)  # calls whose attendance was read
    recordings: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    unavailable: list[int] = field(default_factory=list)
    asked: list[int] = field(default_factory=list)  # value questions sent


class SlackLookupFailed(Exception):
    """Slack could not say who an email belongs to (no scope, an error): retry later."""


class SlackRateLimited(Exception):
    """Slack answered `ratelimited`: stop this pass's work of the kind, no attempt counted,
    and come back after `wait`."""

    def __init__(self, wait: timedelta, what: str):
        super().__init__(f"Slack's rate limit on {what}; again in {int(wait.total_seconds())} s")
        self.wait = wait


class PostFailed(Exception):
    """Slack did not take a post for the call's thread; its claim was given back."""


def _error(e: SlackApiError) -> str | None:
    return e.response.get("error") if isinstance(e.response.data, dict) else None


def _rate_limited(e: SlackApiError) -> timedelta | None:
    """Slack's wait when `e` is a rate limit (bounded), else None."""
    if e.response.status_code != 429 and _error(e) != "ratelimited":
        return None
    headers = {k.lower(): v for k, v in (e.response.headers or {}).items()}
    raw = headers.get("retry-after")
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    try:
        seconds = int(raw) if raw is not None else DEFAULT_WAIT
    except (TypeError, ValueError):
        seconds = DEFAULT_WAIT
    return timedelta(seconds=min(max(seconds, MIN_WAIT), MAX_WAIT))


def run(deps: Deps, client: WebClient, now: datetime, at: datetime) -> AfterCallResult:
    """One pass of after-call work as of `now` (`at`: the wall clock, for claims)."""
    result = AfterCallResult()
    settings = deps.settings
    zoom = meeting_facts(deps.conferencing)
    if zoom is not None:
        with session_scope(deps.engine) as session:
            result.opened = jobs.open_jobs(
                session,
                now,
                webhooks=bool(settings.zoom_webhook_secret),
                attendance=settings.attendance,
            )
        if settings.attendance:
            _run_jobs(
                deps,
                jobs.ATTENDANCE,
                now,
                at,
                result,
                lambda j, t: _attendance(deps, client, zoom, j, t, now),
            )
        _run_jobs(
            deps,
            jobs.RECORDING,
            now,
            at,
            result,
            lambda j, t: _recording(deps, client, zoom, j, t, now),
        )
    send_questions(deps, client, now, at, result)
    return result


def _run_jobs(deps, kind, now, at, result, work) -> None:
    with session_scope(deps.engine) as session:
        token, ids = jobs.claim(session, kind, now, at)
    for n, job_id in enumerate(ids):
        with session_scope(deps.engine) as session:
            job = session.get(AfterCallJob, job_id)
            session.expunge(job)
        try:
            work(job, token)
        except SlackRateLimited as e:  # not the job's fault: no attempt counted
            with session_scope(deps.engine) as session:
                _put_back(session, ids[n:], token, now + e.wait, str(e))
            result.retrying.append(job.call_id)
            log.info("after-call %s of call %s: %s", kind, job.call_id, e)
            return
        except Exception as e:  # noqa: BLE001 - retried with back-off, then given up
            if isinstance(e, FactsError | SlackLookupFailed | PostFailed):
                reason = str(e)
            else:
                log.exception("after-call %s of call %s failed", kind, job.call_id)
                reason = f"copbot failed ({type(e).__name__}); see its log"
            with session_scope(deps.engine) as session:
                state = jobs.retry_later(session, job, token, reason, now)
            (result.unavailable if state == jobs.UNAVAILABLE else result.retrying).append(
                job.call_id
            )
            log.info("after-call %s of call %s: %s (%s)", kind, job.call_id, reason, state)
            continue
        with session_scope(deps.engine) as session:
            jobs.finish(session, job_id, token, now)
        (result.attendance if kind == jobs.ATTENDANCE else result.recordings).append(job.call_id)


def _put_back(session, ids: list[int], token: str, due: datetime, reason: str) -> None:
    """The claimed jobs `ids` (still held by `token`) are pending again, due at `due`,
    with no attempt counted."""
    session.execute(
        update(AfterCallJob)
        .where(
            AfterCallJob.id.in_(ids),
            AfterCallJob.state == jobs.CLAIMED,
            AfterCallJob.claim_token == token,
        )
        .values(state=jobs.PENDING, due_at=due, last_error=reason[:300], claim_token=None)
        .execution_options(synchronize_session=False)
    )


# ---- attendance -----------------------------------------------------------------------------
def _attendance(
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
        error = _error(e)
        if error == "users_not_found":
            return None
        wait = _rate_limited(e)
        if wait is not None:
            raise SlackRateLimited(wait, "looking people up by email") from None
        raise SlackLookupFailed(f"Slack could not look people up by email ({error})") from None
    user = answer.get("user") or {}
    if user.get("is_bot") or user.get("deleted"):
        return None
    return user.get("id")


# ---- recordings ------------------------------------------------------------------------------
def _recording(
    deps: Deps, client: WebClient, zoom: MeetingFacts, job: AfterCallJob, token: str, now
) -> None:
    with session_scope(deps.engine) as session:
        call = session.get(Call, job.call_id)
        meeting = job.meeting_uuid or int(call.meeting_id)
    found = zoom.recording(meeting)
    if found is None:
        raise NotFound("no cloud recording of the call (yet)")
    with session_scope(deps.engine) as session:
        call = session.get(Call, job.call_id)
        item = recordings.archive_recording(session, call, found)
        item_id = item.id if item is not None else None
    if item_id is not None:
        post_in_thread(deps, client, item_id, now)


def recording_from_webhook(deps: Deps, client: WebClient, call_id: int, found, now) -> None:
    """A recording.completed event named it: archive it, post it, and the job is done."""
    with session_scope(deps.engine) as session:
        call = session.get(Call, call_id)
        item = recordings.archive_recording(session, call, found)
        item_id = item.id if item is not None else None
        jobs.insert_ignoring_duplicates(
            session,
            AfterCallJob,
            [
                {
                    "call_id": call_id,
                    "kind": jobs.RECORDING,
                    "state": jobs.DONE,
                    "attempts": 0,
                    "due_at": now,
                    "done_at": now,
                }
            ],
        )
        session.execute(
            AfterCallJob.__table__.update()
            .where(
                AfterCallJob.call_id == call_id,
                AfterCallJob.kind == jobs.RECORDING,
                AfterCallJob.state == jobs.PENDING,
            )
            .values(state=jobs.DONE, done_at=now)
        )
    if item_id is not None:
        try:
            post_in_thread(deps, client, item_id, now)
        except PostFailed as e:  # the recording job is due again, to post it then
            with session_scope(deps.engine) as session:
                session.execute(
                    AfterCallJob.__table__.update()
                    .where(
                        AfterCallJob.call_id == call_id,
                        AfterCallJob.kind == jobs.RECORDING,
                        AfterCallJob.state == jobs.DONE,
                    )
                    .values(
                        state=jobs.PENDING,
                        due_at=now + jobs.FIRST_RETRY,
                        done_at=None,
                        last_error=str(e)[:300],
                    )
                )
            log.warning("%s; the recording job of call %s is due again", e, call_id)


def post_in_thread(deps: Deps, client: WebClient, resource_id: int, now: datetime) -> bool:
    """Post an archived item in its call's thread, once whoever asks. When Slack does not
    take it, the claim is given back (if still this one) and PostFailed is raised, so the
    caller's retry posts it later."""
    with session_scope(deps.engine) as session:
        if not recordings.claim_post(session, resource_id, now):
            return False
        item = session.get(CallResource, resource_id)
        call = session.get(Call, item.call_id)
        community = session.get(Community, call.community_id)
        payload = blocks.thread_post(
            call, item.kind, item.title, item.url, item.passcode, item.deletes_on
        )
        channel = call.message_channel or community.slack_channel_id
        thread = call.message_ts
    try:
        if thread:
            client.chat_postMessage(channel=channel, thread_ts=thread, **payload)
        else:
            client.chat_postMessage(channel=channel, **payload)
    except SlackApiError as e:
        with session_scope(deps.engine) as session:
            session.execute(
                update(CallResource)
                .where(CallResource.id == resource_id, CallResource.posted_at == now)
                .values(posted_at=None)
                .execution_options(synchronize_session=False)
            )
        raise PostFailed(
            f"Slack did not take the post of call {call.id}'s {item.kind} ({_error(e)})"
        ) from None
    return True


# ---- value questions ---------------------------------------------------------------------------
def send_questions(
    deps: Deps, client: WebClient, now: datetime, at: datetime, result: AfterCallResult
) -> None:
    with session_scope(deps.engine) as session:
        token, ids = value.claim(session, now, at)
    for n, question_id in enumerate(ids):
        with session_scope(deps.engine) as session:
            q = session.get(value.ValueQuestion, question_id)
            call = session.get(Call, q.call_id)
            community = session.get(Community, q.community_id)
            payload = blocks.value_dm(
                q, call, community, value.QUESTION[q.stage], value.earlier_answer(session, q)
            )
            user = q.slack_user_id
        try:
            client.chat_postMessage(channel=user, **payload)
            state = value.SENT
        except SlackApiError as e:
            wait = _rate_limited(e)
            if wait is not None:  # not the question's fault: it and the rest wait, then go
                with session_scope(deps.engine) as session:
                    _questions_back(session, ids[n:], token, now + wait)
                log.info("value questions wait %s for Slack's rate limit", wait)
                return
            log.warning("value question %s not sent: %s", question_id, _error(e))
            state = value.FAILED
        with session_scope(deps.engine) as session:
            if value.mark(session, question_id, token, state, at) and state == value.SENT:
                result.asked.append(question_id)


def _questions_back(session, ids: list[int], token: str, due: datetime) -> None:
    """The claimed questions `ids` (still held by `token`) are pending again, due at `due`."""
    session.execute(
        update(value.ValueQuestion)
        .where(
            value.ValueQuestion.id.in_(ids),
            value.ValueQuestion.state == value.CLAIMED,
            value.ValueQuestion.claim_token == token,
        )
        .values(state=value.PENDING, due_at=due, claim_token=None)
        .execution_options(synchronize_session=False)
    )
