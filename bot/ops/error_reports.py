"""Unexpected errors reported to Sentry (`SENTRY_DSN`, the `sentry` extra).

What is reported: every error copbot logs with its traceback (a listener that failed, work
after an ack that failed, a scheduler pass or step that failed), through Sentry's logging
integration, tagged with the request id and kind of the log line's request.

What never is: people. No user, no request body or headers, no local variables, no
cookies, no Slack user ids (`user=…` in copbot's lines); every string of an event is passed
through `logs.mask` (tokens, emails); breadcrumbs are warnings and above only, and the
breadcrumbs of HTTP calls keep the method and status but not their URLs' query strings.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from bot.config import ConfigError, Settings
from bot.ops import logs

log = logging.getLogger(__name__)


_USER = re.compile(r"\buser=[^\s,;)]+")


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return _USER.sub("user=[id]", logs.mask(value))
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def _host_only(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}/…" if parts.hostname else "…"


def scrub(event: dict[str, Any], _hint: Any = None) -> dict[str, Any]:
    """The event Sentry receives: the request's id and kind as tags; no person in it."""
    for private in ("user", "request", "server_name", "extra"):
        event.pop(private, None)
    entry = event.get("logentry")
    if isinstance(entry, dict):
        entry.pop("params", None)  # the formatted message (masked below) says enough
    context = logs.current()
    tags = event.setdefault("tags", {})
    for name in ("request_id", "kind", "community"):
        if context.get(name) is not None:
            tags[name] = str(context[name])
    for frame_holder in (event.get("exception") or {}).get("values", []) or []:
        for frame in (frame_holder.get("stacktrace") or {}).get("frames", []) or []:
            frame.pop("vars", None)
    breadcrumbs = event.get("breadcrumbs")
    if isinstance(breadcrumbs, dict):
        for crumb in breadcrumbs.get("values", []) or []:
            data = crumb.get("data")
            if isinstance(data, dict):
                data.pop("http.query", None)
                data.pop("http.fragment", None)
                if isinstance(data.get("url"), str):
                    # a Slack response_url is a key to someone's conversation: the host says
                    # enough
                    data["url"] = _host_only(data["url"])
    return _masked(event)


def start_sentry(settings: Settings, transport: Any = None) -> None:
    """Start reporting to `settings.sentry_dsn`; a ConfigError when the extra is missing."""
    try:
        import sentry_sdk
        from sentry_sdk.integrations.logging import LoggingIntegration
    except ImportError:
        raise ConfigError(
            "SENTRY_DSN is set but sentry-sdk is not installed: pip install 'copbot[sentry]'"
        ) from None
    options: dict[str, Any] = {}
    if transport is not None:
        options["transport"] = transport
    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=0.0,
        before_send=scrub,
        integrations=[LoggingIntegration(level=logging.WARNING, event_level=logging.ERROR)],
        **options,
    )
    log.info("unexpected errors are reported to Sentry")
