"""Communities and their people: creation, leaders (at most two), joining and leaving.

Names are normalised (`clean_name`) before anything else sees them, and the unique
constraint on (team, `name_key`) decides between two communities that look the same.
Leader changes and leaving take the community's row lock first (`_lock_roster`), so two
concurrent changes are applied one after the other and a community never ends up
without a leader.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import bindparam, case, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.services import CopError
from bot.services.ids import object_id
from bot.services.names import clean_name, name_key, validate_fields  # noqa: F401 - part of this module's interface
from bot.services.people import ensure_people
from bot.services.summaries import (  # noqa: F401 - part of this module's interface
    CommunitySummary,
    all_communities,
    for_person,
)
from bot.text import escape
from storage.models import (
    Community,
    Membership,
    PurposeArea,
    Role,
)

MAX_LEADERS = 2
_ROLES = {r.value: r for r in Role}


class DuplicateCommunity(CopError):
    def __init__(self, existing: Community, field: str):
        self.existing = existing
        self.field = field
        if field == "channel":
            self.plain = f"This channel already has a community: {existing.name}."
            msg = f"This channel already has a community: *{escape(existing.name)}*."
        else:
            self.plain = f"A community named {existing.name} already exists."
            msg = (
                f"A community named *{escape(existing.name)}* already exists "
                f"(in <#{existing.slack_channel_id}>)."
            )
        super().__init__(msg)


@dataclass(frozen=True)
class NewCommunity:
    team_id: str
    channel_id: str
    name: str
    mission: str
    description: str
    areas: tuple[PurposeArea, ...]
    created_by: str
    first_leader: str


class RosterEntry(NamedTuple):
    user_id: str
    role: Role


@dataclass(frozen=True)
class LeaderChange:
    leaders: tuple[str, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


_BY_CHANNEL = select(Community).where(
    Community.team_id == bindparam("team_id"),
    Community.slack_channel_id == bindparam("channel_id"),
)


def by_channel(session: Session, team_id: str, channel_id: str) -> Community | None:
    # built once: most commands start here, and building the expression costs more
    # than running it
    return session.exec(_BY_CHANNEL, params={"team_id": team_id, "channel_id": channel_id}).first()


def by_name(session: Session, team_id: str, name: str) -> Community | None:
    return session.exec(
        select(Community).where(Community.team_id == team_id, Community.name_key == name_key(name))
    ).first()


def find(session: Session, ref: str) -> Community | None:
    """A community by its number, Slack channel ID or name (any workspace)."""
    ref = ref.strip()
    if ref.isascii() and ref.isdigit():
        number = object_id(ref)
        return session.get(Community, number) if number is not None else None
    return session.exec(
        select(Community).where(
            (Community.slack_channel_id == ref) | (Community.name_key == name_key(ref))
        )
    ).first()


def all_by_name(session: Session) -> list[Community]:
    return list(session.exec(select(Community).order_by(Community.name_key)).all())


def find_duplicate(
    session: Session, team_id: str, channel_id: str, name: str
) -> DuplicateCommunity | None:
    existing = by_channel(session, team_id, channel_id)
    if existing:
        return DuplicateCommunity(existing, "channel")
    existing = by_name(session, team_id, name)
    if existing:
        return DuplicateCommunity(existing, "name")
    return None


def create(session: Session, new: NewCommunity) -> Community:
    """Create the community with `new.first_leader` as its leader.

    Raises CopError for invalid fields and DuplicateCommunity when the channel already has
    a community or the name is taken (also when another request won the race).
    """
    errors = validate_fields(new.name, new.mission, new.description)
    if errors:
        raise CopError(next(iter(errors.values())))
    duplicate = find_duplicate(session, new.team_id, new.channel_id, new.name)
    if duplicate:
        raise duplicate
    name = clean_name(new.name)
    community = Community(
        team_id=new.team_id,
        name=name,
        name_key=name_key(name),
        slack_channel_id=new.channel_id,
        mission=new.mission.strip(),
        description=new.description.strip(),
        purpose_areas=",".join(a.value for a in PurposeArea if a in new.areas),
        created_by=new.created_by,
    )
    ensure_people(session, [new.first_leader])
    try:
        with session.begin_nested():
            session.add(community)
            session.flush()
    except IntegrityError:
        duplicate = find_duplicate(session, new.team_id, new.channel_id, new.name)
        if duplicate:
            raise duplicate from None
        raise
    session.add(
        Membership(community_id=community.id, slack_user_id=new.first_leader, role=Role.LEADER)
    )
    session.flush()
    return community


def role_of(session: Session, community_id: int, user_id: str) -> Role | None:
    role = session.exec(
        select(Membership.role).where(
            Membership.community_id == community_id, Membership.slack_user_id == user_id
        )
    ).first()
    return Role(role) if role else None


_ROSTER = (
    select(Membership.slack_user_id, Membership.role)
    .where(Membership.community_id == bindparam("community_id"))
    .order_by(
        case((Membership.role == Role.LEADER.value, 0), else_=1),
        Membership.joined_at,
        Membership.id,
    )
)


def roster(session: Session, community_id: int) -> list[RosterEntry]:
    """Leaders first, then members, each in the order they joined."""
    # plain rows through the session's connection: no ORM loading for a list of ids
    rows = session.connection().execute(_ROSTER, {"community_id": community_id}).all()
    return [RosterEntry(u, _ROLES[r]) for u, r in rows]


class _RosterCache:
    """Rosters by community and roster_version, least recently used dropped first.

    A community is known by its id and creation time, so an id reused after a deletion
    never finds the roster of the community that had it before.
    """

    def __init__(self, size: int = 1024):
        self.size = size
        self._entries: OrderedDict[tuple, tuple[int, tuple[RosterEntry, ...]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, community: Community) -> tuple[RosterEntry, ...] | None:
        key = (community.id, community.created_at)
        with self._lock:
            hit = self._entries.get(key)
            if hit is None or hit[0] != community.roster_version:
                return None
            self._entries.move_to_end(key)
            return hit[1]

    def put(self, community: Community, entries: tuple[RosterEntry, ...]) -> None:
        key = (community.id, community.created_at)
        with self._lock:
            self._entries[key] = (community.roster_version, entries)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


_rosters = _RosterCache()


def cached_roster(session: Session, community: Community) -> tuple[RosterEntry, ...]:
    """`roster()`, reused while the community's roster_version is unchanged.

    The version is read with the community, before the roster, so a cached roster is
    never older than the version it is filed under.
    """
    entries = _rosters.get(community)
    if entries is None:
        entries = tuple(roster(session, community.id))
        _rosters.put(community, entries)
    return entries


def _roster_changed(session: Session, community_id: int) -> None:
    session.execute(
        update(Community)
        .where(Community.id == community_id)
        .values(roster_version=Community.roster_version + 1)
        .execution_options(synchronize_session=False)
    )


def _lock_roster(session: Session, community: Community) -> None:
    """Take the community's row lock for the rest of the unit of work, before reading
    who leads it: an UPDATE of the row that changes nothing is that lock (a row lock on
    PostgreSQL, the write lock on SQLite, where SELECT ... FOR UPDATE does not exist). A
    second change of the same roster waits for this one to commit, then reads what it
    left."""
    session.execute(
        update(Community)
        .where(Community.id == community.id)
        .values(roster_version=Community.roster_version)
        .execution_options(synchronize_session=False)
    )


def leaders(session: Session, community_id: int) -> list[str]:
    return [e.user_id for e in roster(session, community_id) if e.role == Role.LEADER]


def leader_ids(user_ids: Sequence[str]) -> list[str]:
    """The distinct ids, or CopError when there are none or more than MAX_LEADERS."""
    wanted = list(dict.fromkeys(user_ids))
    if not wanted:
        raise CopError("Name one or two leaders, e.g. `/cop leaders @ana @ben`.")
    if len(wanted) > MAX_LEADERS:
        raise CopError(
            f"A community has at most {MAX_LEADERS} leaders; you named {len(wanted)}. "
            "Name one or two (alternates can lead a call without being leaders)."
        )
    return wanted


class NeedsConfirmation(CopError):
    """The change is allowed, but only once the person confirms it (it demotes them)."""


def set_leaders(
    session: Session,
    community: Community,
    user_ids: Sequence[str],
    *,
    actor: str | None = None,
    confirmed: bool = False,
) -> LeaderChange:
    """Make exactly `user_ids` the leaders; former leaders stay on as members.

    A leader (`actor`) who would demote themselves gets NeedsConfirmation unless
    `confirmed`: nobody steps down by accident.
    """
    wanted = leader_ids(user_ids)
    _lock_roster(session, community)
    ensure_people(session, wanted)
    current = {
        m.slack_user_id: m
        for m in session.exec(
            select(Membership).where(Membership.community_id == community.id)
        ).all()
    }
    before = tuple(uid for uid, m in current.items() if m.role == Role.LEADER)
    removed = tuple(uid for uid in before if uid not in wanted)
    added = tuple(uid for uid in wanted if uid not in before)
    if actor in removed and not confirmed:
        raise NeedsConfirmation(
            f"This makes you a member of *{escape(community.name)}* instead of a leader."
        )
    for uid in removed:
        current[uid].role = Role.MEMBER.value
        session.add(current[uid])
    for uid in added:
        membership = current.get(uid)
        if membership is None:
            membership = Membership(community_id=community.id, slack_user_id=uid, role=Role.LEADER)
        membership.role = Role.LEADER.value
        session.add(membership)
    session.flush()
    if added or removed:
        _roster_changed(session, community.id)
    return LeaderChange(leaders=tuple(wanted), added=added, removed=removed)


def join(session: Session, community: Community, user_id: str) -> bool:
    """Add `user_id` as a member; False when they already belong. Takes the community's
    lock first, as every roster change does, so changes of one roster never deadlock."""
    _lock_roster(session, community)
    if role_of(session, community.id, user_id) is not None:
        return False
    ensure_people(session, [user_id])
    try:
        with session.begin_nested():
            session.add(
                Membership(community_id=community.id, slack_user_id=user_id, role=Role.MEMBER)
            )
            session.flush()
    except IntegrityError:
        return False  # a concurrent join of the same person won
    _roster_changed(session, community.id)
    return True


def leave(session: Session, community: Community, user_id: str) -> Role:
    """Remove `user_id`; the last leader must hand over first. Returns the role they had.

    Decided under the community's lock, so a leader leaving while the leaders are being
    changed cannot leave the community with none."""
    _lock_roster(session, community)
    membership = session.exec(
        select(Membership).where(
            Membership.community_id == community.id, Membership.slack_user_id == user_id
        )
    ).first()
    name = escape(community.name)
    if membership is None:
        raise CopError(f"You are not a member of *{name}*.")
    if membership.role == Role.LEADER and leaders(session, community.id) == [user_id]:
        raise CopError(
            f"You are the only leader of *{name}*, and a community needs one. Name a new "
            "leader first with `/cop leaders @someone`, then leave."
        )
    role = Role(membership.role)
    session.delete(membership)
    session.flush()
    _roster_changed(session, community.id)
    return role
