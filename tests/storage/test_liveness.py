"""Liveness locks belong to one surveybot: another one in a second schema of the same PostgreSQL
database (or another test session) counts its workers from 1 too, and must never be taken for
ours or block ours."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, insert, select, text

from storage.db import Database
from storage.liveness import LivenessLock, take_over_dead
from storage.migrate import create_schema
from storage.models import Worker
from tests.conftest import BACKENDS, PG_URL

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
workers_t = Worker.__table__  # type: ignore[attr-defined]


@pytest.fixture
def other_schema() -> Iterator[Database]:
    """A second surveybot's schema in the same database."""
    schema = f"sbother_{secrets.token_hex(4)}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    # With a lock timeout, a lock taken for someone else's fails here instead of waiting forever.
    db = Database(f"{PG_URL}?options=-csearch_path%3D{schema}%20-clock_timeout%3D5000")
    create_schema(db)
    yield db
    db.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.mark.parametrize("db_url", [b for b in BACKENDS if b == "postgres"], indirect=True)
def test_workers_of_another_schema_neither_look_alive_nor_block(
    database: Database, other_schema: Database
) -> None:
    ours = [LivenessLock(database, name) for name in ("a", "b")]
    for lock in ours:
        lock.acquire(now=NOW)
    assert sorted(lock.worker_id or 0 for lock in ours) == [1, 2]
    # The other surveybot: a live worker and one that died (its row, no lock), with our ids.
    theirs = LivenessLock(other_schema, "alive")
    theirs.acquire(now=NOW)  # its id 1 takes its own lock, not ours
    with other_schema.write() as conn:
        conn.execute(insert(workers_t).values(id=2, name="gone", started_at=NOW))
    with other_schema.write() as conn:
        taken = take_over_dead(conn, other_schema, me="nobody", now=NOW)
        left = sorted(conn.execute(select(workers_t.c.name)).scalars())
    assert [t.worker for t in taken] == ["gone"], "our live worker 2 says nothing of theirs"
    assert left == ["alive"], "their live worker 1 holds its own lock"
    with database.read() as conn:
        assert sorted(conn.execute(select(workers_t.c.name)).scalars()) == ["a", "b"]
    for lock in [*ours, theirs]:
        lock.release()
