"""`import` and `simulate` on files with invalid rows: exit 1, the errors in line order with how
many more, and a CSV without a required column named as a column, before anything is stored."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner, Result

from bot.cli.main import cli
from storage.db import Database
from tests.helpers import sends, write_config


def invoke(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--config", str(config)])


def events_file(tmp_path: Path, bad_lines: set[int], total: int) -> Path:
    """JSON lines, times going backwards (so the replay's time order is not the line order),
    with an event lacking `type` at each line in `bad_lines`."""
    lines = []
    for line in range(1, total + 1):
        event = {
            "id": f"e{line}",
            "type": "ticket.solved",
            "contact": {"id": f"c{line}", "phone": "+14155550100"},
            "occurred_at": f"2026-11-{30 - line // 10:02d}T{23 - line % 10:02d}:00:00Z",
        }
        if line in bad_lines:
            del event["type"]
        lines.append(orjson.dumps(event))
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def error_lines(output: str) -> list[int]:
    return [int(line.split()[1].rstrip(":")) for line in output.splitlines() if line.startswith("  line ")]


def test_import_lists_the_first_invalid_lines_in_order_and_exits_1(
    tmp_path: Path, database: Database, db_url: str
) -> None:
    config = write_config(tmp_path, db_url)
    bad = set(range(5, 100, 4))  # 24 invalid lines
    result = invoke(config, "import", "--quiet", str(events_file(tmp_path, bad, 100)))
    assert result.exit_code == 1
    assert error_lines(result.output) == sorted(bad)[:20]
    assert "  and 4 more" in result.output
    assert "24 of 100 events were invalid (lines above); the others were imported" in result.output
    assert len(sends(database)) == 76


def test_simulate_lists_invalid_lines_in_line_order_not_time_order(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'unused.db'}")
    bad = set(range(3, 100, 4))  # 25 invalid lines, replayed in reverse line order
    result = invoke(config, "simulate", str(events_file(tmp_path, bad, 100)))
    assert result.exit_code == 1
    assert error_lines(result.output) == sorted(bad)[:20]
    assert "  and 5 more" in result.output
    assert "25 of 100 events were invalid (lines above); the replay left them out" in result.output
    as_json = invoke(config, "simulate", "--json", str(events_file(tmp_path, bad, 100)))
    assert as_json.exit_code == 1
    report = orjson.loads(as_json.stdout)
    assert [e["line"] for e in report["errors"]] == sorted(bad)[:20]
    assert report["events"]["invalid"] == 25


def test_a_valid_file_exits_0(tmp_path: Path, database: Database, db_url: str) -> None:
    config = write_config(tmp_path, db_url)
    assert invoke(config, "import", "--quiet", str(events_file(tmp_path, set(), 3))).exit_code == 0
    assert invoke(config, "simulate", str(events_file(tmp_path, set(), 3))).exit_code == 0


def test_a_csv_without_a_required_column_names_the_column(
    tmp_path: Path, database: Database, db_url: str
) -> None:
    config = write_config(tmp_path, db_url)
    path = tmp_path / "events.csv"
    path.write_text("id,type,contact_id,contact.phone\ne1,ticket.solved,c1,+14155550100\n")
    for command in ("import", "simulate"):
        result = invoke(config, command, str(path))
        assert result.exit_code == 2, result.output
        assert result.output.strip() == (
            "error: the CSV has no column 'contact.id' (is 'contact_id' it? name it contact.id); "
            "its columns are: id, type, contact_id, contact.phone"
        )
    assert sends(database) == []
