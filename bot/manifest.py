"""app_manifest.yml, the Slack app's manifest at the top of the checkout: the bot scopes
it asks for (what `copbot doctor` holds the token's scopes against, and what the Slack
stand-in installs). None when the file is not there (an install without the checkout)."""

from __future__ import annotations

from pathlib import Path

import yaml

MANIFEST_PATH = Path(__file__).resolve().parent.parent / "app_manifest.yml"


def bot_scopes(path: Path = MANIFEST_PATH) -> tuple[str, ...] | None:
    """The manifest's `oauth_config.scopes.bot`, or None without a readable manifest."""
    try:
        data = yaml.safe_load(path.read_text())
        scopes = data["oauth_config"]["scopes"]["bot"]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return None
    return tuple(str(s) for s in scopes)
