"""App Home's paging and filter for staff's table of every community."""

from __future__ import annotations

import json

from slack_bolt import App

from bot.blocks.home_year import FILTER_ACTION, PAGE_ACTION
from bot.listeners.events import publish_home
from bot.listeners.guard import Interaction, on_action
from bot.services.overview import FILTERS


@on_action
def handle_page(i: Interaction) -> None:
    """Previous/Next of staff's table: Home published again after the ack."""
    try:
        value = json.loads(i.value or "{}")
        page, show = int(value.get("page", 0)), str(value.get("show", "all"))
    except (ValueError, TypeError, AttributeError):
        page, show = 0, "all"
    i.later(publish_home, i.client, i.deps, i.user_id, max(page, 0), show)


@on_action
def handle_filter(i: Interaction) -> None:
    """The table's filter."""
    show = (i.action.get("selected_option") or {}).get("value", "all")
    show = show if show in FILTERS else "all"
    i.later(publish_home, i.client, i.deps, i.user_id, 0, show)


def register(app: App) -> None:
    app.action(f"{PAGE_ACTION}_prev")(handle_page)
    app.action(f"{PAGE_ACTION}_next")(handle_page)
    app.action(FILTER_ACTION)(handle_filter)
