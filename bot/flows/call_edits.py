"""After a call is edited from its message and the edit is acked: its recording and
slides links posted in the call's thread (broadcast to the channel)."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.blocks import community as community_blocks
from bot.text import escape, link
from storage.models import Call, Community


def post_links(client: WebClient, call: Call, community: Community) -> None:
    """The call's links, in its thread (or the channel when it has no message)."""
    parts = [
        link(url, name)
        for name, url in (("Recording", call.recording_url), ("Slides", call.slides_url))
        if url
    ]
    if not parts:
        return
    text = f":movie_camera: {' · '.join(parts)} of *{escape(call.topic)}*"
    channel = call.message_channel or community.slack_channel_id
    payload = community_blocks.message_for(text)
    if call.message_ts:
        payload |= {"thread_ts": call.message_ts, "reply_broadcast": True}
    client.chat_postMessage(channel=channel, **payload)
