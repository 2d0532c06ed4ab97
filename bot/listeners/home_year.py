"""App Home's paging and filter for staff's table of every community."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks.home_year import FILTER_ACTION, PAGE_ACTION
from bot.deps import Deps
from bot.listeners.events import publish_home
from bot.services.overview import FILTERS


def handle_page(ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]):
    ack()
    deps: Deps = context["copbot"]
    action = (body.get("actions") or [{}])[0]
    try:
        value = json.loads(action.get("value") or "{}")
        page, show = int(value.get("page", 0)), str(value.get("show", "all"))
    except (ValueError, TypeError, AttributeError):
        page, show = 0, "all"
    deps.later(publish_home, client, deps, body["user"]["id"], max(page, 0), show)


def handle_filter(ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]):
    ack()
    deps: Deps = context["copbot"]
    action = (body.get("actions") or [{}])[0]
    show = (action.get("selected_option") or {}).get("value", "all")
    show = show if show in FILTERS else "all"
    deps.later(publish_home, client, deps, body["user"]["id"], 0, show)


def register(app: App) -> None:
    app.action(f"{PAGE_ACTION}_prev")(handle_page)
    app.action(f"{PAGE_ACTION}_next")(handle_page)
    app.action(FILTER_ACTION)(handle_filter)
