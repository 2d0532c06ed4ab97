"""`/cop share URL [note] [date:YYYY-MM-DD] [region:Name]` posts a learning opportunity to
the channel in one consistent card; `/cop share digest on|off` (leaders) turns the
monthly digest on or off. The scheduler sends the digests (`bot.flows.digests`)."""

from __future__ import annotations

from slack_bolt import Ack

from bot.blocks import escape
from bot.blocks import shares as blocks
from bot.listeners.common import CommandRequest
from bot.listeners.routes import Routes
from bot.services import CopError, shares
from bot.services import communities as svc
from bot.services.permissions import Action, can, who_can
from bot.slack_client import post_message

route = Routes()


def cmd_share(req: CommandRequest) -> None:
    community = req.community()
    role = svc.role_of(req.session, community.id, req.user_id)
    words = req.args.split()
    if words and words[0].lower() == "digest":
        if not can(req.actor, Action.EDIT_PLAN, role):
            raise CopError(
                f"Only {who_can(Action.EDIT_PLAN)} can turn the monthly digest on or off."
            )
        choice = words[1].lower() if len(words) > 1 else ""
        if choice not in ("on", "off"):
            state = "on" if shares.digest_enabled(req.session, community.id) else "off"
            raise CopError(
                f"The monthly digest of *{escape(community.name)}* is {state}. "
                "`/cop share digest on` or `off` changes it."
            )
        shares.set_digest(req.session, community.id, choice == "on", req.user_id)
        req.say_ephemeral(
            f"The monthly digest of shares is {choice} for *{escape(community.name)}*"
            + (
                ": on the first of each month, last month's links go to the channel."
                if choice == "on"
                else "."
            )
        )
        return
    if not can(req.actor, Action.ADD_EVIDENCE, role):
        raise CopError(f"Only {who_can(Action.ADD_EVIDENCE)} can share here; `/cop join` first.")
    form = shares.parse(req.args)
    share = shares.add(req.session, community.id, form, req.user_id)
    req.say_ephemeral(f"Shared in <#{community.slack_channel_id}>. Thank you!")
    req.later(post_message, req.client, community.slack_channel_id, blocks.share_card(share))


@route.action(blocks.OPEN_ACTION)
def handle_open_link(ack: Ack) -> None:
    ack()  # a link button on a share card: Slack opens the address; nothing to do


register = route.register
