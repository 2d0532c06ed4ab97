"""The value questions due after calls: each sent once to its person by direct message;
Slack's rate limit puts the rest of the pass's questions back until it lifts."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import update

from bot.blocks import after_call as blocks
from bot.deps import Deps
from bot.flows.after_call.common import AfterCallResult, rate_limited, slack_error
from bot.services import value
from storage.db import session_scope
from storage.models import Call, Community

log = logging.getLogger(__name__)


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
            wait = rate_limited(e)
            if wait is not None:  # not the question's fault: it and the rest wait, then go
                with session_scope(deps.engine) as session:
                    _questions_back(session, ids[n:], token, now + wait)
                log.info("value questions wait %s for Slack's rate limit", wait)
                return
            log.warning("value question %s not sent: %s", question_id, slack_error(e))
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
