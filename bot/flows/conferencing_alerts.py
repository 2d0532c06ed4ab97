"""Zoom scopes copbot's app lacks, said where someone will read it.

- At start-up (`warn_missing_scopes`): the scopes the turned-on features need
  (`Settings.zoom_features`, rows of `integrations.zoom_scopes`) against those the app's
  token holds (the token answer's `scope`), one warning line per missing scope;
  `copbot doctor` prints one FAIL line per missing scope.
- The scheduler's step (`run_due`): staff told, in a direct message each, of a scope Zoom
  refused a request for (code 4711): once per scope, whichever pass or worker claims it
  (`bot.services.conferencing_alerts`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import Engine

from bot.blocks.community import message_for
from bot.config import Settings
from bot.services import conferencing_alerts as alerts
from integrations.conferencing import (
    Conferencing,
    ConferencingError,
    missing_scope_words,
)
from storage.db import session_scope

log = logging.getLogger(__name__)


def text_for(permission: str, what: str) -> str:
    needed = f", so it cannot {what}" if what else ""
    return (
        f":warning: {missing_scope_words(f'`{permission}`')}{needed}. Zoom refused a request "
        "for it. copbot takes a fresh token when it next asks Zoom, so nothing needs a "
        "restart; `copbot doctor` checks every scope. (You are told once.)"
    )


def run_due(
    deps: Any, client: WebClient, now: datetime, keep: Callable[[], bool] | None = None
) -> list[str]:
    """Tell staff of each missing scope noted and not told yet; what was sent."""
    with session_scope(deps.engine) as session:
        claimed = [(a.id, a.permission, a.what) for a in alerts.claim_untold(session, now)]
    sent = []
    staff = sorted(deps.settings.staff)
    for alert_id, permission, what in claimed:
        if not staff:
            log.warning(
                "copbot's Zoom app lacks the scope %s (no COPBOT_STAFF to tell)", permission
            )
            continue
        payload = message_for(text_for(permission, what))
        told = 0
        for user_id in staff:
            try:
                client.chat_postMessage(channel=user_id, **payload)
                told += 1
            except SlackApiError as e:
                log.warning(
                    "telling %s of the missing scope %s failed: %s",
                    user_id,
                    permission,
                    e.response.get("error"),
                )
        if told == 0:  # nobody heard it: a later pass tries again
            with session_scope(deps.engine) as session:
                alerts.give_back(session, alert_id, now)
            continue
        sent.append(f"missing_scope {permission} to {told} staff")
    return sent


def warn_missing_scopes(
    settings: Settings, conferencing: Conferencing, engine: Engine | None = None
) -> list[str]:
    """At start-up: one warning line per missing scope; the scopes it warned of. Zoom not
    answering is one warning too, never a stop. With `engine`, the scopes staff were told
    of and the app now holds are forgotten (losing one again is told again)."""
    if not conferencing.configured:
        return []
    try:
        lacking = conferencing.scopes_lacking(settings.zoom_features)
    except ConferencingError as e:
        log.warning("could not ask Zoom which scopes copbot's app holds: %s", e)
        return []
    if engine is not None:
        with session_scope(engine) as session:
            alerts.forget_granted(session, conferencing.granted_scopes())
    for row in lacking:
        log.warning("%s (needed to %s)", missing_scope_words(row.granular), row.what)
    return [row.granular for row in lacking]
