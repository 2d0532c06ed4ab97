"""One claim for every queue (storage.claims.claim_where): the reminders' outbox and the
after-call jobs claim due rows through it, and racing threads take each row once. Real
threads; on SQLite and PostgreSQL (DATABASE_URL)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlmodel import select

from bot.services import after_call_jobs
from bot.services.reminders import outbox
from storage.claims import claim_where
from storage.db import session_scope
from storage.models import AfterCallJob, Call, Reminder
from tests.helpers.records import new_community

NOW = datetime(2031, 3, 4, 12, 0, tzinfo=UTC)
THREADS = 6


def _race(engine, claim_one) -> tuple[Counter, int]:
    """THREADS threads claim until nothing is left: (how often each id was claimed, how
    many claims found rows)."""
    taken: Counter = Counter()
    batches = [0]
    lock = threading.Lock()
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            start.wait()
            while True:
                with session_scope(engine) as session:
                    token, ids = claim_one(session, f"worker-{n}")
                if not ids:
                    return
                with lock:
                    taken.update(ids)
                    batches[0] += 1
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return taken, batches[0]


def _reminders(session, count: int) -> int:
    community = new_community(session, channel="CCLAIM1", name="Claimers")
    session.commit()
    session.execute(
        insert(Reminder),
        [
            {
                "kind": "milestone",
                "due_at": NOW - timedelta(minutes=n),
                "expires_at": NOW + timedelta(days=1),
                "community_id": community.id,
                "recipient": f"U{n:04d}",
                "state": "pending",
                "attempts": 0,
            }
            for n in range(count)
        ],
    )
    session.commit()
    return community.id


def test_racing_outbox_claims_take_each_due_reminder_once(engine, session):
    _reminders(session, 60)

    taken, batches = _race(engine, lambda s, who: outbox.claim(s, NOW, who, NOW, limit=5))

    assert sorted(taken.values()) == [1] * 60  # all 60, none twice
    assert batches >= 12  # in batches of at most 5
    with session_scope(engine) as s:
        rows = s.exec(select(Reminder)).all()
        assert {r.state for r in rows} == {"claimed"}
        assert all(r.claim_token and r.claimed_at == NOW for r in rows)
        # the outbox's claim also says who holds it
        assert {r.claimed_by for r in rows} <= {f"worker-{n}" for n in range(THREADS)}
        assert len({r.claim_token for r in rows}) == batches


def test_racing_after_call_claims_take_each_due_job_once(engine, session):
    community = new_community(session, channel="CCLAIM2", name="Jobs")
    session.commit()
    calls = [
        Call(
            community_id=community.id,
            start_at=NOW - timedelta(days=1),
            timezone="UTC",
            topic=f"Call {n}",
            host_user_id="U1",
            created_by="U1",
            created_at=NOW,
            updated_at=NOW,
        )
        for n in range(40)
    ]
    session.add_all(calls)
    session.commit()
    for call in calls:
        session.add(AfterCallJob(call_id=call.id, kind=after_call_jobs.ATTENDANCE, due_at=NOW))
    session.commit()

    taken, batches = _race(
        engine,
        lambda s, _who: after_call_jobs.claim(s, after_call_jobs.ATTENDANCE, NOW, NOW, limit=4),
    )

    assert sorted(taken.values()) == [1] * 40
    assert batches >= 10
    with session_scope(engine) as s:
        assert {j.state for j in s.exec(select(AfterCallJob)).all()} == {"claimed"}


def test_a_claim_takes_only_ready_rows_earliest_due_first(engine, session):
    _reminders(session, 5)  # due NOW, NOW-1min, ..., NOW-4min
    ready = Reminder.due_at <= NOW - timedelta(minutes=1)

    token, ids = claim_where(session, Reminder, ready, NOW, limit=2, claimed_by="me")
    session.commit()

    chosen = session.exec(select(Reminder).where(Reminder.id.in_(ids))).all()
    # the two due earliest (4 and 3 minutes before NOW), not the ones ready later
    assert sorted(r.due_at for r in chosen) == [
        NOW - timedelta(minutes=4),
        NOW - timedelta(minutes=3),
    ]
    assert {(r.state, r.claim_token, r.claimed_by) for r in chosen} == {("claimed", token, "me")}
    # what is no longer ready is not taken again: a second claim gets the one left
    _, again = claim_where(session, Reminder, ready & (Reminder.state == "pending"), NOW, limit=5)
    assert len(again) == 2 and not set(again) & set(ids)
