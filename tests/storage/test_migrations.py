"""The alembic migrations build the schema the table models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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


def test_processes_migrating_one_new_sqlite_file_at_once_all_succeed(tmp_path: Path) -> None:
    """Two `surveybot run` started together on a new SQLite file both migrate it: the second
    waits for the first's write lock instead of failing with "database is locked"."""
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, (str(root), os.environ.get("PYTHONPATH")))),
    }
    for attempt in range(4):  # the race is lost in most attempts without the lock
        url = f"sqlite:///{tmp_path / f'new{attempt}.db'}"
        script = f"import storage.migrate as m, storage.db as d; m.upgrade(d.Database({url!r}))"
        racers = [
            subprocess.Popen([sys.executable, "-c", script], env=env, stderr=subprocess.PIPE)
            for _ in range(3)
        ]
        errors = [racer.communicate(timeout=120)[1].decode() for racer in racers]
        assert [racer.returncode for racer in racers] == [0, 0, 0], errors
        assert current_revision(Database(url)) == head_revision()
