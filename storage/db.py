"""Engines, units of work and schema migrations.

`get_engine(url)` returns one engine per URL and process (SQLite with foreign keys on,
WAL and a busy timeout; PostgreSQL through psycopg 3). `session_scope(engine)` is one
unit of work: it commits on success and rolls back on error. `upgrade(url)` runs the
Alembic migrations to head; `schema_status(url)` says whether that is needed.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

MIGRATIONS = Path(__file__).with_name("migrations")

_engines: dict[tuple[int, str], Engine] = {}
_lock = threading.Lock()


def sqlalchemy_url(url: str) -> str:
    """The URL SQLAlchemy should open: plain postgresql:// goes through psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _on_sqlite_connect(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def get_engine(url: str) -> Engine:
    """One engine per database URL and process (engines are not shared across a fork)."""
    key = (os.getpid(), url)
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            if is_sqlite(url):
                engine = create_engine(
                    sqlalchemy_url(url), connect_args={"check_same_thread": False, "timeout": 10}
                )
                event.listen(engine, "connect", _on_sqlite_connect)
            else:
                engine = create_engine(
                    sqlalchemy_url(url), pool_pre_ping=True, pool_size=5, max_overflow=10
                )
            _engines[key] = engine
        return engine


def dispose_engines() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on any error."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation: a literal % in a password must be doubled
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    cfg.attributes["copbot_url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Create or migrate the schema to `revision` (SchemaTooNew if a newer copbot made it)."""
    check_not_newer(url)
    command.upgrade(_alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(_alembic_config(url), revision)


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer copbot than this one."""


def check_not_newer(url: str) -> None:
    """SchemaTooNew when the database's revision is one this code does not know (a
    newer copbot migrated it): upgrading or running would misread its rows."""
    current, head = schema_status(url)
    if current is None:
        return
    script = ScriptDirectory.from_config(_alembic_config(url))
    try:
        known = script.get_revision(current) is not None
    except Exception:  # noqa: BLE001 - alembic raises several kinds for an unknown id
        known = False
    if not known:
        raise SchemaTooNew(
            f"the database is at schema revision {current}, newer than this copbot knows "
            f"(its newest is {head}): run the copbot version that upgraded it, or restore "
            "a backup made before"
        )


def schema_status(url: str) -> tuple[str | None, str]:
    """(the database's current revision or None, the code's head revision). Quiet: it
    runs on every start and every `copbot tick`, so Alembic's INFO lines about its
    context are not logged."""
    head = ScriptDirectory.from_config(_alembic_config(url)).get_current_head()
    migration_log = logging.getLogger("alembic.runtime.migration")
    level = migration_log.level
    migration_log.setLevel(max(logging.WARNING, level))
    try:
        with get_engine(url).connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    finally:
        migration_log.setLevel(level)
    return current, head or ""
