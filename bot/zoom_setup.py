"""Zoom's set-up as copbot needs it: the scopes the turned-on features need
(`Settings.zoom_features`, rows of `integrations.zoom_scopes`) against those the app's
token holds (the token answer's `scope`). Start-up logs one warning line per missing
scope; `copbot doctor` prints one FAIL line per missing scope.
"""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.services import conferencing_alerts
from integrations import zoom_scopes
from integrations.conferencing import Conferencing, ZoomConferencing, missing_scope_words
from integrations.zoom import ZoomClient, ZoomError
from storage.db import session_scope

log = logging.getLogger(__name__)


def missing_scopes(settings: Settings, client: ZoomClient) -> tuple[zoom_scopes.ZoomScope, ...]:
    """The rows whose granular scope the turned-on features need and the token lacks
    (a ZoomError when Zoom cannot be asked)."""
    return zoom_scopes.missing(client.scopes(fresh=True), settings.zoom_features)


def warn_missing_scopes(
    settings: Settings, conferencing: Conferencing, engine: Engine | None = None
) -> list[str]:
    """At start-up: one warning line per missing scope; the scopes it warned of. Zoom not
    answering is one warning too, never a stop. With `engine`, the scopes staff were told
    of and the app now holds are forgotten (losing one again is told again)."""
    if not isinstance(conferencing, ZoomConferencing):
        return []
    try:
        lacking = missing_scopes(settings, conferencing.client)
    except ZoomError as e:
        log.warning("could not ask Zoom which scopes copbot's app holds: %s", e)
        return []
    if engine is not None:
        with session_scope(engine) as session:
            conferencing_alerts.forget_granted(session, conferencing.client.scopes())
    for row in lacking:
        log.warning("%s (needed to %s)", missing_scope_words(row.granular), row.what)
    return [row.granular for row in lacking]
