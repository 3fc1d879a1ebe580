"""Schema migrations with alembic, run from code so no alembic.ini is needed beside the config."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig

from storage import errors
from storage.db import Database
from storage.errors import SchemaNotCurrent

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(db: Database) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    config.attributes["engine"] = db.engine
    return config


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to `revision`; safe to run again, and from several processes at once.

    On SQLite in the write transaction that holds the write lock from its start (`Database.write`):
    a deferred one, as alembic opens, read the version and then failed at once with "database is
    locked" when another process's migration had committed meanwhile (two `surveybot run` on a
    new file, one of them exited)."""
    with db.write() as conn:
        if not db.is_sqlite:
            # One migrator at a time: a second `surveybot run` waits rather than racing DDL.
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(727170)")
        config = alembic_config(db)
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def check_current(db: Database) -> None:
    """`DatabaseUnavailable` when the database cannot be reached, `SchemaNotCurrent` when its
    schema is missing or behind; each says what to do."""
    db.check()
    current, head = current_revision(db), head_revision()
    if current is None:
        raise SchemaNotCurrent(errors.no_schema())
    if current != head:
        raise SchemaNotCurrent(errors.schema_behind(current, head))


def current_revision(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def create_schema(db: Database) -> None:
    """Create the tables straight from the models and mark them current (fast, for tests)."""
    db.create_all()
    command.stamp(alembic_config(db), "head")
