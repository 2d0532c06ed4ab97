"""Events API: App Home (a retried event is handled once: `bot.listeners.replay`)."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.deps import Deps
from bot.flows import home
from bot.listeners.routes import Routes

route = Routes()


@route.event("app_home_opened")
def handle_app_home_opened(event: dict[str, Any], client: WebClient, deps: Deps) -> None:
    """Home opened: published after the ack (`bot.flows.home`)."""
    if event.get("tab", "home") != "home":
        return
    deps.later(home.publish, client, deps, event["user"])


register = route.register
