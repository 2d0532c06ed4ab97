"""Reminders and nudges: which are due, claiming them exactly once, and what became of them.

Each pass (`bot.scheduler.tick(now)`) first *plans*: it inserts the reminder rows due up to
now that do not exist yet, keyed by (kind, target, due instant), reading only calls,
milestones and communities in the time windows that matter (indexed range queries).
Then it *claims* due rows with a conditional UPDATE (only a row still pending is taken,
so two schedulers never take the same one), sends them, and records each as sent, or
as failed for good, or pending again with back-off after a transient error. A claim left
by a crashed pass is taken over after `CLAIM_TIMEOUT`.

A reminder that became due while nothing ran is still sent while it is useful (before its
`expires_at`), else recorded as missed. Rescheduling or cancelling a call voids its
pending reminders; the new time gets new ones (the call's sequence is in the key).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from bot.services import plans, submissions
from storage.models import (
    Call,
    CallStatus,
    Community,
    Membership,
    Milestone,
    NudgeSeries,
    Reminder,
    ReminderState,
    Role,
    SchedulerMark,
)

CLAIM_TIMEOUT = timedelta(minutes=10)
MAX_ATTEMPTS = 8
BATCH = 500
# how far back a pass plans what it may have missed while nothing ran
LOOKBACK = timedelta(days=8)

PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "account_inactive",
        "cannot_dm_bot",
        "user_disabled",
        "restricted_action",
        "msg_too_long",
        "invalid_blocks",
        "no_text",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "missing_scope",
    }
)


class Kind:
    CALL_WEEK = "call_week"
    CALL_DAY = "call_day"
    CALL_HOUR = "call_hour"
    CALL_FOLLOWUP = "call_followup"
    MILESTONE = "milestone"
    AGENDA = "agenda_due"
    REPORT = "report_due"
    PLAN = "plan_nudge"


CALL_OFFSETS = (  # kind, before the start, useful until (before the start)
    (Kind.CALL_WEEK, timedelta(days=7), timedelta(days=1)),
    (Kind.CALL_DAY, timedelta(days=1), timedelta(hours=1)),
    (Kind.CALL_HOUR, timedelta(hours=1), timedelta(0)),
)
FOLLOWUP_AFTER = timedelta(minutes=15)
DEADLINE_NUDGES = (timedelta(days=28), timedelta(days=14), timedelta(days=3))
OVERDUE_AFTER = timedelta(days=1)
NUDGE_HOUR = time(9, 0)
PLAN_NUDGES = 4


@dataclass(frozen=True)
class Due:
    kind: str
    target: str
    due_at: datetime
    expires_at: datetime
    community_id: int
    call_id: int | None = None
    milestone_id: int | None = None
    recipient: str | None = None

    def row(self) -> dict:
        return {
            "kind": self.kind,
            "target": self.target,
            "due_at": self.due_at,
            "expires_at": self.expires_at,
            "community_id": self.community_id,
            "call_id": self.call_id,
            "milestone_id": self.milestone_id,
            "recipient": self.recipient,
            "state": ReminderState.PENDING.value,
            "attempts": 0,
        }


# ---- what is due ------------------------------------------------------------------------
OFFSET_NAMES = {Kind.CALL_WEEK: "week", Kind.CALL_DAY: "day", Kind.CALL_HOUR: "hour"}


def call_reminders(call: Call, dm_users: Iterable[str], chosen: str = "week,day,hour") -> list[Due]:
    """Every reminder of one call that its community chose (week, day, hour before): to the
    channel and to members who chose direct messages, and the follow-up to the host."""
    wanted = set(chosen.split(","))
    out = []
    base = f"call:{call.id}:s{call.sequence}"
    local = call.start_at.astimezone(ZoneInfo(call.timezone))
    for kind, before, until in CALL_OFFSETS:
        if OFFSET_NAMES[kind] not in wanted:
            continue
        # days count on the wall clock of the call's zone ("a week before, same time"),
        # also across a daylight-saving change; hours count as elapsed time
        due = (local - before).astimezone(UTC) if before.days else call.start_at - before
        if due < call.created_at - timedelta(minutes=1):
            continue  # scheduled later than this reminder would have gone
        expires = (local - until).astimezone(UTC) if until.days else call.start_at - until
        out.append(Due(kind, base, due, expires, call.community_id, call_id=call.id))
        for user in dm_users:
            out.append(
                Due(
                    kind,
                    f"{base}:dm:{user}",
                    due,
                    expires,
                    call.community_id,
                    call_id=call.id,
                    recipient=user,
                )
            )
    end = call.start_at + timedelta(minutes=call.duration_minutes)
    out.append(
        Due(
            Kind.CALL_FOLLOWUP,
            f"{base}:host",
            end + FOLLOWUP_AFTER,
            end + timedelta(days=7),
            call.community_id,
            call_id=call.id,
            recipient=call.host_user_id,
        )
    )
    return out


def deadline_dates(due: tuple[int, int], zone: ZoneInfo, around: date) -> list[datetime]:
    """The deadline instants (09:00 local on the due day) of this year and the next."""
    month, day = due
    return [
        datetime.combine(date(y, month, day), NUDGE_HOUR, tzinfo=zone).astimezone(UTC)
        for y in (around.year - 1, around.year, around.year + 1)
    ]


def deadline_for(
    reminder: Reminder, zone: ZoneInfo, agenda_due: tuple[int, int], report_due: tuple[int, int]
) -> datetime:
    """The deadline a deadline nudge is about (its year is in the target)."""
    year = int(reminder.target.split(":")[3])
    month, day = agenda_due if reminder.kind == Kind.AGENDA else report_due
    return datetime.combine(date(year, month, day), NUDGE_HOUR, tzinfo=zone).astimezone(UTC)


def series_key(kind: str, community_id: int, deadline: datetime | None = None) -> str:
    return f"{kind}:community:{community_id}" + (f":{deadline:%Y}" if deadline else "")


# ---- planning ---------------------------------------------------------------------------
def plan_due(
    session: Session,
    now: datetime,
    zone: ZoneInfo,
    agenda_due: tuple[int, int],
    report_due: tuple[int, int],
) -> int:
    """Insert every reminder due in (the last planned instant, `now`] that is not there
    yet; after downtime (or the first time) that reaches back LOOKBACK. Returns how many
    candidates were considered.

    Only calls that can have a reminder in that span are read: with passes a minute
    apart, four narrow ranges of start times (week, day, hour before, follow-up after).
    """
    mark = session.get(SchedulerMark, "planned")
    since = max(mark.at, now - LOOKBACK) if mark is not None else now - LOOKBACK
    if since > now:
        since = now  # a pass "in the past" (copbot tick --now): plan just its instant
    dues: list[Due] = []
    slack_dst = timedelta(hours=1)  # wall-clock days may be an hour longer or shorter
    ranges = [
        (since + before - slack_dst, now + before + slack_dst)
        for _kind, before, _until in CALL_OFFSETS
    ]
    ranges.append((since - timedelta(days=1) - FOLLOWUP_AFTER, now - FOLLOWUP_AFTER))
    # one indexed range read each (SQLite would not use the index for an OR of ranges)
    found: dict[int, Call] = {}
    for lo, hi in ranges:
        for call in session.execute(
            select(Call).where(
                Call.status == CallStatus.SCHEDULED.value,
                Call.start_at >= lo,
                Call.start_at <= hi,
            )
        ).scalars():
            found[call.id] = call
    calls = list(found.values())
    # calls made or moved since the last pass: all their reminders up to now, however
    # far back (within LOOKBACK), so a moved call's late-but-useful reminders still go
    fresh = session.execute(select(Call).where(Call.needs_planning == true())).scalars().all()
    fresh_ids = {c.id for c in fresh}
    calls = [c for c in calls if c.id not in fresh_ids] + list(fresh)
    dm = _dm_users(session, {c.community_id for c in calls})
    chosen = _chosen(session, {c.community_id for c in calls})
    for call in calls:
        lower = now - LOOKBACK if call.id in fresh_ids else since
        dues += [
            d
            for d in call_reminders(
                call, dm.get(call.community_id, ()), chosen.get(call.community_id, "")
            )
            if lower <= d.due_at <= now
        ]
    # milestones: to each leader
    milestones = (
        session.execute(
            select(Milestone).where(
                Milestone.due_at >= since, Milestone.due_at <= now, Milestone.done_at.is_(None)
            )
        )
        .scalars()
        .all()
    )
    leaders = _leaders(session, {m.community_id for m in milestones})
    for m in milestones:
        for user in leaders.get(m.community_id, ()):
            dues.append(
                Due(
                    Kind.MILESTONE,
                    f"milestone:{m.id}:to:{user}",
                    m.due_at,
                    m.due_at + timedelta(days=3),
                    m.community_id,
                    milestone_id=m.id,
                    recipient=user,
                )
            )
    # the onsite agenda and the progress report: the same dates for every community
    for kind, due in ((Kind.AGENDA, agenda_due), (Kind.REPORT, report_due)):
        instants = []
        for deadline in deadline_dates(due, zone, now.astimezone(zone).date()):
            steps = [deadline - d for d in DEADLINE_NUDGES] + [deadline + OVERDUE_AFTER]
            for i, at in enumerate(steps):
                if since <= at <= now:
                    following = steps[i + 1] if i + 1 < len(steps) else at + timedelta(days=7)
                    instants.append((deadline, at, following))
        if instants:
            communities = session.execute(select(Community.id)).scalars().all()
            all_leaders = _leaders(session, set(communities))
            for deadline, at, until in instants:
                for cid in communities:
                    for user in all_leaders.get(cid, ()):
                        dues.append(
                            Due(
                                kind,
                                f"{series_key(kind, cid, deadline)}:to:{user}",
                                at,
                                until,
                                cid,
                                recipient=user,
                            )
                        )
    # unfinished plans: weekly for four weeks after the community is made; only the
    # communities with such an anniversary since the last pass are read
    recent: dict[int, Community] = {}
    for k in range(1, PLAN_NUDGES + 1):
        for c in session.execute(
            select(Community).where(
                Community.created_at >= since - timedelta(weeks=k),
                Community.created_at <= now - timedelta(weeks=k),
            )
        ).scalars():
            recent[c.id] = c
    if recent:
        leaders = _leaders(session, set(recent))
        for c in recent.values():
            if plans.load(session, c).is_complete:
                continue
            for k in range(1, PLAN_NUDGES + 1):
                at = c.created_at + timedelta(weeks=k)
                if since <= at <= now:
                    for user in leaders.get(c.id, ()):
                        dues.append(
                            Due(
                                Kind.PLAN,
                                f"{series_key(Kind.PLAN, c.id)}:to:{user}",
                                at,
                                at + timedelta(days=7),
                                c.id,
                                recipient=user,
                            )
                        )
    _insert_missing(session, dues)
    if fresh_ids:
        session.execute(
            update(Call)
            .where(Call.id.in_(fresh_ids))
            .values(needs_planning=False)
            .execution_options(synchronize_session=False)
        )
    _advance_mark(session, now)
    return len(dues)


def _advance_mark(session: Session, now: datetime) -> None:
    """Move the planned-up-to mark forward to `now` (never back; racing passes agree)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(SchedulerMark)
        .values(name="planned", at=now)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    session.execute(
        update(SchedulerMark)
        .where(SchedulerMark.name == "planned", SchedulerMark.at < now)
        .values(at=now)
        .execution_options(synchronize_session=False)
    )


def _leaders(session: Session, community_ids: set[int]) -> dict[int, list[str]]:
    if not community_ids:
        return {}
    rows = session.execute(
        select(Membership.community_id, Membership.slack_user_id)
        .where(Membership.community_id.in_(community_ids), Membership.role == Role.LEADER.value)
        .order_by(Membership.id)
    ).all()
    out: dict[int, list[str]] = {}
    for cid, user in rows:
        out.setdefault(cid, []).append(user)
    return out


def _chosen(session: Session, community_ids: set[int]) -> dict[int, str]:
    if not community_ids:
        return {}
    return dict(
        session.execute(
            select(Community.id, Community.call_reminders).where(Community.id.in_(community_ids))
        ).all()
    )


def set_call_reminders(session: Session, community: Community, chosen: list[str]) -> str:
    """Which call reminders a community's channel gets; planned ones not chosen are void."""
    order = [name for name in ("week", "day", "hour") if name in chosen]
    community.call_reminders = ",".join(order)
    session.add(community)
    dropped = [k for k, name in OFFSET_NAMES.items() if name not in order]
    if dropped:
        session.execute(
            update(Reminder)
            .where(
                Reminder.community_id == community.id,
                Reminder.kind.in_(dropped),
                Reminder.state == ReminderState.PENDING.value,
            )
            .values(state=ReminderState.VOID.value, last_error="not wanted")
            .execution_options(synchronize_session=False)
        )
    session.flush()
    return community.call_reminders


def _dm_users(session: Session, community_ids: set[int]) -> dict[int, list[str]]:
    if not community_ids:
        return {}
    rows = session.execute(
        select(Membership.community_id, Membership.slack_user_id)
        .where(Membership.community_id.in_(community_ids), Membership.reminders == "dm")
        .order_by(Membership.id)
    ).all()
    out: dict[int, list[str]] = {}
    for cid, user in rows:
        out.setdefault(cid, []).append(user)
    return out


def _insert_missing(session: Session, dues: list[Due]) -> None:
    if not dues:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for start in range(0, len(dues), BATCH):
        chunk = [d.row() for d in dues[start : start + BATCH]]
        session.execute(
            insert(Reminder)
            .values(chunk)
            .on_conflict_do_nothing(index_elements=["kind", "target", "due_at"])
        )


# ---- claiming and recording -------------------------------------------------------------
def claim(session: Session, now: datetime, worker: str, limit: int = BATCH) -> list[int]:
    """Take up to `limit` due reminders for `worker`; no two workers get the same one."""
    ready = or_(
        and_(
            Reminder.state == ReminderState.PENDING.value,
            Reminder.due_at <= now,
            or_(Reminder.next_attempt_at.is_(None), Reminder.next_attempt_at <= now),
        ),
        and_(
            Reminder.state == ReminderState.CLAIMED.value,
            Reminder.claimed_at < now - CLAIM_TIMEOUT,
        ),
    )
    candidates = select(Reminder.id).where(ready).order_by(Reminder.due_at).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    ids = list(session.execute(candidates).scalars().all())
    if not ids:
        return []
    taken = (
        session.execute(
            update(Reminder)
            .where(Reminder.id.in_(ids), ready)
            .values(
                state=ReminderState.CLAIMED.value,
                claimed_at=now,
                claimed_by=worker,
                attempts=Reminder.attempts + 1,
            )
            .returning(Reminder.id)
            .execution_options(synchronize_session=False)
        )
        .scalars()
        .all()
    )
    return sorted(taken)


def _finish(session: Session, reminder_id: int, worker: str, **values) -> None:
    session.execute(
        update(Reminder)
        .where(
            Reminder.id == reminder_id,
            Reminder.claimed_by == worker,
            Reminder.state == ReminderState.CLAIMED.value,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def mark_sent(session: Session, reminder_id: int, worker: str, now: datetime) -> None:
    _finish(
        session, reminder_id, worker, state=ReminderState.SENT.value, sent_at=now, last_error=None
    )


def mark_missed(session: Session, reminder_id: int, worker: str) -> None:
    _finish(session, reminder_id, worker, state=ReminderState.MISSED.value)


def mark_void(session: Session, reminder_id: int, worker: str, why: str) -> None:
    _finish(session, reminder_id, worker, state=ReminderState.VOID.value, last_error=why[:200])


def mark_error(session: Session, reminder: Reminder, worker: str, error: str, now: datetime) -> str:
    """A Slack error: failed for good if permanent (or tried too often), else due again
    after a back-off. Returns the state it is left in."""
    if error in PERMANENT_ERRORS or reminder.attempts >= MAX_ATTEMPTS:
        _finish(
            session, reminder.id, worker, state=ReminderState.FAILED.value, last_error=error[:200]
        )
        return ReminderState.FAILED.value
    wait = timedelta(minutes=min(60, 2 ** (reminder.attempts - 1)))
    _finish(
        session,
        reminder.id,
        worker,
        state=ReminderState.PENDING.value,
        next_attempt_at=now + wait,
        last_error=error[:200],
    )
    return ReminderState.PENDING.value


# ---- changes from elsewhere -------------------------------------------------------------
def void_for_call(session: Session, call_id: int) -> int:
    """A call moved or was cancelled: its pending reminders will not be sent."""
    result = session.execute(
        update(Reminder)
        .where(Reminder.call_id == call_id, Reminder.state == ReminderState.PENDING.value)
        .values(state=ReminderState.VOID.value, last_error="the call changed")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def series_of(reminder: Reminder) -> str | None:
    """The nudge series a reminder belongs to (the part of its target before `:to:`)."""
    if reminder.kind in (Kind.AGENDA, Kind.REPORT, Kind.PLAN, Kind.MILESTONE):
        return reminder.target.split(":to:")[0]
    return None


def snooze(session: Session, reminder: Reminder, until: datetime, user_id: str) -> None:
    """Nudge again at `until` instead of before it: the series stays quiet till then."""
    series = series_of(reminder)
    if series is None:
        return
    row = session.get(NudgeSeries, series) or NudgeSeries(series=series)
    row.snoozed_until = until
    row.updated_by = user_id
    session.add(row)
    again = Due(
        reminder.kind,
        reminder.target,
        until,
        until + timedelta(days=7),
        reminder.community_id,
        call_id=reminder.call_id,
        milestone_id=reminder.milestone_id,
        recipient=reminder.recipient,
    )
    _insert_missing(session, [again])
    session.flush()


def quiet(session: Session, reminder: Reminder, now: datetime) -> str | None:
    """Why a nudge is not to be sent now (its series is done or snoozed), if so."""
    series = series_of(reminder)
    if series is None:
        return None
    if submissions.nudge_answered(
        session, reminder.kind, reminder.community_id, submissions.year_of(reminder.target) or 0
    ):
        return "submitted"
    row = session.get(NudgeSeries, series)
    if row is None:
        return None
    if row.done_at is not None:
        return "marked done"
    if (
        row.snoozed_until is not None
        and row.snoozed_until > now
        and reminder.due_at < row.snoozed_until
    ):
        return "snoozed"
    return None


def done(session: Session, series: str, user_id: str, now: datetime) -> int:
    """Stop a series of nudges; its pending reminders are voided."""
    row = session.get(NudgeSeries, series) or NudgeSeries(series=series)
    row.done_at = now
    row.updated_by = user_id
    session.add(row)
    if series.startswith("milestone:"):
        milestone = session.get(Milestone, int(series.split(":")[1]))
        if milestone is not None and milestone.done_at is None:
            milestone.done_at = now
            session.add(milestone)
    result = session.execute(
        update(Reminder)
        .where(Reminder.target.like(f"{series}:%"), Reminder.state == ReminderState.PENDING.value)
        .values(state=ReminderState.VOID.value, last_error="marked done")
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return result.rowcount


def set_preference(session: Session, community: Community, user_id: str, mode: str) -> bool:
    """How `user_id` gets call reminders in `community`: channel, dm or off."""
    membership = (
        session.execute(
            select(Membership).where(
                Membership.community_id == community.id, Membership.slack_user_id == user_id
            )
        )
        .scalars()
        .first()
    )
    if membership is None:
        return False
    membership.reminders = mode
    session.add(membership)
    session.flush()
    return True


def in_state(session: Session, state: ReminderState, limit: int = 20) -> list[Reminder]:
    """The latest reminders in `state` (failed: Slack refused them; missed), for staff."""
    return list(
        session.execute(
            select(Reminder)
            .where(Reminder.state == state.value)
            .order_by(Reminder.due_at.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )


def failures(session: Session, limit: int = 20) -> list[Reminder]:
    return in_state(session, ReminderState.FAILED, limit)


def missed(session: Session, limit: int = 20) -> list[Reminder]:
    return in_state(session, ReminderState.MISSED, limit)
