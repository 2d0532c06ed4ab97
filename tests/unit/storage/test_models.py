"""Storage: migrations match the models, SQLite pragmas, UTC round trips."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage import db
from storage.models import Community, Membership, Person, SQLModel
from tests.helpers.paths import REPO_ROOT


def test_migrations_create_what_the_models_declare(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_upgrade_downgrade_upgrade_on_a_fresh_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path}/m.db"
    newest = max(p.name[:4] for p in (db.MIGRATIONS / "versions").glob("[0-9]*.py"))
    db.upgrade(url)
    assert db.schema_status(url)[0] == db.schema_status(url)[1] == newest
    db.downgrade(url, "base")
    assert db.schema_status(url)[0] is None
    db.upgrade(url)
    assert db.schema_status(url)[0] == newest


def test_sqlite_has_foreign_keys_and_wal(tmp_path):
    url = f"sqlite:///{tmp_path}/p.db"
    db.upgrade(url)
    engine = db.get_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    with pytest.raises(IntegrityError), db.session_scope(engine) as s:
        s.add(Person(slack_user_id="U1"))
        s.add(Membership(community_id=999, slack_user_id="U1", role="member"))


def test_role_is_checked_by_the_database(session):
    community = Community(
        team_id="T", name="n", name_key="n", slack_channel_id="C", created_by="U1"
    )
    session.add(community)
    session.add(Person(slack_user_id="U1"))
    session.flush()
    # the real community's id (PostgreSQL's ids do not restart at 1 after a wipe), so the
    # only thing wrong with the row below is its role
    with pytest.raises(IntegrityError, match="ck_membership_role"), session.begin_nested():
        session.add(Membership(community_id=community.id, slack_user_id="U1", role="owner"))
        session.flush()
    # and the same row with a valid role is accepted
    session.add(Membership(community_id=community.id, slack_user_id="U1", role="member"))
    session.flush()


def test_times_come_back_aware_in_utc(engine, session):
    chicago = timezone(timedelta(hours=-6))
    when = datetime(2027, 3, 1, 9, 30, tzinfo=chicago)
    session.add(Person(slack_user_id="UTIME", profile_fetched_at=when))
    session.commit()
    with db.session_scope(engine) as s:
        got = s.get(Person, "UTIME").profile_fetched_at
    assert got == when and got.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(session):
    session.add(Person(slack_user_id="UNAIVE", profile_fetched_at=datetime(2027, 1, 1)))
    with pytest.raises(Exception, match="naive datetime"):
        session.flush()
    session.rollback()


def test_postgres_urls_use_psycopg3():
    assert db.sqlalchemy_url("postgresql://u:p@h/d").startswith("postgresql+psycopg://")
    assert db.sqlalchemy_url("sqlite:///x.db") == "sqlite:///x.db"


def test_sqlite_writers_in_one_process_take_turns(tmp_path):
    """A second writer waits for its turn in the process (not in SQLite's sleeping busy
    loop) and writes the moment the first commits; a rollback or a closed connection
    gives the turn back too."""
    import threading
    import time

    engine = db.get_engine(f"sqlite:///{tmp_path}/turns.db")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    turns = db.writer_turns(engine)
    assert turns is not None and not turns.busy

    first = engine.connect()
    first.execute(text("INSERT INTO t VALUES (1)"))
    assert turns.busy
    second_done = threading.Event()

    def second() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (2)"))
        second_done.set()

    thread = threading.Thread(target=second)
    thread.start()
    deadline = time.monotonic() + 10
    while turns.waiting != 1:
        assert time.monotonic() < deadline, "the second writer never waited for its turn"
        time.sleep(0.01)
    assert not second_done.is_set()
    first.commit()
    thread.join(10)
    assert second_done.is_set() and not turns.busy
    with engine.connect() as conn:
        assert sorted(conn.execute(text("SELECT x FROM t")).scalars()) == [1, 2]

    failed = engine.connect()
    failed.execute(text("INSERT INTO t VALUES (3)"))
    failed.rollback()
    assert not turns.busy
    dropped = engine.connect()
    dropped.execute(text("INSERT INTO t VALUES (4)"))
    dropped.close()  # back to the pool, which rolls it back
    assert not turns.busy
    with engine.connect() as conn:
        assert sorted(conn.execute(text("SELECT x FROM t")).scalars()) == [1, 2]
    assert db.writer_turns(db.get_engine("postgresql://u@127.0.0.1:1/none")) is None


DOMAINS = (
    "community",
    "plan",
    "calls",
    "reminders",
    "polls",
    "announcements",
    "onsite",
    "after_call",
    "ops",
)


def test_every_table_lives_in_one_domain_module_and_is_re_exported():
    import importlib

    import storage.models as models

    homes: dict[str, str] = {}
    for domain in DOMAINS:
        module = importlib.import_module(f"storage.models.{domain}")
        for name, value in vars(module).items():
            table = getattr(value, "__table__", None)
            if table is None or getattr(value, "__module__", "") != module.__name__:
                continue
            assert table.name not in homes, f"{table.name} in {homes.get(table.name)} and {domain}"
            homes[table.name] = domain
            assert getattr(models, name) is value, f"storage.models does not re-export {name}"
            assert name in models.__all__
    # every table of the metadata (what Alembic compares) is one of the domains'
    assert sorted(homes) == sorted(SQLModel.metadata.tables)


def test_domain_modules_import_only_the_base_and_modules_below():
    import ast

    order = ("base", *DOMAINS)
    folder = REPO_ROOT / "storage" / "models"
    for rank, domain in enumerate(order):
        tree = ast.parse((folder / f"{domain}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("storage"):
                other = node.module.removeprefix("storage.models.")
                assert other in order[:rank], f"storage.models.{domain} imports {node.module}"
