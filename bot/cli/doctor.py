"""`copbot doctor`: checks the set-up, one line per check, `ok  NAME  detail` or
`FAIL  NAME  what to do`; exit status 1 when any line is FAIL.

It asks each service what it holds: Slack's `auth.test` (and the `x-oauth-scopes` header
Slack sends with it, against app_manifest.yml's bot scopes), Zoom's token answer (its
`scope`, against what the turned-on features need: `integrations.zoom_scopes`, one FAIL
line per missing scope), `GET /users/{id}` for each host, the database's migration, the
public URL's `/healthz`. Nothing here raises: a network error, a refusal or a setting
that does not load is a FAIL line saying what to do.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TextIO

import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import APP_SETTINGS_URL, ConfigError, Settings, redacted_url
from bot.slack_client import bot_scopes
from integrations import zoom_scopes
from integrations.zoom import (
    ZoomAuthError,
    ZoomClient,
    ZoomError,
    ZoomNotFound,
    ZoomScopeMissing,
)
from storage import db

TIMEOUT = 5.0
ADD_SCOPE = (
    "add it at https://marketplace.zoom.us/ (Manage > Created Apps > the copbot app > "
    "Scopes > + Add Scopes, then Done)"
)
_SIGNING_SECRET = re.compile(r"^[0-9a-f]{32}$")
# Zoom user types that host meetings without a time limit (2: Licensed)
_USER_TYPES = {1: "Basic", 2: "Licensed", 4: "Unassigned", 99: "None"}


@dataclass(frozen=True)
class Line:
    ok: bool
    name: str
    detail: str

    def __str__(self) -> str:
        return f"{'ok' if self.ok else 'FAIL'}  {self.name}  {self.detail}"


def ok(name: str, detail: str) -> Line:
    return Line(True, name, detail)


def fail(name: str, detail: str) -> Line:
    return Line(False, name, detail)


def main(load: Callable[[], Settings] = Settings.load, out: TextIO | None = None) -> int:
    """Print every check's line; 1 when any FAILs, else 0."""

    out = out or sys.stdout
    failed = False
    for line in lines(load):
        failed = failed or not line.ok
        print(line, file=out, flush=True)
    return 1 if failed else 0


def lines(load: Callable[[], Settings]) -> Iterator[Line]:
    try:
        settings = load()
    except ConfigError as e:
        text = str(e)
        name = "resources" if text.startswith("COPBOT_RESOURCES") else "settings"
        yield fail(name, f"{text} (fix it in the environment or .env)")
        return
    checks = (slack, signing_secret, zoom, database, webhook_secret, public_url, resources)
    for check in checks:
        try:
            yield from check(settings)
        except Exception as e:  # noqa: BLE001 - a check that breaks is a FAIL line, not a Traceback
            yield fail(check.__name__.replace("_", " "), f"the check failed: {_reason(e)}")


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}"[:300] if text else type(error).__name__


# ---- Slack --------------------------------------------------------------------------------
def slack(settings: Settings) -> Iterator[Line]:
    if not settings.slack_bot_token:
        yield fail(
            "slack token",
            "SLACK_BOT_TOKEN is not set: install the app (from app_manifest.yml) at "
            f"{APP_SETTINGS_URL} and copy its Bot User OAuth Token (xoxb-…) into .env",
        )
        return
    client = WebClient(
        token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=TIMEOUT
    )
    try:
        answer = client.auth_test()
    except SlackApiError as e:
        error = e.response.get("error") if isinstance(e.response.data, dict) else None
        yield fail(
            "slack token",
            f"Slack refuses SLACK_BOT_TOKEN ({error or e.response.status_code}): copy the "
            f"Bot User OAuth Token (xoxb-…) again from OAuth & Permissions at {APP_SETTINGS_URL}",
        )
        return
    except Exception as e:  # noqa: BLE001 - connection refused, DNS, timeout
        yield fail(
            "slack token",
            f"Slack did not answer at {settings.slack_api_url} ({type(e).__name__}): check "
            "the network and SLACK_API_URL",
        )
        return
    yield ok(
        "slack token",
        f"workspace {answer.get('team') or answer.get('team_id')}, bot {answer.get('user')}",
    )
    yield from _slack_scopes(answer.headers or {})


def _slack_scopes(headers: dict) -> Iterator[Line]:
    header = next((v for k, v in headers.items() if k.lower() == "x-oauth-scopes"), None)
    wanted = bot_scopes()
    if header is None:
        yield fail(
            "slack scopes",
            "Slack's answer carried no x-oauth-scopes header: is SLACK_API_URL Slack's Web API?",
        )
        return
    granted = {s.strip() for s in str(header).split(",") if s.strip()}
    if wanted is None:
        yield ok("slack scopes", f"{len(granted)} installed (no app_manifest.yml to compare)")
        return
    lacking = [s for s in wanted if s not in granted]
    for scope in lacking:
        yield fail(
            f"slack scope {scope}",
            "the installed app lacks it: add it under OAuth & Permissions > Bot Token Scopes "
            f"(or update the app from app_manifest.yml) at {APP_SETTINGS_URL}, then reinstall "
            "the app to the workspace",
        )
    if not lacking:
        yield ok("slack scopes", f"all {len(wanted)} of app_manifest.yml installed")


def signing_secret(settings: Settings) -> Iterator[Line]:
    secret = settings.slack_signing_secret
    where = f"Basic Information > App Credentials > Signing Secret at {APP_SETTINGS_URL}"
    if not secret:
        if settings.slack_app_token:
            yield ok("signing secret", "not set: `copbot run` (Socket Mode) does not need it")
        else:
            yield fail(
                "signing secret",
                f"SLACK_SIGNING_SECRET is not set: `copbot serve` needs it; copy it from {where}",
            )
        return
    if not _SIGNING_SECRET.match(secret):
        yield fail(
            "signing secret",
            "SLACK_SIGNING_SECRET is not shaped like Slack's (32 hexadecimal characters): "
            f"copy it again from {where}",
        )
        return
    yield ok("signing secret", "set, 32 hexadecimal characters")


# ---- Zoom ---------------------------------------------------------------------------------
def zoom_client(settings: Settings) -> ZoomClient:
    """A client that gives up soon: doctor says what is wrong rather than waiting."""
    return ZoomClient(
        settings.zoom_account_id or "",
        settings.zoom_client_id or "",
        settings.zoom_client_secret or "",
        api_url=settings.zoom_api_url,
        oauth_url=settings.zoom_oauth_url,
        timeout=TIMEOUT,
        max_attempts=2,
        max_total_seconds=TIMEOUT,
    )


def zoom(settings: Settings) -> Iterator[Line]:
    if not settings.zoom_configured:
        set_ = [
            name
            for name, value in (
                ("ZOOM_ACCOUNT_ID", settings.zoom_account_id),
                ("ZOOM_CLIENT_ID", settings.zoom_client_id),
                ("ZOOM_CLIENT_SECRET", settings.zoom_client_secret),
            )
            if value
        ]
        if set_:
            yield fail(
                "zoom token",
                f"only {', '.join(set_)} set: set all three of ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID "
                "and ZOOM_CLIENT_SECRET (the Server-to-Server OAuth app's App Credentials)",
            )
        else:
            yield ok("zoom token", "Zoom is not set up: calls are scheduled with no meeting")
        return
    client = zoom_client(settings)
    try:
        granted = client.scopes()
    except ZoomAuthError as e:
        yield fail(
            "zoom token",
            f"Zoom refuses the credentials ({e.message or e.status}): copy ZOOM_ACCOUNT_ID, "
            "ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET again from the Server-to-Server OAuth app's "
            "App Credentials, and check the app is activated",
        )
        return
    except ZoomError as e:
        yield fail(
            "zoom token",
            f"Zoom did not answer at {settings.zoom_oauth_url} ({e.message or e.status}): "
            "check the network and ZOOM_OAUTH_URL",
        )
        return
    yield ok("zoom token", f"account {settings.zoom_account_id}, {len(granted)} scopes granted")
    seen: set[str] = set()
    for row in zoom_scopes.rows(settings.zoom_features):
        if row.granular in seen:  # a scope two operations share is one check
            continue
        seen.add(row.granular)
        name = f"zoom scope {row.granular}"
        if not row.covered_by(granted):
            yield fail(name, f"{ADD_SCOPE}; copbot needs it to {row.what}")
        elif row.granular in granted:
            yield ok(name, f"granted: copbot can {row.what}")
        else:
            held = next(c for c in row.classic if c in granted)
            yield ok(name, f"covered by the classic scope {held}: copbot can {row.what}")
    yield from _hosts(settings, client)


def zoom_hosts(settings: Settings) -> tuple[str, ...]:
    """The Zoom users who host copbot's meetings (ZOOM_HOSTS, else ZOOM_USER)."""
    return settings.zoom_hosts


def _hosts(settings: Settings, client: ZoomClient) -> Iterator[Line]:
    for host in zoom_hosts(settings):
        name = f"zoom host {host}"
        try:
            user = client.request("GET", f"/users/{host}").json()
        except ZoomScopeMissing as e:
            yield fail(name, f"cannot check it: the app lacks {e.scope}; {ADD_SCOPE}")
            continue
        except ZoomNotFound:
            yield fail(
                name,
                f"Zoom has no user {host} in this account: check ZOOM_USER (an email or "
                "user id of the account; `me` is the app's creator)",
            )
            continue
        except ZoomError as e:
            yield fail(name, f"Zoom did not tell ({e.message or e.status})")
            continue
        yield _host_line(name, user)


def _host_line(name: str, user: dict) -> Line:
    email = user.get("email") or user.get("id") or "?"
    kind = _USER_TYPES.get(user.get("type"), f"type {user.get('type')}")
    status = user.get("status") or "active"
    if status != "active":
        return fail(
            name,
            f"{email} is {status} in Zoom: activate the user (Zoom web portal: User "
            "Management > Users) or host with another",
        )
    if user.get("type") == 1:
        return fail(
            name,
            f"{email} is a Basic (free) user: meetings with three or more people end after "
            "40 minutes; give the user a license (User Management > Users > Edit > Licensed)",
        )
    if user.get("type") != 2:
        return fail(name, f"{email} is {kind}: give the user a Licensed meetings plan")
    return ok(name, f"{email}, {kind}, active")


# ---- the rest -------------------------------------------------------------------------------
def database(settings: Settings) -> Iterator[Line]:
    where = redacted_url(settings)
    try:
        current, head = db.schema_status(settings.database_url)
    except Exception as e:  # noqa: BLE001 - unreachable, refused, no such database
        reason = getattr(e, "orig", None) or e
        yield fail("database", f"cannot use {where}: {_reason(reason)}; check DATABASE_URL")
        return
    if current != head:
        yield fail(
            "database",
            f"{where} is at migration {current or 'none (empty)'}, the code expects {head}: "
            "run `copbot db upgrade`",
        )
        return
    yield ok("database", f"{where}, at the newest migration ({head})")


def webhook_secret(settings: Settings) -> Iterator[Line]:
    secret = settings.zoom_webhook_secret
    if not secret:
        yield ok("webhook secret", "not set: copbot asks Zoom after each call (no webhooks)")
        return
    if len(secret) < 16 or not re.fullmatch(r"[A-Za-z0-9_-]+", secret):
        yield fail(
            "webhook secret",
            "ZOOM_WEBHOOK_SECRET does not look like a Zoom Secret Token (16 or more letters "
            "and digits): copy it again from the Zoom app's Access or Features page",
        )
        return
    yield ok("webhook secret", f"set, {len(secret)} characters")


def public_url(settings: Settings) -> Iterator[Line]:
    base = settings.public_url
    if not base:
        yield ok("public url", "not set: messages carry no calendar (.ics) links")
        return
    url = f"{base}/healthz"
    try:
        answer = requests.get(url, timeout=TIMEOUT)
    except requests.RequestException as e:
        yield fail(
            "public url",
            f"{url} did not answer ({type(e).__name__}): check COPBOT_PUBLIC_URL and that "
            "`copbot serve` runs there",
        )
        return
    if answer.status_code != 200:
        yield fail(
            "public url",
            f"{url} answered {answer.status_code}: is `copbot serve` what answers there?",
        )
        return
    yield ok("public url", f"{url} answers")


def resources(settings: Settings) -> Iterator[Line]:
    where = settings.resources_path or "the shipped example"
    yield ok("resources", f"{len(settings.resources)} sections from {where}")


def add_commands(sub: argparse._SubParsersAction) -> None:
    doctor = sub.add_parser(
        "doctor",
        help="check the set-up, one line per check (ok or FAIL); exit 1 when any FAILs",
    )
    doctor.set_defaults(func=None)
