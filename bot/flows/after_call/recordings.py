"""A call's recording after it: read from the meeting (the scheduler's job) or named by a
webhook, archived with the call, and posted once in the call's thread."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import update

from bot.blocks import after_call as blocks
from bot.deps import Deps
from bot.flows.after_call.common import PostFailed, slack_error
from bot.services import after_call_jobs as jobs
from bot.services import recordings
from integrations.after_call import MeetingFacts, NotFound
from storage.db import session_scope
from storage.models import AfterCallJob, Call, CallResource, Community

log = logging.getLogger(__name__)


def read_recording(
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
            f"Slack did not take the post of call {call.id}'s {item.kind} ({slack_error(e)})"
        ) from None
    return True
