"""`surveybot export`: every row once, personal data only when asked, never a forgotten
contact's, and a spreadsheet never runs a customer's text as a formula."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

from bot.app import Services
from bot.cli.main import cli
from bot.exports.files import write_csv
from bot.privacy.erasure import Eraser
from storage.exports import EXPORT_KINDS, export_columns
from tests.exports.conftest import READ_KEYS, Answer
from tests.helpers import write_config

DOCS = Path(__file__).resolve().parents[2] / "docs" / "exports.md"


@pytest.fixture
def run(bot: Services, db_url: str, tmp_path: Path) -> Any:
    config = write_config(tmp_path, db_url, server=READ_KEYS)

    def run_export(*args: str) -> Result:
        return CliRunner().invoke(cli, ["export", *args, "--config", str(config)], catch_exceptions=False)

    return run_export


def csv_rows(result: Result) -> list[dict[str, str]]:
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.stdout_bytes.decode())))


def test_responses_without_personal_data_by_default(run: Any, answer: Answer) -> None:
    answer("c1", 2, "slow and rude")
    answer("c2", 5)
    result = run("responses")
    rows = csv_rows(result)
    assert [(r["contact_id"], r["score"], r["survey"], r["counted"]) for r in rows] == [
        ("c1", "2", "support_csat", "true"), ("c2", "5", "support_csat", "true")]  # fmt: skip
    assert rows[0]["event_id"] == "evt-c1" and rows[0]["received_at"].endswith("Z")
    assert list(rows[0]) == [col.name for col in export_columns("responses", personal=False)]
    text = result.stdout_bytes.decode()
    assert "slow and rude" not in text and "+14155550100" not in text and "Ada" not in text
    assert "2 responses exported" in result.stderr


def test_personal_data_with_personal_but_never_a_forgotten_contacts(
    run: Any, bot: Services, answer: Answer
) -> None:
    answer("c1", 1, "call me back", properties={"ticket_id": "T-1", "note": "lives at 1 Main St"})
    answer("c2", 4, "fine", properties={"ticket_id": "T-2"})
    Eraser(bot.db, bot.config, bot.clock, bot.address_keys).forget(["c1"])
    forgotten, kept = csv_rows(run("responses", "--personal"))
    assert (kept["comment"], kept["to_address"], kept["contact_name"]) == ("fine", "+14155550100", "Ada")
    assert orjson.loads(kept["properties"]) == {"ticket_id": "T-2"}
    assert forgotten["score"] == "1"
    assert [forgotten[k] for k in ("comment", "to_address", "contact_name", "properties")] == ["", "", "", ""]


def test_json_lines_to_a_file_by_its_extension(run: Any, answer: Answer, tmp_path: Path) -> None:
    answer("c1", 3, "ok")
    target = tmp_path / "out" / "responses.jsonl"
    target.parent.mkdir()
    result = run("responses", "--output", str(target), "--personal")
    assert result.exit_code == 0, result.output
    [row] = [orjson.loads(line) for line in target.read_bytes().splitlines()]
    assert row["score"] == 3 and row["comment"] == "ok" and row["counted"] is True
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["received_at"])
    assert sorted(p.name for p in target.parent.iterdir()) == ["responses.jsonl"]  # no .partial left


def test_since_and_until_pick_a_window(run: Any, bot: Services, answer: Answer) -> None:
    answer("c1", 1)
    bot.clock.advance(timedelta(hours=1))
    start = bot.clock.now()
    answer("c2", 2)
    bot.clock.advance(timedelta(hours=1))
    end = bot.clock.now()
    answer("c3", 3)
    rows = csv_rows(run("responses", "--since", start.isoformat(), "--until", end.isoformat()))
    assert [r["contact_id"] for r in rows] == ["c2"]
    since_naive = start.replace(tzinfo=None).isoformat()  # UTC without an offset
    assert [r["contact_id"] for r in csv_rows(run("responses", "--since", since_naive))] == ["c2", "c3"]


def test_a_bad_time_is_refused_naming_the_option(run: Any) -> None:
    result = run("responses", "--since", "last tuesday")
    assert result.exit_code == 2 and "--since" in result.output and "ISO 8601" in result.output


def test_a_formula_in_a_comment_stays_text_in_csv_but_not_in_json_lines(run: Any, answer: Answer) -> None:
    answer("c1", 1, '=HYPERLINK("https://evil.example","click")')
    [row] = csv_rows(run("responses", "--personal"))
    assert row["comment"] == '\'=HYPERLINK("https://evil.example","click")'
    [line] = run("responses", "--personal", "--format", "jsonl").stdout_bytes.splitlines()
    assert orjson.loads(line)["comment"] == '=HYPERLINK("https://evil.example","click")'


def test_sends_and_decisions(run: Any, answer: Answer) -> None:
    answer("c1", 4)
    [send] = csv_rows(run("sends"))
    assert (send["contact_id"], send["status"], send["channel"], send["test"]) == (
        "c1",
        "sent",
        "sms",
        "false",
    )
    assert "to_address" not in send
    assert csv_rows(run("sends", "--personal"))[0]["to_address"] == "+14155550100"
    [decision] = csv_rows(run("decisions"))
    assert (decision["outcome"], decision["send_id"], decision["event_id"]) == (
        "scheduled",
        send["send_id"],
        "evt-c1",
    )


def test_the_docs_list_every_column_of_every_kind() -> None:
    text = DOCS.read_text()
    for kind in EXPORT_KINDS:
        section = text.split(f"## `surveybot export {kind}`", 1)[1].split("\n## ", 1)[0]
        listed = re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE)
        assert listed == [col.name for col in export_columns(kind, personal=True)], kind


@pytest.mark.parametrize(
    ("text", "cell"),
    [("-2+3", "'-2+3"), ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"), ("@SUM(A1)", "'@SUM(A1)"),
     ("+14155550100", "+14155550100"), ("-5", "-5"), ("fine = good", "fine = good")],
)  # fmt: skip
def test_which_cells_are_guarded(text: str, cell: str) -> None:
    out = io.BytesIO()
    write_csv(out, [("comment", "text")], [(text,)])
    assert list(csv.reader(io.StringIO(out.getvalue().decode())))[1] == [cell]
