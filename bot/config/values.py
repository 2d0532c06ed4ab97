"""The values of copbot's settings, one parser per kind of value: each takes the
variable's text and gives the typed value, or raises `ConfigError` whose message is one
line naming the variable."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.config.resources import ResourcesError, load
from bot.zones import ZoneError, parse_zone

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


class ConfigError(ValueError):
    """A setting is missing or invalid; the message is one line naming the variable."""


def url(name: str, value: str) -> str:
    if not re.match(r"^https?://[^\s/]+", value):
        raise ConfigError(f"{name} must be an http(s) URL, got {value!r}")
    return value


def database_url(value: str) -> str:
    try:
        url = make_url(value)
    except ArgumentError:
        raise ConfigError(
            "DATABASE_URL is malformed: expected e.g. sqlite:///copbot.db or "
            "postgresql://user:password@host:5432/copbot"
        ) from None
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"DATABASE_URL uses {backend!r}: copbot supports sqlite:/// and postgresql:// only"
        )
    if backend == "postgresql" and not url.database:
        raise ConfigError("DATABASE_URL names no database: add /DBNAME after the host")
    return value


def staff(value: str | None) -> frozenset[str]:
    if not value:
        return frozenset()
    ids = [part.strip() for part in value.split(",") if part.strip()]
    bad = [i for i in ids if not _USER_ID.match(i)]
    if bad:
        raise ConfigError(
            f"COPBOT_STAFF must be comma-separated Slack user IDs like U012AB3CD, got {bad[0]!r}"
        )
    return frozenset(ids)


# a Zoom user as the API's {userId} takes it: an email, a user id, or "me"
_ZOOM_EMAIL = re.compile(r"^[^@\s,/]+@[^@\s,/]+\.[^@\s,/]+$")
_ZOOM_USER_ID = re.compile(r"^[A-Za-z0-9_-]{2,64}$")


def zoom_hosts(value: str | None, zoom_user: str) -> tuple[str, ...]:
    """ZOOM_HOSTS as a tuple of distinct Zoom users in the order given; unset: ZOOM_USER,
    a pool of one."""
    if not value:
        if not (_ZOOM_EMAIL.match(zoom_user) or _ZOOM_USER_ID.match(zoom_user)):
            raise ConfigError(
                f"ZOOM_USER must be one Zoom user (email or user ID), got {zoom_user!r}"
            )
        return (zoom_user,)
    hosts: list[str] = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        if not (_ZOOM_EMAIL.match(part) or _ZOOM_USER_ID.match(part)):
            raise ConfigError(
                f"ZOOM_HOSTS must be comma-separated Zoom users (emails or user IDs), got {part!r}"
            )
        if part.lower() not in (h.lower() for h in hosts):
            hosts.append(part)
    if not hosts:
        raise ConfigError("ZOOM_HOSTS names no Zoom user: give emails or user IDs, comma-separated")
    return tuple(hosts)


def timezone(value: str) -> str:
    try:
        return parse_zone(value)
    except ZoneError:
        raise ConfigError(
            f"COPBOT_TIMEZONE {value[:60]!r} is not an IANA time zone (e.g. America/Chicago)"
        ) from None


def seconds(name: str, value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1
    if not 0 <= seconds <= 600:
        raise ConfigError(f"{name} must be a number of seconds from 0 to 600, got {value!r}")
    return seconds


def port(value: str) -> int:
    if value.isdigit() and 1 <= int(value) <= 65535:
        return int(value)
    raise ConfigError(f"PORT must be a TCP port number from 1 to 65535, got {value!r}")


def holidays(value: str | None) -> str | None:
    if not value:
        return None
    import holidays

    code = value.strip().upper()
    if code not in holidays.list_supported_countries():
        raise ConfigError(
            f"COPBOT_HOLIDAYS {value!r} is not a country code the holidays package knows "
            "(e.g. US, CA, GB)"
        )
    return code


def month_day(value: str, name: str = "COPBOT_PROGRAM_YEAR_START") -> tuple[int, int]:
    match = re.fullmatch(r"(\d{1,2})-(\d{1,2})", value.strip())
    if match:
        month, day = int(match.group(1)), int(match.group(2))
        try:
            date(2001, month, day)  # not a leap year: no February 29
            return month, day
        except ValueError:
            pass
    raise ConfigError(f"{name} must be a month and day like 08-01, got {value!r}")


def resources(path: str | None) -> tuple:
    try:
        return load(path)
    except ResourcesError as e:
        raise ConfigError(f"COPBOT_RESOURCES: {e}") from None


def on_off(name: str, value: str) -> bool:
    word = value.strip().lower()
    if word in ("on", "true", "yes", "1"):
        return True
    if word in ("off", "false", "no", "0"):
        return False
    raise ConfigError(f"{name} must be on or off, got {value!r}")


def log_format(value: str) -> str:
    value = value.lower()
    if value not in ("text", "json"):
        raise ConfigError(f"COPBOT_LOG_FORMAT must be text or json, got {value!r}")
    return value


def sentry_dsn(value: str | None) -> str | None:
    if value is None:
        return None
    if not value.startswith(("https://", "http://")):
        # the DSN holds a key: never echo it back
        raise ConfigError(
            "SENTRY_DSN must be the https://… DSN from your Sentry project's settings"
        )
    return value


def log_level(value: str) -> str:
    level = value.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"COPBOT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {value!r}")
    return level


def redact_url(value: str) -> str:
    try:
        return make_url(value).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid>"
