"""Shared fixtures. Every test that touches the database runs on SQLite and on PostgreSQL.

PostgreSQL is the local server (127.0.0.1:5432, database `test`, user `postgres`, or
SURVEYBOT_TEST_PG_URL); each test session works in a schema of its own, emptied between tests.
If it is unreachable the PostgreSQL half of the suite errors: it never skips silently.
SURVEYBOT_TEST_BACKENDS=sqlite narrows a local run to one backend; CI refuses that.
"""

from __future__ import annotations

import copy
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

from bot.app import Services, build_services
from bot.channels.log import LogChannel
from bot.config import Config, parse_config
from bot.runtime.clock import FakeClock
from storage.db import Database
from storage.migrate import create_schema

PG_URL = os.environ.get("SURVEYBOT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = [b for b in os.environ.get("SURVEYBOT_TEST_BACKENDS", "sqlite,postgres").split(",") if b]
_postgres_tests_run = 0

pytest_plugins = ["tests.fakes.plugin", "tests.browser"]


@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str]:
    schema = f"sbtest_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    db = Database(url)
    create_schema(db)
    db.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return empty_database_url(request.param, request, tmp_path)


def empty_database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to an empty database of `backend`: a new SQLite file, or the emptied test schema."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'surveybot.db'}"
    global _postgres_tests_run
    _postgres_tests_run += 1
    url: str = request.getfixturevalue("pg_schema_url")
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


def open_test_database(url: str) -> Database:
    db = Database(url)
    if db.is_sqlite:
        create_schema(db)
    return db


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = open_test_database(db_url)
    yield db
    db.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


BASE_CONFIG: dict[str, Any] = {
    "server": {"api_keys": ["test-key"], "public_url": "https://surveys.example.com", "secret_key": "s3cret"},
    "surveys": {
        "support_csat": {
            "metric": "csat",
            "question": {
                "sms": "Hi {{ contact.name }}, rate ticket {{ properties.ticket_id }} 1-5",
                "email": {"subject": "How did we do?", "body": "Rate us {{ contact.name }}"},
            },
            "follow_up": "What is the main reason for your score?",
        },
        "delivery_nps": {
            "metric": "nps",
            "question": {"email": {"subject": "Recommend us?", "body": "0-10?"}},
        },
    },
    "triggers": [
        {
            "name": "csat_after_ticket",
            "on": "ticket.solved",
            "survey": "support_csat",
            "channels": ["sms", "email"],
            "cancel_on": {"type": "ticket.reopened", "match": ["properties.ticket_id"]},
        },
        {
            "name": "nps_after_delivery",
            "on": "order.delivered",
            "survey": "delivery_nps",
            "channels": ["email"],
        },
    ],
    "throttle": {
        "daily_cap": None,
        "quiet_hours": None,
        "max_per_contact": None,
        "contact_cooldown": "0s",
        "survey_cooldown": "0s",
    },
}


def make_config(db_url: str, tmp_path: Path, **overrides: Any) -> Config:
    """The test config with `overrides` merged in, section by section."""
    raw = copy.deepcopy(BASE_CONFIG)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key] = {**raw[key], **value}
        else:
            raw[key] = value
    raw["storage"] = {"url": db_url}
    raw.setdefault("channels", {})
    for name in ("sms", "email", "whatsapp"):
        raw["channels"].setdefault(name, {"provider": "log", "path": str(tmp_path / f"outbox/{name}.jsonl")})
    import orjson

    return parse_config(orjson.dumps(raw).decode())


ServicesFactory = Callable[..., Services]


@pytest.fixture
def make_services(
    database: Database, db_url: str, tmp_path: Path, clock: FakeClock
) -> Iterator[ServicesFactory]:
    built: list[Services] = []

    def factory(use_channels: dict[str, Any] | None = None, **overrides: Any) -> Services:
        config = make_config(db_url, tmp_path, **overrides)
        channels = use_channels
        if channels is None:
            channels = {
                "sms": LogChannel("sms", tmp_path / "outbox/sms.jsonl"),
                "email": LogChannel("email", tmp_path / "outbox/email.jsonl"),
            }
        services = build_services(config, db=Database(db_url), clock=clock, channels=channels)
        built.append(services)
        return services

    yield factory
    for services in built:
        services.db.dispose()


@pytest.fixture
def services(make_services: ServicesFactory) -> Services:
    return make_services()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI, a run that never touched PostgreSQL is a failed run."""
    if (
        os.environ.get("CI")
        and "postgres" in BACKENDS
        and _postgres_tests_run == 0
        and session.testscollected
    ):
        session.config.get_terminal_writer().line("CI: no test ran on PostgreSQL", red=True)
        session.exitstatus = 1
    if os.environ.get("CI") and "postgres" not in BACKENDS:
        session.config.get_terminal_writer().line(
            "CI: SURVEYBOT_TEST_BACKENDS must include postgres", red=True
        )
        session.exitstatus = 1
