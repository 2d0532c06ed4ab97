"""Settings: one object read from the environment and `.env`, validated once at start-up.

Every variable of the interface contract lives here. An invalid value raises
`ConfigError` whose message is one line naming the variable, so the command line can
print it and stop.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from dotenv import dotenv_values

from bot.config import values
from bot.config.values import ConfigError  # noqa: F401 - re-exported
from integrations import zoom_scopes

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_ZOOM_API_URL = "https://api.zoom.us/v2"
DEFAULT_ZOOM_OAUTH_URL = "https://zoom.us/oauth/token"
DEFAULT_DATABASE_URL = "sqlite:///copbot.db"

APP_SETTINGS_URL = "https://api.slack.com/apps"
# every variable copbot reads; .env.example documents each
ENV_VARS = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "ZOOM_ACCOUNT_ID",
    "ZOOM_CLIENT_ID",
    "ZOOM_CLIENT_SECRET",
    "ZOOM_API_URL",
    "ZOOM_OAUTH_URL",
    "DATABASE_URL",
    "COPBOT_STAFF",
    "COPBOT_TIMEZONE",
    "COPBOT_LOG_LEVEL",
    "COPBOT_LOG_FORMAT",
    "SENTRY_DSN",
    "COPBOT_HOLIDAYS",
    "COPBOT_PROGRAM_YEAR_START",
    "COPBOT_PUBLIC_URL",
    "ZOOM_USER",
    "ZOOM_HOSTS",
    "ZOOM_RETRY_SECONDS",
    "COPBOT_AGENDA_DUE",
    "COPBOT_REPORT_DUE",
    "COPBOT_SCHEDULER_INTERVAL",
    "COPBOT_SECRET_KEY",
    "PORT",
    "COPBOT_RESOURCES",
    "ZOOM_WEBHOOK_SECRET",
    "COPBOT_ATTENDANCE",
    "COPBOT_ZOOM_REGISTRATION",
)


@dataclass(frozen=True)
class Settings:
    """Validated configuration. Build it with `Settings.load()` or `Settings.from_mapping()`."""

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    zoom_account_id: str | None = None
    zoom_client_id: str | None = None
    zoom_client_secret: str | None = None
    zoom_api_url: str = DEFAULT_ZOOM_API_URL
    zoom_oauth_url: str = DEFAULT_ZOOM_OAUTH_URL
    database_url: str = DEFAULT_DATABASE_URL
    staff: frozenset[str] = field(default_factory=frozenset)
    timezone: str = "UTC"
    log_level: str = "INFO"
    log_format: str = "text"  # COPBOT_LOG_FORMAT=json: one JSON object a line on stdout
    sentry_dsn: str | None = None  # report unexpected errors to Sentry (the sentry extra)
    holidays: str | None = None  # a country code, e.g. US: no calls on its public holidays
    program_year_start: tuple[int, int] = (8, 1)  # month, day
    public_url: str | None = None  # where `copbot serve` is reached, for calendar links
    zoom_user: str = "me"  # the Zoom user (email or id) whose meetings copbot creates
    # the pool of Zoom users (emails or ids) who host copbot's meetings: ZOOM_HOSTS, else
    # ZOOM_USER alone; a call gets one with no other copbot meeting at its time
    zoom_hosts: tuple[str, ...] = ("me",)
    zoom_retry_seconds: float = 30.0  # how long one Zoom request may be retried in all
    agenda_due: tuple[int, int] = (5, 1)  # the onsite agenda is due early May
    report_due: tuple[int, int] = (6, 30)  # the annual progress report
    scheduler_interval: float = 60.0  # seconds between scheduler passes
    secret_key: str | None = None  # keys anonymous voters' hashes (COPBOT_SECRET_KEY)
    port: int = 3000  # where `copbot serve` listens unless --port says otherwise
    resources_path: str | None = None  # the resources YAML; None: the shipped example
    resources: tuple = ()  # its sections, read and checked at start-up
    # the Secret Token of the Zoom app's event subscription: POST /zoom/events checks it
    zoom_webhook_secret: str | None = None
    attendance: bool = True  # read who came to each call (COPBOT_ATTENDANCE=off: never)
    # meetings require registration and each person gets a join link of their own, so
    # attendance knows members who are guests to the Zoom account (off: one shared link)
    zoom_registration: bool = True

    # ---- construction -------------------------------------------------------------
    @classmethod
    def load(cls, env_file: str | Path | None = ".env") -> Settings:
        """Read the process environment, falling back to `.env` for unset variables."""
        values: dict[str, str | None] = {}
        if env_file and Path(env_file).is_file():
            values.update(dotenv_values(env_file))
        values.update(os.environ)
        return cls.from_mapping(values)

    @classmethod
    def from_mapping(cls, env: Mapping[str, str | None]) -> Settings:
        def get(name: str) -> str | None:
            value = env.get(name)
            if value is None:
                return None
            value = value.strip()
            return value or None

        settings = cls(
            slack_bot_token=get("SLACK_BOT_TOKEN"),
            slack_signing_secret=get("SLACK_SIGNING_SECRET"),
            slack_app_token=get("SLACK_APP_TOKEN"),
            slack_api_url=values.url(
                "SLACK_API_URL", get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
            ),
            zoom_account_id=get("ZOOM_ACCOUNT_ID"),
            zoom_client_id=get("ZOOM_CLIENT_ID"),
            zoom_client_secret=get("ZOOM_CLIENT_SECRET"),
            zoom_api_url=values.url("ZOOM_API_URL", get("ZOOM_API_URL") or DEFAULT_ZOOM_API_URL),
            zoom_oauth_url=values.url(
                "ZOOM_OAUTH_URL", get("ZOOM_OAUTH_URL") or DEFAULT_ZOOM_OAUTH_URL
            ),
            database_url=values.database_url(get("DATABASE_URL") or DEFAULT_DATABASE_URL),
            staff=values.staff(get("COPBOT_STAFF")),
            timezone=values.timezone(get("COPBOT_TIMEZONE") or "UTC"),
            log_level=values.log_level(get("COPBOT_LOG_LEVEL") or "INFO"),
            log_format=values.log_format(get("COPBOT_LOG_FORMAT") or "text"),
            sentry_dsn=values.sentry_dsn(get("SENTRY_DSN")),
            holidays=values.holidays(get("COPBOT_HOLIDAYS")),
            program_year_start=values.month_day(get("COPBOT_PROGRAM_YEAR_START") or "08-01"),
            public_url=(
                values.url("COPBOT_PUBLIC_URL", get("COPBOT_PUBLIC_URL")).rstrip("/")
                if get("COPBOT_PUBLIC_URL")
                else None
            ),
            zoom_user=get("ZOOM_USER") or "me",
            zoom_hosts=values.zoom_hosts(get("ZOOM_HOSTS"), get("ZOOM_USER") or "me"),
            zoom_retry_seconds=values.seconds(
                "ZOOM_RETRY_SECONDS", get("ZOOM_RETRY_SECONDS") or "30"
            ),
            agenda_due=values.month_day(get("COPBOT_AGENDA_DUE") or "05-01", "COPBOT_AGENDA_DUE"),
            report_due=values.month_day(get("COPBOT_REPORT_DUE") or "06-30", "COPBOT_REPORT_DUE"),
            scheduler_interval=max(
                1.0,
                values.seconds(
                    "COPBOT_SCHEDULER_INTERVAL", get("COPBOT_SCHEDULER_INTERVAL") or "60"
                ),
            ),
            secret_key=get("COPBOT_SECRET_KEY"),
            port=values.port(get("PORT") or "3000"),
            resources_path=get("COPBOT_RESOURCES"),
            resources=values.resources(get("COPBOT_RESOURCES")),
            zoom_webhook_secret=get("ZOOM_WEBHOOK_SECRET"),
            attendance=values.on_off("COPBOT_ATTENDANCE", get("COPBOT_ATTENDANCE") or "on"),
            zoom_registration=values.on_off(
                "COPBOT_ZOOM_REGISTRATION", get("COPBOT_ZOOM_REGISTRATION") or "on"
            ),
        )
        settings._check_token_shapes()
        return settings

    def _check_token_shapes(self) -> None:
        if self.slack_bot_token and not self.slack_bot_token.startswith("xoxb-"):
            raise ConfigError(
                "SLACK_BOT_TOKEN must be a bot token starting with 'xoxb-' "
                "(OAuth & Permissions > Bot User OAuth Token)"
            )
        if self.slack_app_token and not self.slack_app_token.startswith("xapp-"):
            raise ConfigError(
                "SLACK_APP_TOKEN must be an app-level token starting with 'xapp-' "
                "(Basic Information > App-Level Tokens)"
            )

    # ---- what each mode needs -----------------------------------------------------
    def require_for_socket_mode(self) -> None:
        """`copbot run` needs the bot token and an app-level token."""
        missing = []
        if not self.slack_bot_token:
            missing.append(
                "SLACK_BOT_TOKEN (the Bot User OAuth Token, xoxb-…, under "
                "OAuth & Permissions after installing the app)"
            )
        if not self.slack_app_token:
            missing.append(
                "SLACK_APP_TOKEN (an app-level token, xapp-…, with the connections:write "
                "scope, under Basic Information > App-Level Tokens)"
            )
        if missing:
            raise ConfigError(
                "`copbot run` needs "
                + " and ".join(missing)
                + f"; create the app from app_manifest.yml at {APP_SETTINGS_URL} "
                "and put the values in .env"
            )

    def require_for_http(self) -> None:
        """`copbot serve` needs the bot token and the signing secret."""
        if not self.slack_signing_secret:
            raise ConfigError(
                "SLACK_SIGNING_SECRET is not set: copbot serve verifies every request with it "
                f"(Basic Information > App Credentials at {APP_SETTINGS_URL})"
            )
        if not self.slack_bot_token:
            raise ConfigError(
                "SLACK_BOT_TOKEN is not set: copbot serve needs the Bot User OAuth Token "
                f"(xoxb-…, OAuth & Permissions at {APP_SETTINGS_URL})"
            )

    # ---- derived ------------------------------------------------------------------
    @property
    def zoom_configured(self) -> bool:
        return bool(self.zoom_account_id and self.zoom_client_id and self.zoom_client_secret)

    @property
    def zoom_features(self) -> frozenset[str]:
        """The Zoom features turned on, as `integrations.zoom_scopes` names them: each
        needs its rows' scopes."""
        on = {zoom_scopes.MEETINGS, zoom_scopes.RECORDINGS, zoom_scopes.HOSTS}
        if self.attendance:
            on.add(zoom_scopes.ATTENDANCE)
        if self.zoom_registration:
            on.add(zoom_scopes.REGISTRATION)
        return frozenset(on)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def voter_key(self) -> bytes:
        """The key of anonymous voters' hashes: COPBOT_SECRET_KEY, else derived from the
        signing secret (or the bot token)."""
        base = self.secret_key or self.slack_signing_secret or self.slack_bot_token or ""
        return hashlib.sha256(b"copbot voter key:" + base.encode()).digest()

    def is_staff(self, user_id: str) -> bool:
        return user_id in self.staff

    def __repr__(self) -> str:  # secrets never reach logs
        shown = {
            "slack_api_url": self.slack_api_url,
            "database_url": values.redact_url(self.database_url),
            "timezone": self.timezone,
            "staff": sorted(self.staff),
            "zoom_configured": self.zoom_configured,
        }
        return f"Settings({shown})"

    __str__ = __repr__


def redacted_url(settings: Settings) -> str:
    """DATABASE_URL with its password hidden, for messages."""
    return values.redact_url(settings.database_url)
