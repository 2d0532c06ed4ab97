"""What a person does in the sandbox's Slack, sent to the bot as Slack sends it: signed
slash commands, `block_actions`, `view_submission`, `view_closed`, `shortcut`,
`message_action` and `app_home_opened`, each answered within Slack's 3 seconds or shown as
Slack's "operation_timeout". The ack is then applied as Slack applies it: a command's
ephemeral or in-channel answer, a modal's `response_action` (errors, update, push, clear).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests

from bot.blocks.limits import check_view
from sandbox import slack_payloads as payloads
from sandbox.modals import MAX_STACK
from sandbox.slack_standin import TEAM_ID
from sandbox.workspace import Message, Workspace

ACK_SECONDS = 3.0
APP_ID = "A0COPBOT"


@dataclass
class Outcome:
    """What came of an action: the ack's HTTP status and body, and any error shown."""

    status: int = 0
    body: Any = None
    error: str | None = None
    events: list[str] = field(default_factory=list)


class Slack:
    """Slack's client side: turns a person's action into the request Slack would send."""

    def __init__(self, workspace: Workspace, bot_url: str, signing_secret: str):
        self.workspace = workspace
        self.events_url = bot_url.rstrip("/") + "/slack/events"
        self.secret = signing_secret
        self.http = requests.Session()

    # ---- sending ------------------------------------------------------------------------
    def _send(self, body: str, content_type: str, user: str, what: str) -> Outcome:
        headers = payloads.signed_headers(self.secret, body, content_type=content_type)
        started = time.monotonic()
        try:
            response = self.http.post(
                self.events_url, data=body.encode(), headers=headers, timeout=ACK_SECONDS
            )
        except requests.Timeout:
            self.workspace.problem(user, "operation_timeout", what, "no answer within 3 seconds")
            return Outcome(error="operation_timeout")
        except requests.ConnectionError:
            self.workspace.problem(user, "dispatch_failed", what, "the app is not reachable")
            return Outcome(error="dispatch_failed")
        if time.monotonic() - started > ACK_SECONDS:
            self.workspace.problem(user, "operation_timeout", what, "the answer came too late")
            return Outcome(status=response.status_code, error="operation_timeout")
        if response.status_code != 200:
            error = "dispatch_failed"
            self.workspace.problem(
                user, error, what, f"the app answered HTTP {response.status_code}"
            )
            return Outcome(status=response.status_code, error=error)
        try:
            parsed = response.json() if response.content.strip() else None
        except ValueError:
            parsed = response.text
        return Outcome(status=200, body=parsed)

    def _interactive(self, payload: dict[str, Any], user: str, what: str) -> Outcome:
        return self._send(
            urlencode({"payload": json.dumps(payload)}),
            "application/x-www-form-urlencoded",
            user,
            what,
        )

    def _person(self, user: str) -> dict[str, Any]:
        return {
            "id": user,
            "username": self.workspace.users.get(user, {}).get("name", user),
            "name": self.workspace.users.get(user, {}).get("name", user),
            "team_id": TEAM_ID,
        }

    # ---- slash commands -----------------------------------------------------------------
    def command(self, user: str, channel: str, text: str) -> Outcome:
        """The person typed `text` (e.g. "/cop plan 2") in `channel`."""
        text = text.strip()
        command, _, rest = text.partition(" ")
        ws = self.workspace
        ws.set_cause(user, text, channel, None)
        if command != "/cop":
            ws.problem(
                user, "invalid_command", "slash command", f"{command} is not a valid command"
            )
            return Outcome(error="invalid_command")
        trigger_id = ws.issue_trigger(user)
        fields = payloads.slash_command_fields(
            self.escape(rest.strip()),
            user_id=user,
            channel_id=channel,
            response_url=ws.issue_hook(user, channel),
        )
        fields["trigger_id"] = trigger_id
        fields["user_name"] = ws.users.get(user, {}).get("name", user)
        fields["channel_name"] = ws.channels[channel].name if channel in ws.channels else ""
        outcome = self._send(urlencode(fields), "application/x-www-form-urlencoded", user, text)
        if isinstance(outcome.body, dict) and (
            outcome.body.get("text") or outcome.body.get("blocks")
        ):
            body = outcome.body
            message = Message(
                channel, ws._new_ts(), str(body.get("text") or ""), body.get("blocks") or []
            )
            if body.get("response_type") != "in_channel":
                message.ephemeral_to = user
            ws.add_message(message)
        return outcome

    def escape(self, text: str) -> str:
        """The command text as Slack sends it: &, <, > escaped, @names and #channels as
        mentions."""
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        ws = self.workspace
        names = {u.get("name"): uid for uid, u in ws.users.items()}
        channels = {c.name: c.id for c in ws.channels.values() if not c.is_im}

        def user(match: re.Match[str]) -> str:
            uid = names.get(match.group(1))
            return f"<@{uid}|{match.group(1)}>" if uid else match.group(0)

        def chan(match: re.Match[str]) -> str:
            cid = channels.get(match.group(1))
            return f"<#{cid}|{match.group(1)}>" if cid else match.group(0)

        text = re.sub(r"(?<![\w<])@([\w.-]+)", user, text)
        return re.sub(r"(?<![\w<])#([\w-]+)", chan, text)

    # ---- clicks -----------------------------------------------------------------------------
    def click(
        self,
        user: str,
        action: dict[str, Any],
        *,
        channel: str | None = None,
        ts: str | None = None,
        view_id: str | None = None,
        values: dict[str, Any] | None = None,
    ) -> Outcome:
        """A button, select, picker or overflow in a message (channel, ts) or a view."""
        ws = self.workspace
        action = {**action, "action_ts": f"{time.time():.6f}"}
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": TEAM_ID, "domain": "sandbox"},
            "user": self._person(user),
            "api_app_id": APP_ID,
            "token": "unused-verification-token",
            "trigger_id": ws.issue_trigger(user),
            "actions": [action],
        }
        label = _label(action)
        if view_id:
            view = ws.views.get(view_id)
            if view is None or view.get("_user") != user:
                return Outcome(error="not_found")
            ws.set_cause(user, label, None, None)
            payload["container"] = {"type": "view", "view_id": view_id}
            payload["view"] = {**ws.public_view(view_id), "state": {"values": values or {}}}
        else:
            message = ws.find(channel or "", ts or "")
            if message is None or message.ephemeral_to not in (None, user):
                return Outcome(error="message_not_found")
            ws.set_cause(user, label, channel, ts)
            is_ephemeral = message.ephemeral_to is not None
            payload["container"] = {
                "type": "message",
                "message_ts": ts,
                "channel_id": channel,
                "is_ephemeral": is_ephemeral,
            }
            payload["channel"] = {"id": channel, "name": ws.channels[channel].name}
            if not is_ephemeral:
                payload["message"] = {
                    "type": "message",
                    "ts": ts,
                    "text": message.text,
                    "blocks": message.blocks,
                    "user": message.user,
                    "bot_id": "B0COPBOT",
                }
            payload["state"] = {"values": values or {}}
            payload["response_url"] = ws.issue_hook(user, channel or "", ts)
        return self._interactive(payload, user, label)

    # ---- modals -------------------------------------------------------------------------
    def submit(self, user: str, view_id: str, values: dict[str, Any]) -> Outcome:
        """The person pressed the modal's submit button with these input values."""
        ws = self.workspace
        stack = ws.stacks.get(user) or []
        if view_id not in stack:
            return Outcome(error="not_found")
        view = ws.views[view_id]
        view["state"] = {"values": values}
        ws.set_cause(user, f"submit “{_title(view)}”", None, None)
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": "sandbox"},
            "user": self._person(user),
            "api_app_id": APP_ID,
            "token": "unused-verification-token",
            "trigger_id": ws.issue_trigger(user),
            "view": ws.public_view(view_id),
            "response_urls": [],
        }
        outcome = self._interactive(payload, user, f"submit “{_title(view)}”")
        if outcome.error:
            return outcome
        self._apply_response_action(user, view_id, outcome.body)
        return outcome

    def _apply_response_action(self, user: str, view_id: str, body: Any) -> None:
        ws = self.workspace
        body = body if isinstance(body, dict) else {}
        kind = body.get("response_action")
        if kind is None:
            ws.close_views(user, all_views=False)
        elif kind == "clear":
            ws.close_views(user, all_views=True)
        elif kind == "errors":
            errors = body.get("errors") or {}
            inputs = {
                b.get("block_id")
                for b in ws.views[view_id].get("blocks", [])
                if b.get("type") == "input"
            }
            unknown = sorted(set(errors) - inputs)
            if unknown:
                ws.problem(
                    user,
                    "invalid_response_action",
                    "view_submission",
                    f"errors name block_id {unknown[0]!r}, not an input of the view",
                )
            ws.view_errors[view_id] = {k: str(v) for k, v in errors.items()}
            ws.changed()
        elif kind in ("update", "push"):
            view = body.get("view") or {}
            problems = check_view(view)
            if problems:
                ws.problem(user, "invalid_blocks", f"response_action {kind}", "; ".join(problems))
                return
            if kind == "update":
                ws.replace(view_id, view)
            elif len(ws.stacks.get(user) or []) >= MAX_STACK:
                ws.problem(user, "push_limit_reached", "response_action push")
                return
            else:
                ws.push(user, view)
            ws.changed()
        else:
            ws.problem(user, "invalid_response_action", "view_submission", str(kind))

    def close(self, user: str, *, all_views: bool = False) -> Outcome:
        """The person closed the modal: × closes every view; the close button (Cancel) or
        back closes the top view only, unless the view says `clear_on_close`."""
        ws = self.workspace
        stack = ws.stacks.get(user) or []
        if not stack:
            return Outcome(error="not_found")
        top = ws.views[stack[-1]]
        all_views = all_views or bool(top.get("clear_on_close"))
        closed = ws.close_views(user, all_views=all_views)
        outcome = Outcome(status=200)
        if top.get("notify_on_close"):
            payload = {
                "type": "view_closed",
                "team": {"id": TEAM_ID, "domain": "sandbox"},
                "user": self._person(user),
                "api_app_id": APP_ID,
                "token": "unused-verification-token",
                "view": {k: v for k, v in top.items() if not k.startswith("_")},
                "is_cleared": all_views and len(closed) > 1,
            }
            outcome = self._interactive(payload, user, f"close “{_title(top)}”")
        return outcome

    # ---- App Home, shortcuts ---------------------------------------------------------------
    def open_home(self, user: str) -> Outcome:
        ws = self.workspace
        ws.set_cause(user, "open App Home", None, None)
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user,
            "channel": ws.dm_of(user),
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
        if user in ws.homes:
            event["view"] = ws.public_view(ws.homes[user])
        return self._send(payloads.event_callback(event), "application/json", user, "App Home")

    def shortcut(self, user: str, callback_id: str) -> Outcome:
        payload = {
            "type": "shortcut",
            "token": "unused-verification-token",
            "action_ts": f"{time.time():.6f}",
            "team": {"id": TEAM_ID, "domain": "sandbox"},
            "user": self._person(user),
            "callback_id": callback_id,
            "trigger_id": self.workspace.issue_trigger(user),
        }
        return self._interactive(payload, user, f"shortcut {callback_id}")

    def message_action(self, user: str, channel: str, ts: str, callback_id: str) -> Outcome:
        ws = self.workspace
        message = ws.find(channel, ts)
        if message is None:
            return Outcome(error="message_not_found")
        payload = {
            "type": "message_action",
            "token": "unused-verification-token",
            "action_ts": f"{time.time():.6f}",
            "team": {"id": TEAM_ID, "domain": "sandbox"},
            "user": self._person(user),
            "channel": {"id": channel, "name": ws.channels[channel].name},
            "callback_id": callback_id,
            "trigger_id": ws.issue_trigger(user),
            "message_ts": ts,
            "message": {"type": "message", "ts": ts, "text": message.text, "user": message.user},
            "response_url": ws.issue_hook(user, channel, ts),
        }
        return self._interactive(payload, user, f"message shortcut {callback_id}")


def _title(view: dict[str, Any]) -> str:
    return ((view.get("title") or {}).get("text")) or "modal"


def _label(action: dict[str, Any]) -> str:
    text = (action.get("text") or {}).get("text")
    return f"clicked “{text}”" if text else f"chose in {action.get('action_id', 'an element')}"


def values_for(view: dict[str, Any], answers: dict[str, Any] | None = None) -> dict[str, Any]:
    """A modal's `state.values` as Slack would send them when a person fills it in:
    `answers` by block_id, else each input's initial value, else (for a required text
    input) a sample sentence."""
    answers = answers or {}
    out: dict[str, Any] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element = block["element"]
        kind = element["type"]
        block_id = block.get("block_id", "")
        given = answers.get(block_id)
        if kind in ("plain_text_input", "number_input", "url_text_input", "email_text_input"):
            value = given if given is not None else element.get("initial_value")
            if value is None and not block.get("optional"):
                value = "Sample answer written in the sandbox"
            state = {"type": kind, "value": value}
        elif kind == "datepicker":
            state = {"type": kind, "selected_date": given or element.get("initial_date")}
        elif kind == "timepicker":
            state = {"type": kind, "selected_time": given or element.get("initial_time")}
        elif kind == "users_select":
            state = {"type": kind, "selected_user": given or element.get("initial_user")}
        elif kind == "conversations_select":
            chosen = given or element.get("initial_conversation")
            state = {"type": kind, "selected_conversation": chosen}
        elif kind in ("radio_buttons", "static_select"):
            options = element.get("options") or []
            chosen = next((o for o in options if o["value"] == given), None)
            if chosen is None:
                chosen = element.get("initial_option") or (
                    options[0] if options and not block.get("optional") else None
                )
            state = {"type": kind, "selected_option": chosen}
        elif kind == "checkboxes":
            options = element.get("options") or []
            if given is not None:
                chosen_list = [o for o in options if o["value"] in given]
            else:
                chosen_list = element.get("initial_options") or options[:1]
            state = {"type": kind, "selected_options": chosen_list}
        else:
            continue
        out.setdefault(block_id, {})[element.get("action_id", "value")] = state
    return out
