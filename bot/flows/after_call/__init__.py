"""After the call, the part that talks to Zoom and Slack: one `run` in the scheduler's
pass opens the jobs of calls that ended, reads attendance and recordings for the due ones
(claimed with a token, so two passes never do one twice), and sends the value questions
that are due. Webhooks (`bot.webhooks.zoom`) only make jobs due sooner, or archive a
recording they carry.

The steps: `attendance` (who came), `recordings` (the recording, archived and posted in
the call's thread), `questions` (the value questions); `common` holds what they share.
"""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient
from sqlalchemy import update

from bot.deps import Deps
from bot.flows.after_call.attendance import read_attendance
from bot.flows.after_call.common import (
    AfterCallResult,
    PostFailed,
    SlackLookupFailed,
    SlackRateLimited,
)
from bot.flows.after_call.questions import send_questions
from bot.flows.after_call.recordings import post_in_thread, read_recording, recording_from_webhook
from bot.services import after_call_jobs as jobs
from integrations.after_call import FactsError
from storage.db import session_scope
from storage.models import AfterCallJob

__all__ = [
    "AfterCallResult",
    "post_in_thread",
    "recording_from_webhook",
    "run",
    "send_questions",
]

log = logging.getLogger(__name__)


def run(deps: Deps, client: WebClient, now: datetime, at: datetime) -> AfterCallResult:
    """One pass of after-call work as of `now` (`at`: the wall clock, for claims)."""
    result = AfterCallResult()
    settings = deps.settings
    zoom = deps.meeting_facts
    if zoom.configured:
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
                lambda j, t: read_attendance(deps, client, zoom, j, t, now),
            )
        _run_jobs(
            deps,
            jobs.RECORDING,
            now,
            at,
            result,
            lambda j, t: read_recording(deps, client, zoom, j, t, now),
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
