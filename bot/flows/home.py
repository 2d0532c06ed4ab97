"""App Home, built and published after the ack: one unit of work reads everything the
person sees, at one moment of one program year (`Home`), and each part adds its blocks
in turn:
- the person's communities (staff: every community, and the reminders that failed or
  were missed);
- the open polls of their communities and, for staff, the latest announcements;
- the year: a leader's to-do list, the next calls, and for staff the Annual Meeting's
  rooms, the Zoom hosts' next meetings and the table of every community (with its health);
- after the calls: a leader's health lines and value-question switches, and everyone's
  archive of recordings, slides and readings by call.
Every part stays within Slack's 100 blocks."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from slack_sdk import WebClient
from sqlmodel import Session

from bot.blocks import MAX_HOME_BLOCKS
from bot.blocks import after_call as after_call_blocks
from bot.blocks import announcements as announcement_blocks
from bot.blocks import polls as poll_blocks
from bot.blocks.community import home_view
from bot.blocks.home_year import extend_home
from bot.deps import Deps
from bot.flows import announcements as announcement_flows
from bot.services import (
    announcements,
    calls,
    health,
    hosts,
    overview,
    polls,
    recordings,
    reminders,
    value,
)
from bot.services import communities as svc
from bot.services.permissions import Action, Actor, can
from storage.db import session_scope
from storage.models import Role

ARCHIVE_CALLS = 5  # calls shown per community on Home
PROBLEMS_SHOWN = 10  # failed reminders, and missed ones, listed for staff


@dataclass(frozen=True)
class Home:
    """What every part of one person's App Home reads: one session, one moment, the
    program year `first`..`end` around `today`, and the person's communities."""

    deps: Deps
    session: Session
    actor: Actor
    now: datetime
    today: date
    first: date
    end: date
    mine: list[svc.CommunitySummary]

    @property
    def staff(self) -> bool:
        return can(self.actor, Action.VIEW_ALL_COMMUNITIES)

    @property
    def community_ids(self) -> list[int]:
        return [s.community.id for s in self.mine]


def publish(client: WebClient, deps: Deps, user_id: str, page: int = 0, show: str = "all") -> None:
    """The person's App Home built (`page` and `show`: staff's table) and published."""
    client.views_publish(user_id=user_id, view=build(deps, user_id, page, show))


def build(deps: Deps, user_id: str, page: int = 0, show: str = "all") -> dict[str, Any]:
    """The person's App Home view, read in one unit of work."""
    settings = deps.settings
    now = deps.clock.now()
    today = now.astimezone(settings.zone).date()
    first, end = calls.program_year(today, settings.program_year_start)
    with session_scope(deps.engine) as session:
        home = Home(
            deps, session, deps.actor(user_id), now, today, first, end,
            mine=svc.for_person(session, user_id),
        )  # fmt: skip
        view = _communities(home)
        view = _polls_and_announcements(home, view)
        view = _year(home, view, page, show)
        return _after_call(home, view)


def _communities(home: Home) -> dict[str, Any]:
    """The person's communities; for staff every community, with this year's call counts
    and the reminders that failed or were missed."""
    session, settings = home.session, home.deps.settings
    user_id = home.actor.user_id
    everyone = svc.all_communities(session, user_id) if home.staff else None
    ids = sorted({s.community.id for s in [*home.mine, *(everyone or [])]})
    counts = calls.community_call_counts(session, ids, home.first, home.end, zone=settings.timezone)
    return home_view(
        user_id,
        home.mine,
        everyone,
        call_counts=counts,
        year=calls.year_label(home.first),
        reminder_problems=_reminder_problems(session, everyone) if everyone is not None else None,
    )


def _reminder_problems(session: Session, everyone: list[svc.CommunitySummary]) -> list[str]:
    names = {s.community.id: s.community.name for s in everyone}
    return [
        f"{names.get(r.community_id, '?')}: {r.kind.replace('_', ' ')} due "
        f"{r.due_at:%Y-%m-%d %H:%M} UTC, {r.state}"
        + (f" ({r.last_error})" if r.last_error and r.state == "failed" else "")
        for r in [
            *reminders.failures(session, PROBLEMS_SHOWN),
            *reminders.missed(session, PROBLEMS_SHOWN),
        ]
    ]


def _polls_and_announcements(home: Home, view: dict[str, Any]) -> dict[str, Any]:
    """`view` with the open polls of the person's communities and, for staff, the latest
    announcements with their delivery lines, within Slack's 100 blocks (whole
    announcements only)."""
    session = home.session
    names = {s.community.id: s.community.name for s in home.mine}
    rows = []
    if home.deps.settings.is_staff(home.actor.user_id):
        rows = [
            (a, *announcement_flows.delivery(session, a.id)) for a in announcements.listed(session)
        ]
    open_polls = polls.open_polls(session, home.community_ids)
    extra = announcement_blocks.home_blocks(rows, poll_blocks.home_lines(open_polls, names))
    room = MAX_HOME_BLOCKS - len(view["blocks"])
    if len(extra) > room:  # cut whole announcements, never half of one
        extra = extra[: max(room - room % 2, 0)]
    return {**view, "blocks": [*view["blocks"], *extra]}


def _year(home: Home, view: dict[str, Any], page: int, show: str) -> dict[str, Any]:
    """`view` with the year: staff's table of every community (with each one's health),
    a leader's to-do list, the person's next calls; for staff the Annual Meeting's rooms
    and the Zoom hosts' next meetings."""
    session, settings, today = home.session, home.deps.settings, home.today
    user_id = home.actor.user_id
    rows = None
    if home.staff:
        rows = overview.staff_rows(
            session, today, settings.program_year_start, user_id, zone=settings.timezone
        )
        rows = _with_health(home, rows)
    todo = overview.leader_todo(
        session,
        user_id,
        today,
        settings.zone,
        settings.program_year_start,
        settings.agenda_due,
        settings.report_due,
    )
    conferencing = home.deps.conferencing
    return extend_home(
        view,
        rows=rows,
        todo=todo,
        page=page,
        show=show,
        calls=overview.next_calls(session, user_id, home.now),
        onsite=overview.onsite_grid(session, today) if home.staff else None,
        zoom_hosts=hosts.next_meetings(session, conferencing.hosts, home.now) if home.staff else (),
        year=calls.year_label(home.first),
    )


def _with_health(home: Home, rows: list[overview.Row]) -> list[overview.Row]:
    """Staff's table rows with each community's health."""
    found = {
        h.community_id: h
        for h in health.build(
            home.session, home.now, home.first, home.end, home.deps.settings.timezone,
            [r.community.id for r in rows],
        )
    }  # fmt: skip
    return [
        replace(r, health=after_call_blocks.health_text(found[r.community.id]))
        if r.community.id in found
        else r
        for r in rows
    ]


def _after_call(home: Home, view: dict[str, Any]) -> dict[str, Any]:
    """`view` with a leader's health lines of their own communities and the switch of
    their value questions, and the archive of every community of the person by call (as
    many blocks as fit)."""
    session = home.session
    communities = {s.community.id: s.community for s in home.mine}
    leads = [s.community.id for s in home.mine if s.role == Role.LEADER]
    own_rows = (
        health.build(session, home.now, home.first, home.end, home.deps.settings.timezone, leads)
        if leads
        else []
    )
    switches = [(communities[c], value.community_asks(session, c)) for c in leads]
    archives = [
        (community, recordings.archive(session, c, ARCHIVE_CALLS))
        for c, community in communities.items()
    ]
    room = MAX_HOME_BLOCKS - len(view.get("blocks", []))
    extra = after_call_blocks.home_blocks(own_rows, archives, switches, room)
    return {**view, "blocks": [*view.get("blocks", []), *extra]}
