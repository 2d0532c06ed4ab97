"""`copbot sandbox --demo`: a workspace with something in it, made the way people would
make it, through the bot's own endpoint (signed requests, real modals): two communities
with leaders and members, a half-finished plan, scheduled calls and the sample year."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlmodel import func, select

from bot.blocks import community as community_blocks
from bot.services import calls as call_rules
from sandbox.person import values_for
from sandbox.world import BY_NAME
from storage.db import session_scope
from storage.models import Community, utcnow

if TYPE_CHECKING:
    from sandbox.server import Sandbox

DATA, DESIGN = "CDATA0001", "CDESIGN01"


# the demo's answers to the first three sections of the planning tool (by question key)
PLAN_ANSWERS = {
    "purpose.interest": "Data science in day-to-day research: notebooks, pipelines, models.",
    "purpose.concern": "Analyses that cannot be reproduced a year later.",
    "purpose.convening": "To share methods and review each other's code and models.",
    "purpose.statement": "We help researchers make their data work reproducible and "
    "reviewable, by sharing methods and reviewing each other's work.",
    "membership.profile": "Researchers and analysts who write code for their analyses.",
    "membership.essential": "At least one research software engineer.",
    "membership.roles": "Core members who present; others who join calls and review.",
    "membership.size": "15 to 30 people.",
    "membership.invitation": "An open invitation in #general and at department meetings.",
    "leadership.structure": "Two co-leaders for the program year.",
    "leadership.roles": "Ana runs the calls; Ben keeps the plan and the evidence log.",
    "leadership.communication": "Pinned in the channel and said at the first call.",
}


class DemoError(RuntimeError):
    pass


def fill(sandbox: Sandbox) -> str:
    """Fill an empty workspace; say what was done (or why nothing was)."""
    with session_scope(sandbox.deps.engine) as session:
        existing = session.exec(select(func.count()).select_from(Community)).one()
    if existing:
        return f"demo: the workspace already has {existing} communities; --reset starts over"
    demo = _Demo(sandbox)
    demo.community("ana", DATA, "Data Science Practice", "Share methods and code reviews.")
    demo.command("ana", DATA, "/cop leaders @ana @ben")
    for name in ("kenji", "lena", "maya", "sam"):
        demo.command(name, DATA, "/cop join")
    demo.community("ben", DESIGN, "Design Systems Guild", "One design language, many teams.")
    demo.command("ben", DESIGN, "/cop leaders @ben @lena")
    for name in ("kenji", "maya"):
        demo.command(name, DESIGN, "/cop join")
    demo.half_plan("ana", DATA, sections=3)
    demo.schedule("ana", DATA, "Reproducible notebooks", days=9, at="11:00")
    demo.schedule("ana", DATA, "Model review clinic", days=23, at="09:00")
    demo.year("ben", DESIGN)
    sandbox.deps.background.wait_idle(10)
    return (
        "demo: 2 communities (#data-science, #design-systems), 6 people, a plan 3 sections "
        "along, 2 calls in #data-science and the sample year in #design-systems"
    )


class _Demo:
    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self.slack = sandbox.slack
        self.ws = sandbox.workspace

    def _id(self, name: str) -> str:
        return BY_NAME[name].id

    def command(self, name: str, channel: str, text: str) -> None:
        outcome = self.slack.command(self._id(name), channel, text)
        if outcome.error:
            raise DemoError(f"{text}: {outcome.error}")
        self.sandbox.deps.background.wait_idle(10)

    def modal(self, name: str, timeout: float = 5.0) -> dict[str, Any]:
        user = self._id(name)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            stack = self.ws.stacks.get(user)
            if stack:
                return self.ws.views[stack[-1]]
            time.sleep(0.02)
        raise DemoError(f"no modal opened for {name}")

    def submit(self, name: str, answers: dict[str, Any] | None = None) -> None:
        view = self.modal(name)
        outcome = self.slack.submit(self._id(name), view["id"], values_for(view, answers))
        errors = self.ws.view_errors.get(view["id"])
        if outcome.error or errors:
            raise DemoError(f"submitting {view.get('callback_id')}: {outcome.error or errors}")
        self.sandbox.deps.background.wait_idle(10)

    def community(self, name: str, channel: str, title: str, mission: str) -> None:
        self.command(name, channel, "/cop new")
        self.submit(
            name,
            {
                community_blocks.NAME: title,
                community_blocks.MISSION: mission,
                community_blocks.CHANNEL: channel,
            },
        )

    def half_plan(self, name: str, channel: str, sections: int) -> None:
        """The first `sections` sections answered, as two leaders would after a first call."""
        self.command(name, channel, "/cop plan")
        for _ in range(sections):
            self.submit(name, PLAN_ANSWERS)
        self.slack.close(self._id(name), all_views=True)

    def schedule(self, name: str, channel: str, topic: str, days: int, at: str) -> None:
        zone = ZoneInfo(BY_NAME[name].tz)
        day = (utcnow().astimezone(zone) + timedelta(days=days)).date()
        while day.weekday() >= 5:  # a working day
            day += timedelta(days=1)
        self.command(name, channel, "/cop schedule")
        self.submit(
            name,
            {
                call_rules.TOPIC: topic,
                call_rules.DATE: day.isoformat(),
                call_rules.TIME: at,
                call_rules.ZONE: BY_NAME[name].tz,
            },
        )

    def year(self, name: str, channel: str) -> None:
        self.command(name, channel, "/cop year")
        self.submit(name)
