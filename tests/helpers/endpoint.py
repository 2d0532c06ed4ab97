"""copbot's real WSGI endpoint on 127.0.0.1, and a person sending it signed requests as
Slack would."""

from __future__ import annotations

import os
import socketserver
import threading
from collections.abc import Iterator
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import requests

from bot.blocks.limits import check_message
from bot.config import Settings
from sandbox import slack_payloads as payloads
from sandbox import zoom_standin as zs
from sandbox.slack_standin import SlackStandIn
from sandbox.zoom_standin import ZoomStandIn

SECRET = "test-signing-secret-0123456789abcdef"


STAFF = "USTAFF01"


PUBLIC_URL = "http://copbot.test"


HOOK_SECRET = "zoom-webhook-secret-for-tests"


# background pools of the apps under test: their work must not spill into the next test
BACKGROUNDS: list = []


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


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128  # many people clicking at the same moment


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


def serve(settings: Settings) -> Iterator[str]:
    """Serve copbot's WSGI application for `settings` on 127.0.0.1 while iterated."""
    from bot.server import make_wsgi_app

    application = make_wsgi_app(settings)
    BACKGROUNDS.extend(application.deps.pools)
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
        for background in BACKGROUNDS:
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


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
