"""Fixtures: a migrated database (SQLite, or PostgreSQL through DATABASE_URL), the local
Slack stand-in, and copbot's real WSGI endpoint on 127.0.0.1 driven by signed requests."""

from __future__ import annotations

import json
import os
import socketserver
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import requests
from sqlalchemy import MetaData, delete

from bot.blocks.limits import check_message, check_view
from bot.config import Settings
from bot.deps import Deps
from sandbox import slack_payloads as payloads
from sandbox import zoom_standin as zs
from sandbox.slack_standin import SlackStandIn
from sandbox.zoom_standin import ZoomStandIn
from storage import db

SECRET = "test-signing-secret-0123456789abcdef"
STAFF = "USTAFF01"
ROOT = Path(__file__).resolve().parent.parent
# the shared reference files: ../shared beside the checkout (as in CI), or COPBOT_SHARED
SHARED_SPECS = Path(os.environ.get("COPBOT_SHARED") or ROOT.parent / "shared") / "specs"
SPECS = ROOT / "tests" / "specs"  # copies of the reference files the tests need


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


def accepted(body: dict) -> bool:
    """A modal's form was accepted and the modal now says what happened (Slack's
    `response_action: update` with a valid view), rather than closing in silence."""
    return (
        body.get("response_action") == "update"
        and body["view"]["type"] == "modal"
        and check_view(body["view"]) == []
    )


def new_community(
    session,
    name: str = "Survivorship",
    channel: str = "C1",
    leader: str = "U1",
    team: str = "T1",
    **fields,
):
    """A community made through the service, with `leader` as its first leader."""
    from bot.services import communities

    values = dict(
        team_id=team,
        channel_id=channel,
        name=name,
        mission="",
        description="",
        areas=(),
        created_by=leader,
        first_leader=leader,
    )
    values.update(fields)
    return communities.create(session, communities.NewCommunity(**values))


@pytest.fixture(scope="session")
def slack_session() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        yield standin


# background pools of the apps under test: their work must not spill into the next test
_BACKGROUNDS: list = []


@pytest.fixture
def slack(slack_session: SlackStandIn) -> Iterator[SlackStandIn]:
    slack_session.reset()
    yield slack_session
    # the work a listener does after its ack must not spill into the next test
    for background in _BACKGROUNDS:
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
    for background in _BACKGROUNDS:
        assert background.wait_idle(10)
    assert zoom_session.violations == [], "requests that do not fit Zoom's spec"


PUBLIC_URL = "http://copbot.test"


def zoom_env(zoom: ZoomStandIn) -> dict[str, str]:
    return {
        "ZOOM_ACCOUNT_ID": zs.ACCOUNT_ID,
        "ZOOM_CLIENT_ID": zs.CLIENT_ID,
        "ZOOM_CLIENT_SECRET": zs.CLIENT_SECRET,
        "ZOOM_API_URL": zoom.api_url,
        "ZOOM_OAUTH_URL": zoom.oauth_url,
        "ZOOM_RETRY_SECONDS": "2",
    }


def make_settings(db_url: str, slack_url: str, **extra: str) -> Settings:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack_url,
        "DATABASE_URL": db_url,
        "COPBOT_STAFF": STAFF,
        "COPBOT_TIMEZONE": "America/Chicago",
        **extra,
    }
    return Settings.from_mapping(env)


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


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128  # many people clicking at the same moment


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def endpoint(settings) -> Iterator[str]:
    """copbot's WSGI application served on 127.0.0.1; yields its base URL."""
    yield from serve(settings)


def serve(settings: Settings) -> Iterator[str]:
    """Serve copbot's WSGI application for `settings` on 127.0.0.1 while iterated."""
    from bot.server import make_wsgi_app

    application = make_wsgi_app(settings)
    _BACKGROUNDS.extend(application.deps.pools)
    server = make_server(
        "127.0.0.1",
        0,
        application,
        server_class=_ThreadingWSGIServer,
        handler_class=_QuietHandler,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


class SlackUser:
    """Sends what Slack would send to copbot when a person acts: signed requests."""

    def __init__(self, endpoint: str, slack: SlackStandIn, user_id: str, channel_id: str):
        self.endpoint = endpoint
        self.slack = slack
        self.user_id = user_id
        self.channel_id = channel_id
        self.http = requests.Session()

    def post(
        self,
        body: str,
        content_type: str = "application/x-www-form-urlencoded",
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        h = payloads.signed_headers(SECRET, body, content_type=content_type)
        h.update(headers or {})
        return self.http.post(
            f"{self.endpoint}/slack/events", data=body.encode(), headers=h, timeout=10
        )

    def settle(self) -> None:
        """Wait until the work that followed the acks is done."""
        for background in _BACKGROUNDS:
            assert background.wait_idle(10)

    def command(self, text: str, channel_id: str | None = None) -> requests.Response:
        body = payloads.slash_command(
            text,
            user_id=self.user_id,
            channel_id=channel_id or self.channel_id,
            response_url=self.slack.response_url(),
        )
        self.last_trigger_id = parse_qs(body)["trigger_id"][0]
        return self.post(body)

    def reply(self, text: str, channel_id: str | None = None) -> dict:
        """Run a command and return its (ephemeral) ack body."""
        response = self.command(text, channel_id)
        assert response.status_code == 200, response.text
        body = response.json() if response.content else {}
        assert check_message(body) == [], "the ack does not fit Block Kit's limits"
        return body

    def submit(
        self, callback_id: str, values: dict, private_metadata: str = ""
    ) -> requests.Response:
        body = payloads.view_submission(
            callback_id, values, user_id=self.user_id, private_metadata=private_metadata
        )
        return self.post(body)

    def interact(self, payload: dict) -> requests.Response:
        """Any interactive payload (block_actions, view_submission) as Slack POSTs it."""
        return self.post(payloads.interactive(payload))

    def event(
        self, event: dict, event_id: str | None = None, headers: dict[str, str] | None = None
    ) -> requests.Response:
        body = payloads.event_callback(event, event_id=event_id)
        return self.post(body, content_type="application/json", headers=headers)


@pytest.fixture
def as_user(endpoint, slack, session):
    """as_user("U1", "C1") -> a SlackUser acting in channel C1 (the database starts empty)."""

    def make(user_id: str, channel_id: str = "CCOMM001") -> SlackUser:
        return SlackUser(endpoint, slack, user_id, channel_id)

    return make


def ack_text(body: dict) -> str:
    """All the text of an ack or message: fallback text plus block texts."""
    return json.dumps(body.get("blocks", [])) + "\n" + body.get("text", "")


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def schedule_form(community_id: int, date_text: str, user_id: str = "U1", **payload_args) -> dict:
    """The schedule modal submitted by `user_id`: a 60-minute community call at 12:00
    America/Chicago on `date_text` (YYYY-MM-DD), hosted by U1."""
    from bot.blocks import calls as call_blocks
    from bot.services import calls as rules

    def field(kind: str, value: str) -> dict:
        return {"value": payloads.input_value(kind, value)}

    values = {
        rules.DATE: field("datepicker", date_text),
        rules.TIME: field("timepicker", "12:00"),
        rules.ZONE: field("plain_text_input", "America/Chicago"),
        rules.DURATION: field("number_input", "60"),
        rules.TOPIC: field("plain_text_input", "Webinar #3"),
        rules.HOST: field("users_select", "U1"),
        rules.KIND: field("radio_buttons", "community"),
    }
    meta = json.dumps({"community": community_id, "call": None})
    return payloads.view_submission_payload(
        call_blocks.SCHEDULE_CALLBACK,
        values,
        user_id=user_id,
        private_metadata=meta,
        **payload_args,
    )


HOSTILE = "<!channel> <@UHOSTILE> <http://evil.example|Zoom> & |"


def mrkdwn_texts(payload) -> list[str]:
    """Every piece of text Slack reads as mrkdwn in a message or view: mrkdwn text objects
    and a message's fallback `text` (which notifications show and mentions act in)."""
    found: list[str] = []

    def walk(node, top: bool = False) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
                found.append(node["text"])
            if top and isinstance(node.get("text"), str):
                found.append(node["text"])
            for key, value in node.items():
                if key != "text" or isinstance(value, dict | list):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(payload, top=True)
    return found


def assert_inert(payload) -> None:
    """No mention, broadcast or link from HOSTILE survives in what Slack would parse."""
    for text in mrkdwn_texts(payload):
        assert "<!channel>" not in text and "<!here>" not in text, text
        assert "<@UHOSTILE>" not in text and "<http://evil" not in text, text


# ---- after the call ------------------------------------------------------------------------
HOOK_SECRET = "zoom-webhook-secret-for-tests"


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


def ended_call(
    session,
    community,
    start,
    *,
    meeting_id: int = 85000000001,
    topic: str = "Webinar #3",
    minutes: int = 60,
    message_ts: str | None = "1700000000.000100",
):
    """A call of `community` with a Zoom meeting, starting at `start` (UTC) and posted in
    its channel."""
    from storage.models import Call, MeetingState

    call = Call(
        community_id=community.id,
        start_at=start,
        duration_minutes=minutes,
        timezone="America/Chicago",
        topic=topic,
        host_user_id="U1",
        created_by="U1",
        meeting_state=MeetingState.READY.value,
        meeting_id=meeting_id,
        join_url=f"https://zoom.example/j/{meeting_id}",
        message_channel=community.slack_channel_id if message_ts else None,
        message_ts=message_ts,
    )
    session.add(call)
    session.commit()
    return call


def participant(name: str, email: str | None = None, *, join, leave, zoom_id: str = "") -> dict:
    """One participant record as Zoom's past-meeting participants API gives it."""
    record = {
        "id": zoom_id,
        "name": name,
        "user_email": email or "",
        "join_time": join.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "leave_time": leave.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration": int((leave - join).total_seconds()),
    }
    return record


def button_click(user: SlackUser, action_id: str, value: str, name: str = "button") -> dict:
    """A button in a message clicked by `user`, as Slack POSTs it; returns the payload."""
    import time as _time

    payload = {
        "type": "block_actions",
        "team": {"id": "T0STANDIN"},
        "user": {"id": user.user_id},
        "api_app_id": "A0COPBOT",
        "trigger_id": f"{_time.time_ns()}.trigger",
        "response_url": user.slack.response_url(name),
        "container": {"type": "message", "channel_id": user.channel_id},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "value": value,
                "block_id": "b",
                "action_ts": f"{_time.time():.6f}",
            }
        ],
    }
    response = user.interact(payload)
    assert response.status_code == 200, response.text
    return payload


def said(slack: SlackStandIn) -> list[str]:
    """Everything copbot answered through response_urls, as text."""
    return [ack_text(c.args) for c in slack.calls_to("response_url")]


def serve_env(db_url: str, slack_url: str, **extra: str) -> dict[str, str]:
    """The environment of a `copbot serve` subprocess against the test stand-ins."""
    return {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-serve-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack_url,
        "DATABASE_URL": db_url,
        "COPBOT_STAFF": STAFF,
        **extra,
    }


def serve_command(port: int, workers: int, threads: int, *extra: str) -> list[str]:
    """`copbot serve` on 127.0.0.1:`port`, run by this test's Python."""
    import sys

    return [
        sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--threads", str(threads), *extra,
    ]  # fmt: skip
