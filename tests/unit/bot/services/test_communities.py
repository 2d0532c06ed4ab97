"""The community rules without Slack: creation, leaders (at most two), joining, leaving."""

from __future__ import annotations

import pytest

from bot.services import CopError
from bot.services import communities as svc
from storage.models import Membership, PurposeArea, Role


def new(name="Survivorship", channel="C1", leader="U1", **kw):
    fields = dict(
        team_id="T1",
        channel_id=channel,
        name=name,
        mission="m",
        description="d",
        areas=(PurposeArea.KNOWLEDGE, PurposeArea.RELATIONSHIPS),
        created_by=leader,
        first_leader=leader,
    )
    fields.update(kw)
    return svc.NewCommunity(**fields)


def test_create_normalises_and_makes_the_first_leader(session):
    c = svc.create(session, new(name="  Survivorship   care "))
    assert c.name == "Survivorship care" and c.name_key == "survivorship care"
    assert c.purpose_areas == "relationships,knowledge"  # in the order of the four areas
    assert svc.role_of(session, c.id, "U1") == Role.LEADER
    assert c.created_at.tzinfo is not None


def test_duplicates_are_refused(session):
    svc.create(session, new())
    with pytest.raises(svc.DuplicateCommunity) as info:
        svc.create(session, new(name="Other"))
    assert info.value.field == "channel" and info.value.existing.name == "Survivorship"
    with pytest.raises(svc.DuplicateCommunity) as info:
        svc.create(session, new(name="SURVIVORSHIP", channel="C2"))
    assert info.value.field == "name"
    # the same channel id in another workspace is another community
    svc.create(session, new(team_id="T2"))


@pytest.mark.parametrize(("name", "field"), [("", "name"), ("x" * 81, "name")])
def test_invalid_fields(session, name, field):
    assert field in svc.validate_fields(name, "", "")
    with pytest.raises(CopError):
        svc.create(session, new(name=name))
    assert svc.by_channel(session, "T1", "C1") is None


def test_too_long_mission():
    assert "mission" in svc.validate_fields("ok", "m" * 3001, "")


def test_set_leaders_at_most_two(session):
    c = svc.create(session, new())
    change = svc.set_leaders(session, c, ["U1", "U2"])
    assert change.added == ("U2",) and change.removed == () and change.changed
    with pytest.raises(CopError, match="at most 2 leaders; you named 3"):
        svc.set_leaders(session, c, ["U1", "U2", "U3"])
    with pytest.raises(CopError, match="at most 2 leaders; you named 7"):
        svc.set_leaders(session, c, [f"U{i}" for i in range(7)])
    assert svc.leaders(session, c.id) == ["U1", "U2"]
    with pytest.raises(CopError):
        svc.set_leaders(session, c, [])
    assert not svc.set_leaders(session, c, ["U2", "U1", "U2"]).changed


def test_a_replaced_leader_stays_a_member(session):
    c = svc.create(session, new())
    svc.set_leaders(session, c, ["U2"])
    assert svc.role_of(session, c.id, "U1") == Role.MEMBER
    assert svc.role_of(session, c.id, "U2") == Role.LEADER


def test_join_leave_and_the_last_leader(session):
    c = svc.create(session, new())
    assert svc.join(session, c, "U5") is True
    assert svc.join(session, c, "U5") is False
    with pytest.raises(CopError, match="only leader"):
        svc.leave(session, c, "U1")
    assert svc.leave(session, c, "U5") == Role.MEMBER
    with pytest.raises(CopError, match="not a member"):
        svc.leave(session, c, "U5")
    svc.set_leaders(session, c, ["U1", "U2"])
    assert svc.leave(session, c, "U1") == Role.LEADER
    assert svc.leaders(session, c.id) == ["U2"]


def test_roster_lists_leaders_first_then_members_in_joining_order(session):
    c = svc.create(session, new())
    for uid in ("U7", "U3", "U9"):
        svc.join(session, c, uid)
    svc.set_leaders(session, c, ["U1", "U9"])
    roster = svc.roster(session, c.id)
    assert [(e.user_id, e.role.value) for e in roster] == [
        ("U1", "leader"),
        ("U9", "leader"),
        ("U7", "member"),
        ("U3", "member"),
    ]


def test_summaries_for_person_and_staff(session):
    a = svc.create(session, new(name="Beta", channel="C1", leader="U1"))
    b = svc.create(session, new(name="alpha", channel="C2", leader="U2"))
    svc.join(session, b, "U1")
    svc.join(session, b, "U3")
    mine = svc.for_person(session, "U1")
    assert [(s.community.name, s.role.value, s.leader_count, s.member_count) for s in mine] == [
        ("alpha", "member", 1, 3),
        ("Beta", "leader", 1, 1),
    ]
    every = svc.all_communities(session, "U3")
    assert [(s.community.id, s.role) for s in every] == [(b.id, Role.MEMBER), (a.id, None)]
    # a community whose only leader left shows no leader
    session.delete(
        session.exec(svc.select(Membership).where(Membership.community_id == a.id)).one()
    )
    session.flush()
    assert svc.all_communities(session, "U3")[1].leader_count == 0


def _version(session, community) -> int:
    session.refresh(community)
    return community.roster_version


def test_every_roster_change_bumps_the_version_and_the_cache_follows(session):
    c = svc.create(session, new())
    seen = [_version(session, c)]
    assert [e.user_id for e in svc.cached_roster(session, c)] == ["U1"]
    svc.join(session, c, "U5")
    seen.append(_version(session, c))
    assert [e.user_id for e in svc.cached_roster(session, c)] == ["U1", "U5"]
    svc.join(session, c, "U5")  # no change, no bump
    assert _version(session, c) == seen[-1]
    svc.set_leaders(session, c, ["U1", "U5"])
    seen.append(_version(session, c))
    assert [e.role for e in svc.cached_roster(session, c)] == [Role.LEADER, Role.LEADER]
    svc.set_leaders(session, c, ["U5", "U1"])  # same leaders: no bump
    assert _version(session, c) == seen[-1]
    svc.leave(session, c, "U1")
    seen.append(_version(session, c))
    assert [e.user_id for e in svc.cached_roster(session, c)] == ["U5"]
    assert seen == sorted(set(seen))  # strictly increasing


def test_cached_roster_is_reused_while_the_version_holds(session, monkeypatch):
    c = svc.create(session, new())
    svc.cached_roster(session, c)
    calls = []
    monkeypatch.setattr(svc, "roster", lambda *a: calls.append(a) or [])
    assert [e.user_id for e in svc.cached_roster(session, c)] == ["U1"]
    assert calls == []


@pytest.mark.parametrize(
    ("typed", "shown", "key"),
    [
        ("Ｏｎｃｏｌｏｇｙ", "Oncology", "oncology"),
        ("Onco\u200blogy", "Oncology", "oncology"),
        ("\u202eOncology\u202c", "Oncology", "oncology"),
        ("\u2067Onco\u2069logy", "Oncology", "oncology"),
        ("\ufeffOncology", "Oncology", "oncology"),
        ("Onco \t\n logy\u00a0", "Onco logy", "onco logy"),
        ("Straße", "Straße", "strasse"),
        ("ﬁnance", "finance", "finance"),
    ],
)
def test_names_are_normalised_before_they_are_stored_or_compared(typed, shown, key):
    assert svc.clean_name(typed) == shown
    assert svc.name_key(typed) == key


def test_a_name_of_only_invisible_characters_is_empty(session):
    assert "name" in svc.validate_fields("\u200b\u200d\u202e", "", "")
    with pytest.raises(CopError):
        svc.create(session, new(name="\u200b \u2066"))


def test_the_database_refuses_a_second_community_with_the_same_key(session):
    from sqlalchemy.exc import IntegrityError

    from storage.models import Community

    svc.create(session, new(name="Oncology"))
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(
            Community(
                team_id="T1",
                name="Ｏｎｃｏｌｏｇｙ",
                name_key=svc.name_key("Ｏｎｃｏｌｏｇｙ"),
                slack_channel_id="C9",
                created_by="U1",
            )
        )
        session.flush()
