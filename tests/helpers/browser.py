"""Debian's Chromium for the browser tests, and why they are skipped without it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")


LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def skip_reason() -> str | None:
    if not CHROMIUM.exists():
        return "browser tests skipped: /usr/bin/chromium is missing (apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "browser tests skipped: playwright is not installed (pip install -e '.[test]')"
    return None
