"""One engine fixture, parametrised over SQLite and PostgreSQL, so every storage test runs on both.

SQLite gets a fresh file under tmp_path. PostgreSQL (`SURVEYBOT_TEST_PG`, default the local test
database) gets a schema of its own, created for the test and dropped after it; the test is
skipped when no server answers.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel

import storage.models  # noqa: F401 - registers the tables

PG_URL = os.environ.get("SURVEYBOT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

# Indexes the metric queries want beyond storage/models.py (to be added there by migration).
METRIC_INDEXES = (
    "CREATE INDEX IF NOT EXISTS ix_responses_metrics ON responses "
    "(survey, received_at, counted, score, metric, channel, send_id)",
    "CREATE INDEX IF NOT EXISTS ix_sends_survey_sent ON sends (survey, sent_at, status)",
)


def sqlite_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)
    return engine


def postgres_engine(schema: str) -> Engine:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc.orig}")
    finally:
        admin.dispose()
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    SQLModel.metadata.create_all(engine)
    return engine


def drop_postgres_schema(schema: str) -> None:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def create_metric_indexes(engine: Engine) -> None:
    with engine.begin() as conn:
        for statement in METRIC_INDEXES:
            conn.execute(text(statement))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        db = sqlite_engine(tmp_path / "metrics.db")
        create_metric_indexes(db)
        yield db
        db.dispose()
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    db = postgres_engine(schema)
    try:
        create_metric_indexes(db)
        yield db
    finally:
        db.dispose()
        drop_postgres_schema(schema)
