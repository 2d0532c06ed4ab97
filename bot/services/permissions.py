"""Who may do what: every decision of the kind lives in `can()`.

A rule looks at the actor (their Slack user id and whether they are staff) and their role
in the community the action is about (None when they are not in it, or there is none).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from storage.models import Role


class Action(enum.StrEnum):
    CREATE_COMMUNITY = "create a community"
    CREATE_FOR_OTHERS = "create a community led by someone else"
    SET_LEADERS = "set the leaders"
    JOIN = "join"
    LEAVE = "leave"
    VIEW_MEMBERS = "see the members"
    EDIT_PLAN = "edit the plan"
    SCHEDULE_CALL = "schedule calls"
    VIEW_ALL_COMMUNITIES = "see every community"
    EDIT_PROFILE = "edit the community's profile"
    MANAGE_ONSITE = "assign onsite meeting blocks"
    EDIT_AGENDA = "write the onsite agenda"
    ADD_EVIDENCE = "add to the evidence log"
    MANAGE_EVIDENCE = "remove items from the evidence log"
    ANNOUNCE = "post announcements"
    ASK_POLL = "ask polls"
    ADD_CALL_RESOURCES = "add slides and readings to a call"
    VIEW_ATTENDANCE = "see who came to a call"
    SET_VALUE_QUESTIONS = "turn the after-call question on or off"


@dataclass(frozen=True)
class Actor:
    user_id: str
    is_staff: bool = False


Rule = Callable[[Actor, Role | None], bool]


def _anyone(_a: Actor, _r: Role | None) -> bool:
    return True


def _staff(a: Actor, _r: Role | None) -> bool:
    return a.is_staff


def _leader_or_staff(a: Actor, r: Role | None) -> bool:
    return a.is_staff or r == Role.LEADER


def _not_in_it(_a: Actor, r: Role | None) -> bool:
    return r is None


def _in_it(_a: Actor, r: Role | None) -> bool:
    return r is not None


def _in_it_or_staff(a: Actor, r: Role | None) -> bool:
    return a.is_staff or r is not None


RULES: dict[Action, tuple[Rule, str]] = {
    Action.CREATE_COMMUNITY: (_anyone, "anyone"),
    Action.CREATE_FOR_OTHERS: (_staff, "staff"),
    Action.SET_LEADERS: (_leader_or_staff, "the community's leaders and staff"),
    Action.JOIN: (_not_in_it, "anyone who is not a member yet"),
    Action.LEAVE: (_in_it, "members and leaders"),
    Action.VIEW_MEMBERS: (_anyone, "anyone"),
    Action.EDIT_PLAN: (_leader_or_staff, "the community's leaders and staff"),
    Action.SCHEDULE_CALL: (_leader_or_staff, "the community's leaders and staff"),
    Action.VIEW_ALL_COMMUNITIES: (_staff, "staff"),
    Action.EDIT_PROFILE: (_leader_or_staff, "the community's leaders and staff"),
    Action.MANAGE_ONSITE: (_staff, "staff"),
    Action.EDIT_AGENDA: (_leader_or_staff, "the community's leaders and staff"),
    Action.ADD_EVIDENCE: (_in_it_or_staff, "the community's members, leaders and staff"),
    Action.MANAGE_EVIDENCE: (_leader_or_staff, "the community's leaders and staff"),
    Action.ANNOUNCE: (_staff, "staff"),
    Action.ASK_POLL: (_leader_or_staff, "the community's leaders and staff"),
    Action.ADD_CALL_RESOURCES: (_leader_or_staff, "the community's leaders and staff"),
    Action.VIEW_ATTENDANCE: (_leader_or_staff, "the community's leaders and staff"),
    Action.SET_VALUE_QUESTIONS: (_leader_or_staff, "the community's leaders and staff"),
}


def can(actor: Actor, action: Action, role: Role | None = None) -> bool:
    """May `actor`, whose role in the community is `role`, do `action`?"""
    rule, _ = RULES[action]
    return rule(actor, role)


def who_can(action: Action) -> str:
    """Who may do `action`, in words for a refusal message."""
    return RULES[action][1]
