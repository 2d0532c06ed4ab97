"""What listeners share: the `/cop` command's request, reading mentions, channels, forms
and their metadata, and the zone a leader's forms start in. The guard of buttons and
forms is `bot.listeners.guard`."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from sqlmodel import Session

from bot.blocks import community as community_blocks
from bot.deps import Deps
from bot.ops import logs
from bot.services import CopError, people
from bot.services import calls as rules
from bot.services import communities as svc
from bot.services.ids import MAX_ID, object_id
from bot.services.permissions import Action, Actor, can, who_can
from storage.models import Community

log = logging.getLogger(__name__)

USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
CHANNEL_MENTION = re.compile(r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>")
# one rule for ids from buttons, forms and commands (bot.services.ids)
__all__ = ["MAX_ID", "object_id"]


def parse_mentions(text: str) -> tuple[list[str], str]:
    """User ids mentioned in `text`, and whatever else was there (stripped)."""
    ids = USER_MENTION.findall(text)
    rest = USER_MENTION.sub(" ", text).strip()
    return ids, rest


def parse_channel(text: str) -> tuple[str | None, str]:
    match = CHANNEL_MENTION.search(text)
    if not match:
        return None, text.strip()
    return match.group(1), CHANNEL_MENTION.sub(" ", text, count=1).strip()


def modal_values(view: dict[str, Any]) -> dict[str, Any]:
    """Every input of a submitted modal as block_id -> value, whatever the element:
    text (str), selects (the selected value, user, channel or conversation id), date
    and time pickers (ISO text), checkboxes and multi-selects (a list of values).
    Inputs left empty are absent, so `values.get(block_id)` is the one way to read them."""
    found: dict[str, Any] = {}
    state = view.get("state") if isinstance(view, dict) else None
    values = state.get("values") if isinstance(state, dict) else None
    for block_id, actions in (values if isinstance(values, dict) else {}).items():
        # a forged view's state may hold anything where Slack sends objects: ignored
        for element in actions.values() if isinstance(actions, dict) else ():
            if not isinstance(element, dict):
                continue
            value = _element_value(element)
            if value not in (None, "", []):
                found[block_id] = value
    return found


def _element_value(element: dict[str, Any]) -> Any:
    kind = element.get("type")
    if kind in ("plain_text_input", "url_text_input", "email_text_input", "number_input"):
        return element.get("value")
    if kind in ("checkboxes", "multi_static_select", "multi_external_select"):
        options = element.get("selected_options")
        return [
            o["value"]
            for o in (options if isinstance(options, list) else [])
            if isinstance(o, dict) and "value" in o
        ]
    if kind == "multi_users_select":
        return list(element.get("selected_users") or [])
    if kind == "multi_conversations_select":
        return list(element.get("selected_conversations") or [])
    if kind == "multi_channels_select":
        return list(element.get("selected_channels") or [])
    for key in (
        "selected_user",
        "selected_conversation",
        "selected_channel",
        "selected_date",
        "selected_time",
        "selected_date_time",
    ):
        if key in element:
            return element[key]
    option = element.get("selected_option")
    if isinstance(option, dict):
        return option.get("value")
    return element.get("value")


class NoCommunity(CopError):
    """The command needs a community and the channel has none."""


@dataclass
class CommandRequest:
    ack: Ack
    client: WebClient
    deps: Deps
    session: Session
    team_id: str
    channel_id: str
    user_id: str
    trigger_id: str
    response_url: str
    args: str
    pending: list[tuple[Callable[..., Any], tuple, dict]] = field(default_factory=list)

    @property
    def actor(self) -> Actor:
        return self.deps.actor(self.user_id)

    @property
    def words(self) -> list[str]:
        return self.args.split()

    @property
    def sub(self) -> str:
        """The subcommand: the first word of the arguments, lowercased ("" if none)."""
        return self.words[0].lower() if self.words else ""

    def unknown(self, name: str, usage: str) -> CopError:
        """The answer to a subcommand `/cop name` does not know."""
        return CopError(f"I don't know `/cop {name} {self.sub[:20]}`. {usage}")

    def reply(self, payload: dict[str, Any]) -> None:
        self.ack(**payload)

    def say_ephemeral(self, text: str) -> None:
        self.ack(**community_blocks.ephemeral(text))

    def open_view(self, view: dict[str, Any]) -> None:
        """Ack the command and open `view` at once, on the views pool (a trigger_id
        lives three seconds)."""
        self.ack()
        self.deps.open_view(self.client, self.trigger_id, view)

    def later(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """Run `fn` after the ack, once this command's changes are committed."""
        self.pending.append((fn, args, kwargs))

    def may(self, action: Action, community: Community) -> bool:
        """Whether the person may do `action` in `community`, by their role there."""
        return can(self.actor, action, svc.role_of(self.session, community.id, self.user_id))

    def require(self, action: Action, what: str) -> None:
        """CopError "Only <who may> <what>." unless the person may do `action` (an
        action of no one community: staff's)."""
        if not can(self.actor, action):
            raise CopError(f"Only {who_can(action)} {what}.")

    def community(self, channel_id: str | None = None) -> Community:
        """The community of `channel_id` (default: where the command ran), or NoCommunity."""
        community = svc.by_channel(self.session, self.team_id, channel_id or self.channel_id)
        if community is None:
            raise NoCommunity(community_blocks.NO_COMMUNITY_TEXT)
        logs.note(community=community.id)
        return community


def view_metadata(view: dict[str, Any]) -> dict[str, Any]:
    """A form's private_metadata as a dict; CopError when it is not copbot's."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        meta = None
    if not isinstance(meta, dict):
        raise CopError("This form is not one copbot made: open it again.")
    return meta


def leader_zone(req: CommandRequest) -> str:
    """The person's own zone as Slack gives it, else the organisation's."""
    person = people.get(req.session, req.user_id)
    zone = person.tz if person and person.tz else None
    return zone if zone and rules.is_zone(zone) else req.deps.settings.timezone
