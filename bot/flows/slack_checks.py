"""Checks that ask Slack about people and channels, mostly while a request waits for its
ack (a listener's `/cop leaders` or new-community form), sometimes after it (a flow).

Slack wants an answer to a command or a form within 3 seconds, so these calls use a
client of their own with a short timeout and no retries, and run side by side: a
leaders check costs one users.info round trip (two at once when two leaders are named),
a channel check one conversations.info and, for someone who is not staff, a few pages of
conversations.members. When Slack is slower than that, the person is told to try again
and nothing changes: a refusal is cheap, a wrong leader or channel is not.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

# each Slack call made while a request waits; the whole check stays under ~2 s
CALL_TIMEOUT_SECONDS = 1.0
CHECK_BUDGET_SECONDS = 2.0
SLACKBOT = "USLACKBOT"
MEMBER_PAGES = 5  # conversations.members pages of 1,000 read at most


def quick_client(slow: WebClient) -> WebClient:
    """The same token and API URL as `slow`, a short timeout and no retries."""
    return WebClient(token=slow.token, base_url=slow.base_url, timeout=CALL_TIMEOUT_SECONDS)


def _slack_error(e: Exception) -> str:
    if isinstance(e, SlackApiError):
        return str(e.response.get("error") or "unknown_error")
    return "no answer in time"


@dataclass(frozen=True)
class PersonCheck:
    user_id: str
    user: dict[str, Any] | None  # users.info's user object, when Slack answered
    problem: str | None  # why they cannot lead, in words for the person asking


def _person_problem(user_id: str, user: dict[str, Any]) -> str | None:
    if user_id == SLACKBOT or user.get("is_bot") or user.get("is_app_user"):
        return f"<@{user_id}> is an app, not a person: leaders must be people."
    if user.get("deleted"):
        return f"<@{user_id}>'s account is deactivated: leaders must be active members."
    return None


def _check_person(client: WebClient, user_id: str) -> PersonCheck:
    if user_id == SLACKBOT:
        return PersonCheck(user_id, None, _person_problem(user_id, {}))
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError as e:
        error = _slack_error(e)
        if error in ("user_not_found", "user_not_visible"):
            return PersonCheck(
                user_id, None, f"`{user_id}` is not a person in this workspace I can see."
            )
        log.warning("users.info %s failed: %s", user_id, error)
        return PersonCheck(
            user_id, None, f"I couldn't check <@{user_id}> with Slack ({error}); try again."
        )
    except Exception as e:  # noqa: BLE001 - a timeout or a dropped connection
        log.warning("users.info %s: %s", user_id, type(e).__name__)
        return PersonCheck(
            user_id,
            None,
            f"Slack did not answer in time about <@{user_id}>; nothing changed, try again.",
        )
    return PersonCheck(user_id, user, _person_problem(user_id, user))


def check_people(client: WebClient, user_ids: list[str]) -> list[PersonCheck]:
    """users.info for each id, side by side, with a short timeout."""
    client = quick_client(client)
    with ThreadPoolExecutor(max_workers=max(1, len(user_ids))) as pool:
        return list(pool.map(lambda uid: _check_person(client, uid), user_ids))


@dataclass(frozen=True)
class ChannelCheck:
    problem: str | None  # why it cannot be a community's home
    bot_is_member: bool = False
    private: bool = False


def _not_found(channel_id: str) -> ChannelCheck:
    return ChannelCheck(
        "I can't find that channel. If it is private, invite me there first "
        "(`/invite @copbot` in the channel), then choose it again."
    )


def check_channel(client: WebClient, channel_id: str, user_id: str, *, staff: bool) -> ChannelCheck:
    """Can `channel_id` be a community's home, chosen by `user_id`?

    It must be a public or private channel (not a direct message or a group DM), not
    archived, one the bot can post in (a public one it can join; a private one it was
    invited to), and, unless staff chose it, one the person is a member of.
    """
    started = time.monotonic()
    client = quick_client(client)
    if not channel_id or channel_id[0] not in "CGD":
        return _not_found(channel_id)
    try:
        channel = client.conversations_info(channel=channel_id)["channel"]
    except SlackApiError as e:
        if _slack_error(e) in ("channel_not_found", "method_not_supported_for_channel_type"):
            return _not_found(channel_id)
        return ChannelCheck(f"Slack couldn't tell me about that channel ({_slack_error(e)}).")
    except Exception as e:  # noqa: BLE001 - a timeout or a dropped connection
        log.warning("conversations.info %s: %s", channel_id, type(e).__name__)
        return ChannelCheck("Slack did not answer in time; nothing was created, try again.")
    if channel.get("is_im") or channel.get("is_mpim"):
        return ChannelCheck(
            "Choose a channel: a direct message or a group DM can't be a community's home."
        )
    if not (channel.get("is_channel") or channel.get("is_group")):
        return _not_found(channel_id)
    if channel.get("is_archived"):
        return ChannelCheck("That channel is archived: choose one that is in use.")
    private = bool(channel.get("is_private") or channel.get("is_group"))
    bot_is_member = bool(channel.get("is_member"))
    if private and not bot_is_member:
        return ChannelCheck(
            "I'm not in that private channel: invite me there with `/invite @copbot`, "
            "then try again.",
            private=True,
        )
    if not staff:
        found = _is_member(client, channel_id, user_id, started)
        if found is None:
            return ChannelCheck("Slack did not answer in time; nothing was created, try again.")
        if not found:
            return ChannelCheck(
                "Only members of a channel (or staff) can make it a community's home: "
                "join it first, or ask staff."
            )
    return ChannelCheck(None, bot_is_member=bot_is_member, private=private)


def _is_member(client: WebClient, channel_id: str, user_id: str, started: float) -> bool | None:
    """Whether `user_id` is in the channel; None when Slack could not say in time."""
    cursor = None
    for _ in range(MEMBER_PAGES):
        if time.monotonic() - started > CHECK_BUDGET_SECONDS:
            return None
        try:
            args: dict[str, Any] = {"channel": channel_id, "limit": 1000}
            if cursor:
                args["cursor"] = cursor
            page = client.conversations_members(**args)
        except Exception as e:  # noqa: BLE001 - any failure means "can't say"
            log.warning("conversations.members %s: %s", channel_id, _slack_error(e))
            return None
        if user_id in (page.get("members") or []):
            return True
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return False
    return None
