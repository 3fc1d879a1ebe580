"""The alembic migrations build the schema the table models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

from storage.db import Database
from storage.migrate import current_revision, head_revision, upgrade


def test_migrations_build_exactly_the_schema_the_code_expects(db_url: str) -> None:
    db = Database(db_url)
    if not db.is_sqlite:
        with db.engine.begin() as conn:  # start from an empty schema, not the fixture's tables
            for table in reversed(SQLModel.metadata.sorted_tables):
                conn.execute(text(f'DROP TABLE IF EXISTS "{table.name}" CASCADE'))
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(db)
    upgrade(db)  # a second run is a no-op
    assert current_revision(db) == head_revision()
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
    db.dispose()
