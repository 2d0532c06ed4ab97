"""`/cop share URL [note] [date:YYYY-MM-DD] [region:Name]` posts a learning opportunity to
the channel in one consistent card; `/cop share digest on|off` (leaders) turns the
monthly digest on or off. The scheduler sends the digests (`send_digests`)."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient

from bot.blocks import shares as blocks
from bot.deps import Deps
from bot.listeners.common import CommandRequest, post_message
from bot.services import CopError, shares
from bot.services import communities as svc
from bot.services.permissions import Action, can, who_can
from storage.db import session_scope
from storage.models import Community

log = logging.getLogger(__name__)


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
                f"The monthly digest of *{community.name}* is {state}. "
                "`/cop share digest on` or `off` changes it."
            )
        shares.set_digest(req.session, community.id, choice == "on", req.user_id)
        req.say_ephemeral(
            f"The monthly digest of shares is {choice} for *{community.name}*"
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


def send_digests(deps: Deps, client: WebClient, now: datetime) -> list[str]:
    """Post last month's digest to each community that has it on and has not had it."""
    zone = deps.settings.zone
    month, start, end = shares.previous_month(now, zone)
    with session_scope(deps.engine) as session:
        claimed = shares.claim_digests(session, month)
    sent = []
    for community_id in claimed:
        with session_scope(deps.engine) as session:
            community = session.get(Community, community_id)
            found = shares.in_month(session, community_id, start, end)
        if community is None or not found:
            continue
        label = f"{start:%B %Y}"
        error = post_message(
            client, community.slack_channel_id, blocks.digest(community, label, found)
        )
        if error is None:
            sent.append(f"share_digest {month} to {community.slack_channel_id}")
        else:
            log.warning("share digest for %s: %s", community.slack_channel_id, error)
    return sent
