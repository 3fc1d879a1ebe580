"""A database that is not there, or not ready, is one line saying what to do, and exit 3."""

from __future__ import annotations

import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from bot.cli.main import cli
from storage.db import Database
from storage.errors import SchemaNotCurrent
from storage.migrate import current_revision, head_revision
from tests.conftest import PG_URL
from tests.helpers import answers_ok, free_port, wait_until, write_config

EMIT = ["emit", "--type", "ticket.solved", "--contact-id", "c1"]


@pytest.fixture
def empty_pg_url() -> Iterator[str]:
    """A PostgreSQL schema of its own with no tables at all: a database nobody upgraded yet."""
    schema = f"sbempty_{secrets.token_hex(4)}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def invoke(config: Path, *args: str) -> tuple[int, str]:
    if args[0] == "run":  # a free port: one taken (another surveybot on 8000) would be named first
        args = (*args, "--port", str(free_port()))
    result = CliRunner().invoke(cli, [*args, "--config", str(config)])
    return result.exit_code, result.output


def one_line(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in output, output
    return lines[0]


@pytest.mark.parametrize("command", [EMIT, ["run"], ["explain", "c1"], ["stats"]], ids=" ".join)
def test_before_db_upgrade_each_command_says_to_run_it(
    tmp_path: Path, empty_pg_url: str, command: list[str]
) -> None:
    code, output = invoke(write_config(tmp_path, empty_pg_url), *command)
    assert code == 3
    assert one_line(output) == (
        "error: the database has no surveybot tables yet: run `surveybot db upgrade` once "
        "(or start with `surveybot run --migrate`)"
    )


def test_a_schema_behind_names_both_revisions(tmp_path: Path, empty_pg_url: str) -> None:
    config = write_config(tmp_path, empty_pg_url)
    db = Database(empty_pg_url)
    from storage.migrate import upgrade

    upgrade(db, "0001")
    db.dispose()
    code, output = invoke(config, *EMIT)
    assert code == 3
    assert f"schema is at revision 0001, this surveybot needs {head_revision()}" in one_line(output)


def test_a_missing_database_is_named_with_how_to_create_it(tmp_path: Path) -> None:
    url = PG_URL.rsplit("/", 1)[0] + "/surveybot_nowhere"
    for command in (EMIT, ["run"], ["db", "upgrade"]):
        code, output = invoke(write_config(tmp_path, url), *command)
        assert code == 3, output
        assert one_line(output) == (
            "error: the database 'surveybot_nowhere' does not exist on 127.0.0.1:5432: "
            "create it (createdb surveybot_nowhere), or correct storage.url"
        )


def test_a_closed_port_says_to_start_postgresql(tmp_path: Path) -> None:
    port = free_port()
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/test"
    digests = [{"name": "weekly", "channel": "#cx", "schedule": "0 9 * * mon"}]
    for command in (EMIT, ["run"], ["db", "upgrade"], ["digest", "weekly"]):
        code, output = invoke(write_config(tmp_path, url, digests=digests), *command)
        assert code == 3, output
        assert one_line(output).startswith(f"error: no database answers at 127.0.0.1:{port} (storage.url")
        assert "start PostgreSQL there, or correct storage.url" in output


def test_debug_shows_the_traceback(tmp_path: Path, empty_pg_url: str) -> None:
    config = write_config(tmp_path, empty_pg_url)
    result = CliRunner().invoke(cli, ["--debug", *EMIT, "--config", str(config)])
    assert isinstance(result.exception, SchemaNotCurrent)


def test_db_upgrade_then_emit_works(tmp_path: Path, empty_pg_url: str) -> None:
    config = write_config(tmp_path, empty_pg_url)
    code, output = invoke(config, "db", "upgrade")
    assert (code, output.strip()) == (0, f"schema at revision {head_revision()}")
    code, output = invoke(config, *EMIT)
    assert code == 0 and "accepted" in output


def serving_or_gone(port: int, process: subprocess.Popen[bytes]) -> bool:
    return answers_ok(f"http://127.0.0.1:{port}/healthz") or process.poll() is not None


def test_run_migrate_from_several_processes_at_once(tmp_path: Path, empty_pg_url: str) -> None:
    """Three `run --migrate` started together on an empty database: one migrates, the others
    wait on the advisory lock and find the schema current; all three serve."""
    config = write_config(tmp_path, empty_pg_url)
    ports = [free_port() for _ in range(3)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--migrate", "--config", str(config), "--port", str(port)],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for port in ports
    ]
    try:
        for port, process in zip(ports, processes, strict=True):
            wait_until(lambda p=port, q=process: serving_or_gone(p, q), f"the bot on port {port}", timeout=30)  # type: ignore[misc]
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
        for process in processes:
            process.send_signal(signal.SIGTERM)
        assert [p.wait(timeout=20) for p in processes] == [0, 0, 0]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    db = Database(empty_pg_url)
    assert current_revision(db) == head_revision()
    db.dispose()
