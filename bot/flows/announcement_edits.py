"""After staff's edit, Delete (or Cancel) of an announcement is acked: the posted copies
follow, and the person is told what happened (App Home is published again after)."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.blocks.community import message_for
from bot.deps import Deps
from bot.flows import announcements as flows
from bot.slack_client import post_message
from bot.text import plural


def after_edit(
    client: WebClient, deps: Deps, announcement_id: int, user_id: str, state: str
) -> None:
    """An edit saved: the posted copies show it (a scheduled one goes out with it)."""
    if state == "scheduled":
        text = "Saved: the scheduled announcement goes out with your changes."
    else:
        flows.update_copies(client, deps, announcement_id)
        line, _ = flows.summary(deps, announcement_id)
        text = f"Saved: every posted copy now shows your changes ({line})."
    post_message(client, user_id, message_for(text))


def after_delete(
    client: WebClient, deps: Deps, announcement_id: int, user_id: str, state: str | None
) -> None:
    """Deleted: its copies are removed from the channels; cancelled: nothing goes out."""
    if state == "deleted":
        gone = flows.delete_copies(client, deps, announcement_id)
        text = f"Deleted the announcement from {plural(gone, 'channel')}."
    elif state == "cancelled":
        text = "Cancelled: the scheduled announcement will not go out."
    else:
        text = "That announcement was deleted or cancelled already (or is going out now)."
    post_message(client, user_id, message_for(text))
