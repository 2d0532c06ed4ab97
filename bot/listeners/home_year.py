"""App Home's paging and filter for staff's table of every community."""

from __future__ import annotations

import json

from bot.blocks.home_year import FILTER_ACTION, PAGE_ACTION
from bot.flows import home
from bot.listeners.guard import Interaction, on_action
from bot.listeners.routes import Routes
from bot.services.overview import FILTERS

route = Routes()


@route.action(f"{PAGE_ACTION}_next")
@route.action(f"{PAGE_ACTION}_prev")
@on_action
def handle_page(i: Interaction) -> None:
    """Previous/Next of staff's table: Home published again after the ack."""
    try:
        value = json.loads(i.value or "{}")
        page, show = int(value.get("page", 0)), str(value.get("show", "all"))
    except (ValueError, TypeError, AttributeError):
        page, show = 0, "all"
    i.later(home.publish, i.client, i.deps, i.user_id, max(page, 0), show)


@route.action(FILTER_ACTION)
@on_action
def handle_filter(i: Interaction) -> None:
    """The table's filter."""
    show = (i.action.get("selected_option") or {}).get("value", "all")
    show = show if show in FILTERS else "all"
    i.later(home.publish, i.client, i.deps, i.user_id, 0, show)


register = route.register
