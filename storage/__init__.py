"""Storage: SQLModel tables (`storage.models`), engines and units of work (`storage.db`)
and Alembic migrations (`storage.migrations`)."""
