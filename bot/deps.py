"""What listeners need besides Slack's own arguments: settings and the database engine.

A middleware puts one `Deps` into Bolt's `context["copbot"]`; tests pass it directly.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.services.permissions import Actor


@dataclass(frozen=True)
class Deps:
    settings: Settings
    engine: Engine

    def actor(self, user_id: str) -> Actor:
        return Actor(user_id=user_id, is_staff=self.settings.is_staff(user_id))
