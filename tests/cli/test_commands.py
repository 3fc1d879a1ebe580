"""The `surveybot` command as a user runs it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import orjson
from click.testing import CliRunner

from bot.cli.main import cli
from storage.db import Database
from storage.migrate import head_revision
from tests.helpers import answers_ok, free_port, sends, wait_until, write_config


def test_emit_by_options_shows_the_decisions(tmp_path: Path, database: Database, db_url: str) -> None:
    config = write_config(tmp_path, db_url)
    result = CliRunner().invoke(
        cli,
        [
            "emit",
            "--config",
            str(config),
            "--type",
            "ticket.solved",
            "--contact-id",
            "c1",
            "--phone",
            "+14155550100",
            "-p",
            "ticket_id=T-1",
            "--id",
            "e1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:2] == ["event e1: accepted", result.output.splitlines()[1]]
    assert "csat_after_ticket: scheduled" in result.output
    assert len(sends(database)) == 1


def test_emit_by_json_reports_an_invalid_event(tmp_path: Path, database: Database, db_url: str) -> None:
    config = write_config(tmp_path, db_url)
    result = CliRunner().invoke(
        cli, ["emit", "--config", str(config), '{"id": "e1", "type": "x", "contact": {}}']
    )
    assert result.exit_code == 1
    assert "error: contact.id: is required" in result.output


def test_import_jsonl_goes_through_the_same_path(tmp_path: Path, database: Database, db_url: str) -> None:
    config = write_config(tmp_path, db_url)
    lines = [
        orjson.dumps(
            {"id": f"e{i}", "type": "ticket.solved", "contact": {"id": f"c{i}", "phone": "+14155550100"}}
        )
        for i in range(2500)
    ] + [b"{not json", orjson.dumps({"id": "e1", "type": "ticket.solved", "contact": {"id": "c1"}})]
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = CliRunner().invoke(cli, ["import", "--config", str(config), "--quiet", str(path)])
    assert result.exit_code == 1, result.output  # one line was invalid
    assert "2502 events: 2500 accepted, 1 duplicate, 1 invalid" in result.output
    assert "line 2501: not valid JSON" in result.output
    assert "1 of 2502 events were invalid (lines above); the others were imported" in result.output
    assert len(sends(database)) == 2500


def test_import_csv_maps_dotted_columns(tmp_path: Path, database: Database, db_url: str) -> None:
    config = write_config(tmp_path, db_url)
    path = tmp_path / "events.csv"
    path.write_text(
        "id,type,contact.id,contact.email,properties.ticket_id\n"
        "e1,ticket.solved,c1,ada@example.com,T-1\n"
        "e2,ticket.solved,c2,not-an-email,T-2\n"
    )
    result = CliRunner().invoke(cli, ["import", "--config", str(config), "--quiet", str(path)])
    assert result.exit_code == 1
    assert "2 events: 1 accepted, 1 invalid" in result.output
    assert "line 3: contact.email: 'not-an-email' is not an email address" in result.output
    [send] = sends(database)
    assert (send.channel, send.to_address) == ("email", "ada@example.com")


def test_db_upgrade_command(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'fresh.db'}")
    result = CliRunner().invoke(cli, ["db", "upgrade", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"schema at revision {head_revision()}"


def test_run_serves_sends_at_once_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'bot.db'}")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(config), "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: answers_ok(f"{base}/healthz"), "the bot to answer /healthz", timeout=15)
        event = {"id": "e1", "type": "ticket.solved", "contact": {"id": "c1", "phone": "+14155550100"}}
        response = httpx.post(f"{base}/v1/events", json=event, headers={"Authorization": "Bearer test-key"})
        assert response.status_code == 202
        outbox = tmp_path / "outbox/sms.jsonl"
        wait_until(
            lambda: outbox.exists() and outbox.read_bytes().count(b"\n") == 1,
            "the survey in the outbox",
            timeout=10,
        )
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
    output = process.stdout.read().decode() if process.stdout else ""
    assert "surveybot stopped" in output


def test_run_refuses_a_bad_config_with_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("triggers: [{name: t, on: x, survey: nope, channels: [sms]}]\n")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(path)],
        capture_output=True,
        timeout=30,
        env={**os.environ, "SURVEYBOT_CONFIG": ""},
    )
    assert done.returncode == 2
    assert b"triggers[0].survey: 'nope' is not a survey" in done.stderr
