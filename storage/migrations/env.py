"""Alembic environment: runs copbot's migrations on the engine for the configured URL.

On SQLite, foreign keys are switched off while migrations run and checked after. SQLite
alters a table in "batch" mode by copying it into a new table and dropping the old one,
and with foreign keys on, dropping `community` would delete, by ON DELETE CASCADE, every
membership, plan and call that points at it (SQLite's documented procedure for altering
a table says the same: foreign keys off, then `PRAGMA foreign_key_check`).
"""

from alembic import context
from sqlalchemy import text

from storage.db import get_engine
from storage.models import SQLModel

config = context.config
target_metadata = SQLModel.metadata


class ForeignKeyViolation(RuntimeError):
    """After a migration, rows point at rows that are not there."""


def _check_before(connection) -> None:
    broken = connection.execute(text("PRAGMA foreign_key_check")).all()
    connection.commit()
    if broken:
        raise ForeignKeyViolation(
            f"the database already has {len(broken)} row(s) pointing at nothing, first in "
            f"table {broken[0][0]}: nothing was changed (fix or restore those rows, then "
            "upgrade)"
        )


def run_migrations_online() -> None:
    engine = get_engine(config.attributes["copbot_url"])
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # outside any transaction, or SQLite ignores it
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            if sqlite:
                _check_before(connection)
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=sqlite,
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    broken = connection.execute(text("PRAGMA foreign_key_check")).all()
                    if broken:
                        raise ForeignKeyViolation(
                            f"the upgrade left {len(broken)} row(s) pointing at nothing, first "
                            f"in table {broken[0][0]}; SQLite applies schema changes as they "
                            "run, so restore the backup taken before the upgrade"
                        )
        finally:
            if sqlite:
                connection.rollback()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


run_migrations_online()
