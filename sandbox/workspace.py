"""Slack's side of a workspace with state, for `copbot sandbox`: channels and their
messages with threads, ephemeral messages seen by their person only, each person's stack
of modals and App Home, trigger_ids and response_urls.

`Workspace` is the stand-in Web API (`SlackStandIn`: every call is still held against
Slack's spec) plus this state: `chat.*`, `views.*` and `conversations.*` change it and
answer as Slack does, with Slack's error names (`channel_not_found`, `not_in_channel`,
`invalid_blocks`, `expired_trigger_id`, `exchanged_trigger_id`, `hash_conflict`, ...).
Every refused call is also kept as a `Problem` beside what the person did that caused it,
so the page can show it there. What a person does (commands, clicks, submissions) is in
`sandbox.person`.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlparse

from bot.blocks.limits import check_message
from sandbox.modals import Modals, _json
from sandbox.slack_standin import BOT_USER_ID, SlackStandIn, _block_kit_problems
from storage.models import utcnow

TRIGGER_SECONDS = 3.0  # a trigger_id opens a modal within 3 s, once
RESPONSE_URL_USES = 5  # a response_url answers at most 5 times
RESPONSE_URL_SECONDS = 30 * 60


@dataclass
class Channel:
    id: str
    name: str
    is_im: bool = False
    user: str | None = None  # the person of a direct message with the app
    bot_member: bool = False


@dataclass
class Message:
    channel: str
    ts: str
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    user: str = BOT_USER_ID
    thread_ts: str | None = None
    ephemeral_to: str | None = None  # seen by this person only
    edited: bool = False
    deleted: bool = False
    seq: int = 0
    files: list[dict[str, Any]] = field(default_factory=list)  # shared with the message


@dataclass
class Problem:
    """A call Slack refused, or an ack that came too late, shown beside its cause."""

    user: str | None
    error: str
    method: str
    detail: str = ""
    channel: str | None = None
    ts: str | None = None  # the message whose button caused it
    cause: str = ""  # what the person did, e.g. "/cop new"
    seq: int = 0


@dataclass
class Hook:
    user: str
    channel: str
    message_ts: str | None  # the message whose button gave it, for replace/delete_original
    issued: float = field(default_factory=time.monotonic)
    uses: int = 0


@dataclass
class Trigger:
    user: str
    issued: float = field(default_factory=time.monotonic)
    used: bool = False


class Workspace(Modals, SlackStandIn):
    """The stand-in Web API with a workspace's state; see the module docstring."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.channels: dict[str, Channel] = {}
        self.messages: list[Message] = []
        self.problems: list[Problem] = []
        self.views: dict[str, dict[str, Any]] = {}  # view_id -> view as Slack holds it
        self.stacks: dict[str, list[str]] = {}  # user -> modal view_ids, top last
        self.homes: dict[str, str] = {}  # user -> App Home view_id
        self.view_errors: dict[str, dict[str, str]] = {}  # view_id -> block_id -> error
        self.triggers: dict[str, Trigger] = {}
        self.files: dict[str, dict[str, Any]] = {}  # file_id -> name, title, content
        self.hooks: dict[str, Hook] = {}
        self.last_cause: dict[str, tuple[str, str | None, str | None]] = {}
        self.version = 0
        self._changed = threading.Condition()
        self._state = threading.RLock()  # one change to the workspace at a time
        self._seq = itertools.count(1)
        self._msg_ts = itertools.count(1)
        self.on_change: list[Any] = []  # callables run after each change (persistence)

    def start(self) -> Workspace:
        # a short poll interval: stopping takes 50 ms, not half a second
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    # ---- set-up -------------------------------------------------------------------
    def add_channel(self, channel_id: str, name: str) -> Channel:
        channel = self.channels.setdefault(channel_id, Channel(channel_id, name))
        return channel

    def dm_of(self, user_id: str) -> str:
        """The direct-message channel between a person and the app."""
        channel_id = "D" + user_id[1:]
        if channel_id not in self.channels:
            name = self.users.get(user_id, {}).get("name", user_id)
            self.channels[channel_id] = Channel(
                channel_id, name, is_im=True, user=user_id, bot_member=True
            )
        return channel_id

    # ---- change notification ---------------------------------------------------------
    def changed(self) -> None:
        with self._changed:
            self.version += 1
            self._changed.notify_all()
        for fn in self.on_change:
            fn()

    def wait_change(self, since: int, timeout: float) -> int:
        """Block until the version passes `since` (or `timeout`); return the version."""
        with self._changed:
            self._changed.wait_for(lambda: self.version > since, timeout)
            return self.version

    # ---- what a person did, for attributing problems -------------------------------------
    def set_cause(self, user: str, cause: str, channel: str | None, ts: str | None) -> None:
        self.last_cause[user] = (cause, channel, ts)

    def problem(
        self, user: str | None, error: str, method: str, detail: str = "", **where: Any
    ) -> Problem:
        cause, channel, ts = self.last_cause.get(user or "", ("", None, None))
        found = Problem(
            user=user,
            error=error,
            method=method,
            detail=detail,
            channel=where.get("channel", channel),
            ts=where.get("ts", ts),
            cause=where.get("cause", cause),
            seq=next(self._seq),
        )
        with self._lock:
            self.problems.append(found)
        self.changed()
        return found

    # ---- triggers and response_urls --------------------------------------------------
    def issue_trigger(self, user: str) -> str:
        n = next(self._seq)
        trigger_id = f"{n}.{int(time.time())}.{secrets.token_hex(8)}"
        self.triggers[trigger_id] = Trigger(user)
        return trigger_id

    def _use_trigger(self, trigger_id: str) -> tuple[str | None, str | None]:
        """(user, error): a trigger_id is good once, within 3 s."""
        trigger = self.triggers.get(trigger_id)
        if trigger is None:
            return None, "invalid_trigger_id"
        if trigger.used:
            return trigger.user, "exchanged_trigger_id"
        trigger.used = True
        if time.monotonic() - trigger.issued > TRIGGER_SECONDS:
            return trigger.user, "expired_trigger_id"
        return trigger.user, None

    def issue_hook(self, user: str, channel: str, message_ts: str | None = None) -> str:
        name = secrets.token_hex(8)
        self.hooks[name] = Hook(user, channel, message_ts)
        return self.response_url(name)

    # ---- messages --------------------------------------------------------------------
    def _new_ts(self) -> str:
        """A message timestamp on the sandbox's clock, unique in the workspace."""
        return f"{int(utcnow().timestamp())}.{next(self._msg_ts):06d}"

    def add_message(self, message: Message) -> Message:
        message.seq = next(self._seq)
        with self._lock:
            self.messages.append(message)
        self.changed()
        return message

    def find(self, channel: str, ts: str) -> Message | None:
        for m in self.messages:
            if m.channel == channel and m.ts == ts and not m.deleted:
                return m
        return None

    def visible(self, user: str) -> list[Message]:
        """The messages `user` sees: their channels' messages and their own ephemerals."""
        return [
            m
            for m in self.messages
            if not m.deleted and m.ephemeral_to in (None, user) and self._sees(user, m.channel)
        ]

    def _sees(self, user: str, channel_id: str) -> bool:
        channel = self.channels.get(channel_id)
        return channel is not None and (not channel.is_im or channel.user == user)

    def person_says(self, user: str, channel: str, text: str, thread_ts: str | None = None):
        return self.add_message(
            Message(channel, self._new_ts(), text=text, user=user, thread_ts=thread_ts)
        )

    def _resolve(self, channel: str) -> str | None:
        """A channel argument as Slack reads it: a user ID means the app's DM with them."""
        if channel.startswith(("U", "W")) and channel in self.users:
            return self.dm_of(channel)
        return channel if channel in self.channels else None

    # ---- the Web API, with state ---------------------------------------------------------
    def answer(
        self, method: str, args: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        status, extra, body = super().answer(method, args, headers)
        if body.get("error") == "invalid_arguments":
            block_problems = _block_kit_problems(method, args)
            if block_problems:
                body = {"ok": False, "error": "invalid_blocks", "errors": block_problems}
        if not body.get("ok", False) and method not in ("users.info",):
            detail = "; ".join(body.get("errors") or body.get("detail") or [])
            user = self._user_of(args)
            where = {}
            if user is None and (channel := self._resolve(str(args.get("channel", "")))):
                where = {"channel": channel, "ts": None, "cause": ""}  # shown in the channel
            self.problem(user, body.get("error", "error"), method, detail, **where)
        return status, extra, body

    def _user_of(self, args: dict[str, Any]) -> str | None:
        """The person a call concerns, to show its error beside what they did."""
        if trigger := self.triggers.get(str(args.get("trigger_id", ""))):
            return trigger.user
        if args.get("user_id") or args.get("user"):
            return str(args.get("user_id") or args.get("user"))
        if view := self.views.get(str(args.get("view_id", ""))):
            return view.get("_user")
        channel = self.channels.get(str(args.get("channel", "")))
        if channel is not None and channel.is_im:
            return channel.user
        channel_arg = str(args.get("channel", ""))
        return channel_arg if channel_arg in self.users else None

    def _success(self, method: str, args: dict[str, Any], token: str = "") -> dict[str, Any]:
        handler = _HANDLERS.get(method)
        if handler is None:
            return super()._success(method, args, token)
        with self._state:
            body = handler(self, args)
        if body.get("ok"):
            self.changed()
        return body

    def _post(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve(str(args.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if not self.channels[channel].bot_member:
            return {"ok": False, "error": "not_in_channel"}
        blocks = _json(args.get("blocks")) or []
        if not args.get("text") and not blocks:
            return {"ok": False, "error": "no_text"}
        thread = args.get("thread_ts") or None
        message = Message(channel, self._new_ts(), str(args.get("text") or ""), blocks)
        message.thread_ts = str(thread) if thread else None
        self.add_message(message)
        return {
            "ok": True,
            "channel": channel,
            "ts": message.ts,
            "message": {"text": message.text, "ts": message.ts, "bot_id": "B0COPBOT"},
        }

    def _ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve(str(args.get("channel", "")))
        user = str(args.get("user", ""))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if user not in self.users:
            return {"ok": False, "error": "user_not_in_channel"}
        message = Message(
            channel,
            self._new_ts(),
            str(args.get("text") or ""),
            _json(args.get("blocks")) or [],
            ephemeral_to=user,
            thread_ts=str(args["thread_ts"]) if args.get("thread_ts") else None,
        )
        self.add_message(message)
        return {"ok": True, "message_ts": message.ts}

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve(str(args.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        message = self.find(channel, str(args.get("ts", "")))
        if message is None or message.ephemeral_to:
            return {"ok": False, "error": "message_not_found"}
        if message.user != BOT_USER_ID:
            return {"ok": False, "error": "cant_update_message"}
        if "text" in args:
            message.text = str(args.get("text") or "")
        if "blocks" in args:
            message.blocks = _json(args.get("blocks")) or []
        message.edited = True
        return {"ok": True, "channel": channel, "ts": message.ts, "text": message.text}

    def _delete(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve(str(args.get("channel", "")))
        message = self.find(channel or "", str(args.get("ts", "")))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        if message.user != BOT_USER_ID:
            return {"ok": False, "error": "cant_delete_message"}
        message.deleted = True
        return {"ok": True, "channel": channel, "ts": message.ts}

    def _join(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(args.get("channel", "")))
        if channel is None or channel.is_im:
            return {"ok": False, "error": "channel_not_found"}
        channel.bot_member = True
        return {"ok": True, "channel": {"id": channel.id, "name": channel.name, "is_member": True}}

    def _info(self, args: dict[str, Any]) -> dict[str, Any]:
        """conversations.info: every sandbox channel is public; a DM is the app's IM."""
        channel = self.channels.get(str(args.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        return {
            "ok": True,
            "channel": {
                "id": channel.id,
                "name": channel.name,
                "is_channel": not channel.is_im,
                "is_group": False,
                "is_im": channel.is_im,
                "is_mpim": False,
                "is_private": channel.is_im,
                "is_archived": False,
                "is_member": channel.bot_member,
            },
        }

    def _members(self, args: dict[str, Any]) -> dict[str, Any]:
        """conversations.members: everyone is in every public channel of the sandbox."""
        channel = self.channels.get(str(args.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        people = [channel.user] if channel.is_im and channel.user else list(self.users)
        return {"ok": True, "members": people, "response_metadata": {"next_cursor": ""}}

    def _open_dm(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("users", "")).split(",")[0]
        if user not in self.users:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": self.dm_of(user)}}

    # ---- files (files.uploadV2: getUploadURLExternal, the bytes, completeUploadExternal) --
    def _upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        body = SlackStandIn._success(self, "files.getUploadURLExternal", args)
        try:
            length = int(args.get("length", ""))
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        name = str(args.get("filename") or "").strip()
        if not name:
            return {"ok": False, "error": "invalid_arguments"}
        self.files[body["file_id"]] = {"id": body["file_id"], "name": name, "length": length}
        return body

    def _complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        """Shares the uploaded files in `channel_id` (or `channels`) as one message whose
        text is `initial_comment`, as Slack does; without a channel the files stay private."""
        listed = _json(args.get("files")) or []
        if not isinstance(listed, list) or not listed:
            return {"ok": False, "error": "invalid_arguments"}
        shared: list[dict[str, Any]] = []
        for entry in listed:
            known = self.files.get(str((entry or {}).get("id", "")))
            uploads = [
                c
                for c in self.calls_to("file_upload")
                if known and c.args["file_id"] == known["id"]
            ]
            if known is None or not uploads:
                return {"ok": False, "error": "file_not_found"}
            content = uploads[-1].args["content"]
            if len(content.encode()) != known["length"]:
                return {"ok": False, "error": "file_upload_size_mismatch"}
            known.update(
                title=str(entry.get("title") or known["name"]),
                content=content,
                size=known["length"],
                mimetype=_mimetype(known["name"]),
            )
            shared.append({k: v for k, v in known.items() if k != "content" and k != "length"})
        targets = [str(args["channel_id"])] if args.get("channel_id") else []
        targets += [c for c in str(args.get("channels") or "").split(",") if c]
        for target in targets:
            channel = self._resolve(target)
            if channel is None:
                return {"ok": False, "error": "channel_not_found"}
            if not self.channels[channel].bot_member:
                return {"ok": False, "error": "not_in_channel"}
        for target in targets:
            channel = self._resolve(target) or target
            message = Message(channel, self._new_ts(), str(args.get("initial_comment") or ""))
            message.files = [dict(f) for f in shared]
            message.thread_ts = str(args["thread_ts"]) if args.get("thread_ts") else None
            self.add_message(message)
        return {"ok": True, "files": shared}

    def file_for(self, user: str, file_id: str) -> dict[str, Any] | None:
        """A shared file with its content, if `user` sees a message it was shared in."""
        known = self.files.get(file_id)
        if known is None or "content" not in known:
            return None
        for m in self.visible(user):
            if any(f.get("id") == file_id for f in m.files):
                return known
        return None

    # ---- response_url ------------------------------------------------------------------
    def hook(self, name: str, args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """What Slack does with a POST to a response_url."""
        with self._state:
            return self._hook(name, args)

    def _hook(self, name: str, args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        hook = self.hooks.get(name)
        if hook is None:
            return 404, {"ok": False, "error": "no_active_hooks"}
        if time.monotonic() - hook.issued > RESPONSE_URL_SECONDS:
            self.problem(hook.user, "expired_url", "response_url")
            return 404, {"ok": False, "error": "expired_url"}
        hook.uses += 1
        if hook.uses > RESPONSE_URL_USES:
            self.problem(hook.user, "used_url", "response_url", "used more than 5 times")
            return 404, {"ok": False, "error": "used_url"}
        problems = check_message(args)
        if problems:
            self.problem(hook.user, "invalid_blocks", "response_url", "; ".join(problems))
            return 400, {"ok": False, "error": "invalid_blocks"}
        original = self.find(hook.channel, hook.message_ts) if hook.message_ts else None
        if _truthy(args.get("delete_original")):
            if original is not None:
                original.deleted = True
            self.changed()
            return 200, {"ok": True}
        blocks = _json(args.get("blocks")) or []
        if _truthy(args.get("replace_original")) and original is not None:
            original.text, original.blocks, original.edited = (
                str(args.get("text") or ""),
                blocks,
                True,
            )
            self.changed()
            return 200, {"ok": True}
        in_channel = args.get("response_type") == "in_channel"
        message = Message(hook.channel, self._new_ts(), str(args.get("text") or ""), blocks)
        message.ephemeral_to = None if in_channel else hook.user
        message.thread_ts = str(args["thread_ts"]) if args.get("thread_ts") else None
        self.add_message(message)
        return 200, {"ok": True}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        base = super()._handler_class()
        workspace = self

        class Handler(base):  # type: ignore[valid-type, misc]
            def do_POST(self) -> None:
                path = urlparse(self.path).path
                if path.startswith("/hooks/"):
                    status, body = workspace.hook(path.rsplit("/", 1)[1], self._args())
                    self._send(status, {}, body)
                    return
                base.do_POST(self)

        return Handler

    # ---- saving ------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "channels": [asdict(c) for c in self.channels.values()],
                "messages": [asdict(m) for m in self.messages if not m.deleted],
                "homes": {u: self.views[v] for u, v in self.homes.items()},
                "files": list(self.files.values()),
            }

    def restore(self, data: dict[str, Any]) -> None:
        for c in data.get("channels", []):
            self.channels[c["id"]] = Channel(**c)
        for m in data.get("messages", []):
            self.messages.append(Message(**m))
        for shared in data.get("files", []):
            self.files[shared["id"]] = shared
        for user, view in data.get("homes", {}).items():
            self.views[view["id"]] = view
            self.homes[user] = view["id"]
        top = max((m.seq for m in self.messages), default=0)
        self._seq = itertools.count(top + 1)
        files = [int(f[1:]) for f in self.files if f[1:].isdigit()]
        self._ts = itertools.count(max(files, default=0) + 1)  # file ids stay unique
        used = [int(v[1:]) for v in self.views if v[1:].isdigit()]
        self._views = itertools.count(max(used, default=0) + 1)


_MIMETYPES = {".md": "text/markdown", ".csv": "text/csv", ".txt": "text/plain"}


def _mimetype(name: str) -> str:
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    return _MIMETYPES.get(suffix, "application/octet-stream")


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


_HANDLERS = {
    "chat.postMessage": Workspace._post,
    "chat.postEphemeral": Workspace._ephemeral,
    "chat.update": Workspace._update,
    "chat.delete": Workspace._delete,
    "conversations.join": Workspace._join,
    "conversations.info": Workspace._info,
    "conversations.members": Workspace._members,
    "conversations.open": Workspace._open_dm,
    "files.getUploadURLExternal": Workspace._upload_url,
    "files.completeUploadExternal": Workspace._complete_upload,
    "views.open": Workspace._views_open,
    "views.push": Workspace._views_push,
    "views.update": Workspace._views_update,
    "views.publish": Workspace._views_publish,
}
