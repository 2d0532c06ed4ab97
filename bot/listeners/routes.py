"""Where Slack reaches each listener: a module declares a listener's route right above it
(`@route.action(ACTION_ID)`, `@route.view(CALLBACK_ID)`, ...), and `route.register(app)`
hands the module's listeners to Bolt in the order they are declared."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import App


class Routes:
    """One module's listeners and the Bolt constraint each answers to."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, Any, Callable[..., Any]]] = []

    def _to(self, kind: str, constraint: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def add(listener: Callable[..., Any]) -> Callable[..., Any]:
            self._routes.append((kind, constraint, listener))
            return listener

        return add

    def action(self, constraint: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self._to("action", constraint)

    def view(self, constraint: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self._to("view", constraint)

    def command(self, constraint: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self._to("command", constraint)

    def event(self, constraint: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self._to("event", constraint)

    def shortcut(self, constraint: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self._to("shortcut", constraint)

    def register(self, app: App) -> None:
        for kind, constraint, listener in self._routes:
            getattr(app, kind)(constraint)(listener)
