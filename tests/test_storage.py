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
