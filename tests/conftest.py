"""Fixtures: a migrated database (SQLite, or PostgreSQL through DATABASE_URL), the local
Slack stand-in, and copbot's real WSGI endpoint on 127.0.0.1 driven by signed requests."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import MetaData, delete

from bot.config import Settings
from bot.deps import Deps
from sandbox.slack_standin import SlackStandIn
from sandbox.zoom_standin import ZoomStandIn
from storage import db
from tests.helpers.communities import create_community
from tests.helpers.endpoint import (
    BACKGROUNDS,
    HOOK_SECRET,
    PUBLIC_URL,
    SlackUser,
    make_settings,
    serve,
    zoom_env,
)


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    path = Path(tempfile.mkdtemp(prefix="copbot-test-")) / "copbot.db"
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def db_url() -> str:
    url = _database_url()
    engine = db.get_engine(url)
    if not db.is_sqlite(url):
        # start from an empty schema on the shared server
        meta = MetaData()
        meta.reflect(engine)
        meta.drop_all(engine)
    db.upgrade(url)
    return url


@pytest.fixture(scope="session")
def engine(db_url):
    return db.get_engine(db_url)


def _wipe(engine) -> None:
    from storage.models import SQLModel

    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(delete(table))


@pytest.fixture
def session(engine):
    _wipe(engine)
    with db.session_scope(engine) as s:
        yield s


@pytest.fixture(scope="session")
def slack_session() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        yield standin


@pytest.fixture
def slack(slack_session: SlackStandIn) -> Iterator[SlackStandIn]:
    slack_session.reset()
    yield slack_session
    # the work a listener does after its ack must not spill into the next test
    for background in BACKGROUNDS:
        assert background.wait_idle(10), "work after an ack still running 10 s after the test"
    assert slack_session.violations == [], "calls that do not fit Slack's spec"
    assert slack_session.raw_markup == [], "formatting Slack would show as typed"


@pytest.fixture(scope="session")
def zoom_session() -> Iterator[ZoomStandIn]:
    with ZoomStandIn() as standin:
        yield standin


@pytest.fixture
def zoom(zoom_session: ZoomStandIn) -> Iterator[ZoomStandIn]:
    zoom_session.reset()
    zoom_session.token_lifetime = 3599
    yield zoom_session
    for background in BACKGROUNDS:
        assert background.wait_idle(10)
    assert zoom_session.violations == [], "requests that do not fit Zoom's spec"


@pytest.fixture(scope="session")
def settings(db_url, slack_session, zoom_session) -> Settings:
    return make_settings(
        db_url,
        slack_session.url,
        COPBOT_HOLIDAYS="US",
        COPBOT_PUBLIC_URL=PUBLIC_URL,
        **zoom_env(zoom_session),
    )


@pytest.fixture
def deps(settings, engine) -> Deps:
    return Deps(settings=settings, engine=engine)


@pytest.fixture(scope="session")
def endpoint(settings) -> Iterator[str]:
    """copbot's WSGI application served on 127.0.0.1; yields its base URL."""
    yield from serve(settings)


@pytest.fixture
def as_user(endpoint, slack, session):
    """as_user("U1", "C1") -> a SlackUser acting in channel C1 (the database starts empty)."""

    def make(user_id: str, channel_id: str = "CCOMM001") -> SlackUser:
        return SlackUser(endpoint, slack, user_id, channel_id)

    return make


# ---- after the call ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def hook_settings(db_url, slack_session, zoom_session) -> Settings:
    """Settings with Zoom webhooks configured (ZOOM_WEBHOOK_SECRET)."""
    return make_settings(
        db_url,
        slack_session.url,
        ZOOM_WEBHOOK_SECRET=HOOK_SECRET,
        **zoom_env(zoom_session),
    )


@pytest.fixture(scope="session")
def hook_endpoint(hook_settings) -> Iterator[str]:
    """copbot's WSGI application with Zoom webhooks configured; yields its base URL."""
    yield from serve(hook_settings)


@pytest.fixture
def leader(as_user, slack, zoom):
    """U1 (ana, in Chicago) leading a community made through the endpoint, Slack's log empty."""
    slack.add_user("U1", "ana", tz="America/Chicago", email="ana@example.org")
    ana = as_user("U1")
    create_community(ana)
    ana.settle()
    slack.reset()
    return ana
