"""`surveybot simulate` counts the reminders a policy would send, assuming nobody answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from click.testing import CliRunner

from bot.cli.main import cli
from tests.dispatch.test_reminders import reminding
from tests.helpers import sms_trigger, write_config

START = datetime(2026, 3, 2, 12, tzinfo=UTC)


def at(minutes: int, kind: str, contact: str, ticket: str) -> dict[str, Any]:
    return {
        "id": f"{contact}-{kind}-{minutes}",
        "type": kind,
        "occurred_at": (START + timedelta(minutes=minutes)).isoformat(),
        "contact": {"id": contact, "phone": "+14155550100"},
        "properties": {"ticket_id": ticket},
    }


def simulate(tmp_path: Path, events: list[dict[str, Any]], *flags: str) -> Any:
    cancel = {"type": "ticket.reopened", "match": ["properties.ticket_id"]}
    config = write_config(
        tmp_path,
        f"sqlite:///{tmp_path / 'unused.db'}",
        surveys=reminding(),
        triggers=[sms_trigger(delay="1h", cancel_on=cancel)],
    )
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    return CliRunner().invoke(cli, ["simulate", str(path), "--config", str(config), *flags])


EVENTS = [
    at(0, "ticket.solved", "c1", "T-1"),  # sent at 1h, reminded at 25h
    at(0, "ticket.solved", "c2", "T-2"),
    at(120, "ticket.reopened", "c2", "T-2"),  # after its send, before its reminder: no reminder
    at(0, "ticket.solved", "c3", "T-3"),
    at(30, "ticket.reopened", "c3", "T-3"),  # before its send: neither goes
    at(0, "ticket.solved", "c4", "T-4"),
    at(120, "ticket.reopened", "c4", "T-other"),  # another ticket: the reminder stays
    at(26 * 60, "ticket.reopened", "c1", "T-1"),  # after the reminder left: too late to matter
]


def test_simulate_counts_reminders_and_says_it_assumes_no_replies(tmp_path: Path) -> None:
    result = simulate(tmp_path, sorted(EVENTS, key=lambda e: e["occurred_at"]), "--json")
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.output)
    assert report["would_send"] == 3 and report["cancelled"] == 1
    reminders = report["reminders"]
    assert (reminders["would_send"], reminders["called_off_by_cancel_on"]) == (2, 1)
    assert reminders["by_survey"] == {"support_csat": 2}
    assert "no replies" in reminders["assumes"]


def test_the_simulate_table_shows_the_reminders_and_the_assumption(tmp_path: Path) -> None:
    result = simulate(tmp_path, sorted(EVENTS, key=lambda e: e["occurred_at"]))
    assert result.exit_code == 0, result.output
    assert "reminders" in result.output
    assert "reminders assume no replies" in " ".join(result.output.split())
