"""Modals and App Home in the sandbox's workspace: each person's stack of up to three
modals (`views.open`, `views.push`, `views.update` with its hash, closing) and their App
Home (`views.publish`), answered with Slack's error names. Mixed into `Workspace`."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from sandbox.slack_standin import TEAM_ID

MAX_STACK = 3  # views.push fails beyond 3 modals


def _json(value: Any) -> Any:
    """A JSON argument (view, blocks) as Slack reads it: decoded if it came as text."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


class Modals:
    """Views state and methods; needs the `Workspace` attributes `views`, `stacks`,
    `homes`, `view_errors`, `users`, `_views`, `_use_trigger` and `changed`."""

    def _store_view(self, view: dict[str, Any], user: str, **extra: Any) -> dict[str, Any]:
        view_id = extra.pop("id", None) or f"V{next(self._views):08d}"
        stored = {
            **view,
            "id": view_id,
            "team_id": TEAM_ID,
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "state": {"values": {}},
            "app_id": "A0COPBOT",
            "bot_id": "B0COPBOT",
            "_user": user,
            **extra,
        }
        self.views[view_id] = stored
        self.view_errors.pop(view_id, None)
        return stored

    def public_view(self, view_id: str) -> dict[str, Any]:
        return {k: v for k, v in self.views[view_id].items() if not k.startswith("_")}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        user, error = self._use_trigger(str(args.get("trigger_id", "")))
        if error or user is None:
            return {"ok": False, "error": error}
        view = self._store_view(_json(args.get("view")) or {}, user)
        view["root_view_id"] = view["id"]
        self.stacks[user] = [view["id"]]
        return {"ok": True, "view": self.public_view(view["id"])}

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        user, error = self._use_trigger(str(args.get("trigger_id", "")))
        if error or user is None:
            return {"ok": False, "error": error}
        stack = self.stacks.get(user) or []
        if not stack:
            return {"ok": False, "error": "not_found"}
        if len(stack) >= MAX_STACK:
            return {"ok": False, "error": "push_limit_reached"}
        return {"ok": True, "view": self.public_view(self.push(user, _json(args.get("view"))))}

    def push(self, user: str, view: dict[str, Any]) -> str:
        stack = self.stacks.setdefault(user, [])
        root = stack[0] if stack else None
        stored = self._store_view(view or {}, user, previous_view_id=stack[-1] if stack else None)
        stored["root_view_id"] = root or stored["id"]
        stack.append(stored["id"])
        return stored["id"]

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = str(args.get("view_id") or "")
        old = self.views.get(view_id)
        if old is None:
            return {"ok": False, "error": "not_found"}
        if args.get("hash") and args["hash"] != old["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        return {"ok": True, "view": self.public_view(self.replace(view_id, _json(args["view"])))}

    def replace(self, view_id: str, view: dict[str, Any]) -> str:
        old = self.views[view_id]
        keep = {k: old[k] for k in ("root_view_id", "previous_view_id") if k in old}
        self._store_view(view or {}, old["_user"], id=view_id, **keep)
        return view_id

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user_id", ""))
        if user not in self.users:
            return {"ok": False, "error": "user_not_found"}
        view = _json(args.get("view")) or {}
        if view.get("type") != "home":
            return {"ok": False, "error": "invalid_arguments", "errors": ["view.type must be home"]}
        old = self.homes.get(user)
        if old and args.get("hash") and args["hash"] != self.views[old]["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        stored = self._store_view(view, user, id=old) if old else self._store_view(view, user)
        self.homes[user] = stored["id"]
        return {"ok": True, "view": self.public_view(stored["id"])}

    def close_views(self, user: str, *, all_views: bool) -> list[str]:
        """Close the top modal (or all); the view_ids closed, top first."""
        stack = self.stacks.get(user) or []
        closed = list(reversed(stack)) if all_views else stack[-1:]
        del stack[len(stack) - len(closed) :]
        self.changed()
        return closed
