"""`copbot db backup FILE`: a consistent copy of the database while copbot runs.

SQLite: Python's `sqlite3` online backup API copies the database page by page under
its own lock, so a running copbot keeps answering and the copy is one consistent moment
(a plain `cp` of a WAL database can miss what is still in its -wal file). PostgreSQL has
its own tool for that, `pg_dump`: copbot prints the command for the configured
database instead of reimplementing it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    """The backup cannot be made here; the message says what to do instead."""


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None: in memory, or not SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def pg_dump_command(url: str, target: str) -> str:
    """The pg_dump command that backs the database at `url` up into `target` (the
    password left out of the line: pg_dump reads PGPASSWORD or ~/.pgpass)."""
    parsed = make_url(url).set(drivername="postgresql")._replace(password=None)
    plain = parsed.render_as_string(hide_password=False)
    return f"pg_dump --format=custom --file={_quote(target)} {_quote(plain)}"


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def backup(url: str, target: str) -> str:
    """Copy the SQLite database at `url` into the new file `target`; the line to print.
    BackupError for PostgreSQL (with the pg_dump command), an existing target, or a
    database file that is not there."""
    out = Path(target)
    if make_url(url).get_backend_name() != "sqlite":
        raise BackupError(
            "copbot backs up SQLite itself; for PostgreSQL use its own tool, which copies "
            "a running database consistently:\n  " + pg_dump_command(url, target)
        )
    source = sqlite_path(url)
    if source is None or not source.is_file():
        raise BackupError(f"there is no SQLite database at {source or url} to back up")
    if out.exists():
        raise BackupError(f"{out} exists already: give a new file name (nothing was written)")
    with sqlite3.connect(source) as src, sqlite3.connect(out) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    return f"backed up {source} to {out} ({out.stat().st_size:,} bytes)"
