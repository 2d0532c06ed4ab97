"""Engines, units of work and schema migrations.

`get_engine(url)` returns one engine per URL and process (SQLite with foreign keys on,
WAL and a busy timeout; PostgreSQL through psycopg 3). `session_scope(engine)` is one
unit of work: it commits on success and rolls back on error. `upgrade(url)` runs the
Alembic migrations to head; `schema_status(url)` says whether that is needed.
"""

from __future__ import annotations

import functools
import logging
import os
import re
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

CONNECT_TIMEOUT_SECONDS = 5

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
    # deleted rows are overwritten, not left in free pages: an anonymous poll's voter
    # keys are gone from the file once it closes (see checkpoint_after_forgetting)
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


class WriterTurns:
    """SQLite has one writer at a time, and a writer that finds the database locked polls
    for it with growing sleeps (1, 2, 5 ... 100 ms): under twenty threads that is where a
    request's slowest milliseconds go. Within one process, writers take turns here
    instead: a connection takes the turn at its first INSERT, UPDATE or DELETE (when
    SQLite takes its write lock) and gives it back after its COMMIT or ROLLBACK, and the
    next writer goes at once. Between processes SQLite's busy timeout still decides; a
    writer that waited `wait` seconds for its turn goes on without it (as before)."""

    def __init__(self, wait: float = 10.0) -> None:
        self._lock = threading.Lock()
        self._count = threading.Lock()
        self._holder: int | None = None
        self.wait = wait
        self.waiting = 0  # writers waiting for their turn now (for tests and benchmarks)

    @property
    def busy(self) -> bool:
        """Whether a writer has the turn now."""
        return self._lock.locked()

    def take(self, dbapi_connection: object) -> None:
        mine = id(_raw(dbapi_connection))
        if self._holder == mine:
            return
        with self._count:
            self.waiting += 1
        try:
            if self._lock.acquire(timeout=self.wait):
                self._holder = mine
        finally:
            with self._count:
                self.waiting -= 1

    def give(self, dbapi_connection: object) -> None:
        if self._holder is not None and self._holder == id(_raw(dbapi_connection)):
            self._holder = None
            self._lock.release()


def _raw(connection: object) -> object:
    """The sqlite3 connection itself, also when the pool hands over its proxy."""
    return getattr(connection, "dbapi_connection", None) or connection


_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


def _take_turns(engine: Engine) -> WriterTurns:
    turns = WriterTurns()
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def before_execute(_conn, cursor, statement, *_args) -> None:
        if _WRITE.match(statement):
            turns.take(cursor.connection)

    def do_commit(dbapi_connection) -> None:
        try:
            commit(dbapi_connection)
        finally:
            turns.give(dbapi_connection)

    def do_rollback(dbapi_connection) -> None:
        try:
            rollback(dbapi_connection)
        finally:
            turns.give(dbapi_connection)

    def gone(dbapi_connection, *_args) -> None:
        turns.give(dbapi_connection)

    event.listen(engine, "before_cursor_execute", before_execute)
    # after the COMMIT or ROLLBACK itself (the engine's events fire before it), also
    # when the pool resets a connection it gets back
    dialect.do_commit = do_commit
    dialect.do_rollback = do_rollback
    for name in ("checkin", "close", "invalidate"):
        event.listen(engine.pool, name, gone)
    return turns


def writer_turns(engine: Engine) -> WriterTurns | None:
    """The writers' turns of a SQLite engine made by `get_engine`; None for PostgreSQL."""
    return _turns.get(id(engine))


_turns: dict[int, WriterTurns] = {}


def get_engine(url: str) -> Engine:
    """One engine per database URL and process (engines are not shared across a fork)."""
    key = (os.getpid(), url)
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            if is_sqlite(url):
                engine = create_engine(
                    sqlalchemy_url(url),
                    connect_args={"check_same_thread": False, "timeout": 10},
                    # an error's text never carries the statement's values (a voter key,
                    # text people typed): it reaches logs and error reports
                    hide_parameters=True,
                )
                event.listen(engine, "connect", _on_sqlite_connect)
                _turns[id(engine)] = _take_turns(engine)
            else:
                engine = create_engine(
                    sqlalchemy_url(url),
                    pool_pre_ping=True,
                    pool_size=5,
                    max_overflow=10,
                    pool_timeout=CONNECT_TIMEOUT_SECONDS,
                    # a database that accepts and never answers fails a connection in
                    # seconds, not never (health checks and requests answer, with an error)
                    connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
                    hide_parameters=True,
                )
            _engines[key] = engine
        return engine


def dispose_engines() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _turns.clear()


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


@functools.cache
def head_revision() -> str:
    """The newest migration this code has (read from the scripts once per process)."""
    return ScriptDirectory.from_config(_alembic_config("sqlite://")).get_current_head() or ""


def checkpoint_after_forgetting(engine: Engine) -> None:
    """SQLite: move what the write-ahead log holds into the database file and empty the
    log, so rows just deleted to forget something (an anonymous poll's voters) are not
    left in the -wal file; with secure_delete their pages are overwritten. Nothing to do
    on PostgreSQL (its dead rows and WAL are the server's; see the README)."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def schema_status(url: str) -> tuple[str | None, str]:
    """(the database's current revision or None, the code's head revision). Quiet: it
    runs on every start and every `copbot tick`, so Alembic's INFO lines about its
    context are not logged."""
    head = head_revision()
    migration_log = logging.getLogger("alembic.runtime.migration")
    level = migration_log.level
    migration_log.setLevel(max(logging.WARNING, level))
    try:
        with get_engine(url).connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    finally:
        migration_log.setLevel(level)
    return current, head or ""


class SchemaBehind(RuntimeError):
    """The database's schema is older than this code and is not migrated on start."""


def prepare(url: str) -> None:
    """Before copbot uses the database at `url`: SQLite is migrated on start; PostgreSQL
    must be upgraded with `copbot db upgrade` first (SchemaBehind). A database a newer
    copbot migrated stops either (SchemaTooNew)."""
    check_not_newer(url)
    current, head = schema_status(url)
    if current == head:
        return
    if is_sqlite(url):
        upgrade(url)
        return
    raise SchemaBehind(
        f"DATABASE_URL points at a database whose schema is at {current or 'nothing'}, "
        f"not {head}: run `copbot db upgrade` first"
    )
