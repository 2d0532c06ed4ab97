"""Slack profiles copbot keeps for names, zones and emails: fetched with users.info when
the cached one is missing or a day old."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.services import people
from storage.db import session_scope

log = logging.getLogger(__name__)


def refresh_profiles(client: WebClient, deps: Deps, user_ids: list[str]) -> None:
    """Fetch users.info for each user whose cached profile is missing or a day old."""
    for uid in dict.fromkeys(user_ids):
        with session_scope(deps.engine) as session:
            if not people.needs_profile(session, uid, deps.clock.now()):
                continue
        try:
            response = client.users_info(user=uid)
        except SlackApiError as e:
            log.warning("users.info for %s failed: %s", uid, e.response.get("error"))
            continue
        with session_scope(deps.engine) as session:
            people.store_profile(session, response["user"], deps.clock.now())
