"""Who may do what, as a table: every action against every kind of actor."""

from __future__ import annotations

import pytest

from bot.services.permissions import RULES, Action, Actor, can, who_can
from storage.models import Role

OUTSIDER = (Actor("U1"), None)
MEMBER = (Actor("U1"), Role.MEMBER)
LEADER = (Actor("U1"), Role.LEADER)
STAFF = (Actor("U9", is_staff=True), None)
STAFF_MEMBER = (Actor("U9", is_staff=True), Role.MEMBER)

# fmt: off
#                          outsider member leader staff staff-member
TABLE = {
    Action.CREATE_COMMUNITY:     (1, 1, 1, 1, 1),
    Action.CREATE_FOR_OTHERS:    (0, 0, 0, 1, 1),
    Action.SET_LEADERS:          (0, 0, 1, 1, 1),
    Action.JOIN:                 (1, 0, 0, 1, 0),
    Action.LEAVE:                (0, 1, 1, 0, 1),
    Action.VIEW_MEMBERS:         (1, 1, 1, 1, 1),
    Action.EDIT_PLAN:            (0, 0, 1, 1, 1),
    Action.SCHEDULE_CALL:        (0, 0, 1, 1, 1),
    Action.VIEW_ALL_COMMUNITIES: (0, 0, 0, 1, 1),
    Action.EDIT_PROFILE:         (0, 0, 1, 1, 1),
    Action.MANAGE_ONSITE:        (0, 0, 0, 1, 1),
    Action.EDIT_AGENDA:          (0, 0, 1, 1, 1),
    Action.ADD_EVIDENCE:         (0, 1, 1, 1, 1),
    Action.MANAGE_EVIDENCE:      (0, 0, 1, 1, 1),
    Action.ANNOUNCE:             (0, 0, 0, 1, 1),
    Action.ASK_POLL:             (0, 0, 1, 1, 1),
    Action.ADD_CALL_RESOURCES:   (0, 0, 1, 1, 1),
    Action.VIEW_ATTENDANCE:      (0, 0, 1, 1, 1),
    Action.SET_VALUE_QUESTIONS:  (0, 0, 1, 1, 1),
}
# fmt: on
ACTORS = (OUTSIDER, MEMBER, LEADER, STAFF, STAFF_MEMBER)


def test_table_covers_every_action():
    assert set(TABLE) == set(Action) == set(RULES)


@pytest.mark.parametrize("action", list(Action))
def test_can(action):
    got = tuple(int(can(actor, action, role)) for actor, role in ACTORS)
    assert got == TABLE[action]


def test_who_can_is_words_for_every_action():
    for action in Action:
        assert who_can(action) and who_can(action)[0].islower()
