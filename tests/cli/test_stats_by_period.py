"""`surveybot stats --by week|month|quarter` as a user runs it: each stage's metric per period
and the CX index beside its parts, checked against the rows they were computed from."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from click.testing import CliRunner

from bot.cli.main import cli
from storage.db import Database
from tests.cli.test_stats_commands import SURVEY_CONFIG
from tests.fakes.metric_rows import NOW, Dataset, insert_rows, make_dataset
from tests.helpers import write_config

END = NOW.isoformat()  # 2026-11-22 12:00 UTC
JOURNEY = [
    {"stage": "onboard", "surveys": ["onboarding_ces"]},
    {"stage": "support", "surveys": ["support_csat"]},
    {"stage": "loyalty", "surveys": ["relationship_nps"]},
]
WEIGHTS = {"support_csat": 0.5, "onboarding_ces": 0.25, "relationship_nps": 0.25}
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def seeded(tmp_path: Path, database: Database, db_url: str) -> tuple[Path, Dataset]:
    data = make_dataset(900, span=timedelta(days=120))
    insert_rows(database.engine, data)
    config = write_config(
        tmp_path, db_url, surveys=SURVEY_CONFIG, journey=JOURNEY, index={"weights": WEIGHTS},
        dashboard={"timezone": "America/New_York"},
    )  # fmt: skip
    return config, data


def run(config: Path, *args: str) -> Any:
    arguments = ["stats", "--config", str(config), "--end", END, *args]
    return CliRunner().invoke(cli, arguments, env={"COLUMNS": "220"})


def counted(data: Dataset, survey: str, start: datetime, end: datetime) -> list[int]:
    return [
        r["score"] for r in data.responses
        if r["survey"] == survey and r["counted"] and start <= r["received_at"] < end
    ]  # fmt: skip


def on_scale(survey: str, scores: list[int]) -> float:
    """The part's value on 0-100, by the definitions: % of 4-5, % of 5-7, (NPS + 100) / 2."""
    if survey == "support_csat":
        return 100 * sum(s >= 4 for s in scores) / len(scores)
    if survey == "onboarding_ces":
        return 100 * sum(s >= 5 for s in scores) / len(scores)
    nps = 100 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) / len(scores)
    return (nps + 100) / 2


def test_months_in_new_york_hold_the_rows_numbers_and_the_index_its_parts(
    seeded: tuple[Path, Dataset],
) -> None:
    config, data = seeded
    result = run(config, "--by", "month", "--periods", "4", "--json")
    assert result.exit_code == 0, result.output
    document = orjson.loads(result.output)
    assert document["timezone"] == "America/New_York"  # dashboard.timezone, as the page cuts them
    assert [p["period"] for p in document["periods"]] == ["2026-08", "2026-09", "2026-10", "2026-11"]
    november = document["periods"][-1]
    assert november["start"] == "2026-11-01T00:00:00-04:00" and november["partial"] is True
    september = document["periods"][1]
    assert september["end"] == "2026-10-01T00:00:00-04:00" and not september["partial"]
    assert [s["stage"] for s in document["stages"]] == ["onboard", "support", "loyalty"]
    bounds = [datetime(2026, m, 1, tzinfo=NEW_YORK) for m in (8, 9, 10, 11)] + [NOW]
    for stage in document["stages"]:
        [survey] = stage["surveys"]
        for i, point in enumerate(survey["periods"]):
            scores = counted(data, survey["survey"], bounds[i], bounds[i + 1])
            assert point["n"] == len(scores)
            if survey["metric"] == "nps" and scores:
                assert abs(point["value"] - (2 * on_scale(survey["survey"], scores) - 100)) < 1e-9
            elif scores:
                assert abs(point["value"] - on_scale(survey["survey"], scores)) < 1e-9
            assert point["small"] == (len(scores) < 30)
    index = document["index"]
    assert index["method"] == "delta" and index["weights"] == WEIGHTS
    for i, point in enumerate(index["periods"]):
        parts = {s: counted(data, s, bounds[i], bounds[i + 1]) for s in WEIGHTS}
        if all(parts.values()):
            expected = sum(w * on_scale(s, parts[s]) for s, w in WEIGHTS.items())
            assert abs(point["value"] - expected) < 1e-9
            assert point["low"] < point["value"] < point["high"]
            assert {s: p["n"] for s, p in point["parts"].items()} == {s: len(v) for s, v in parts.items()}
        else:
            assert point["value"] is None and point["missing"]
    assert index["periods"][0]["missing"] == []  # the seeded data covers August too


def test_weeks_start_on_monday_and_the_table_shows_the_index_beside_its_parts(
    seeded: tuple[Path, Dataset],
) -> None:
    config, data = seeded
    result = run(config, "--by", "week", "--periods", "3", "--timezone", "UTC")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Journey by ISO week (from Monday), 3 periods, cut at midnight UTC" in out
    # 2026-11-22 is a Sunday: its week began Monday 2026-11-16 (ISO week 47).
    assert "2026-W45" in out and "2026-W46" in out and "2026-W47 (to date)" in out
    assert "onboard: onboarding_ces (CES)" in out and "loyalty: relationship_nps (NPS)" in out
    monday = datetime(2026, 11, 16, tzinfo=ZoneInfo("UTC"))
    csat = counted(data, "support_csat", monday, NOW)
    assert f"{on_scale('support_csat', csat):.1f}%" in out
    assert "CX index" in out and "support_csat x0.5" in out and "delta method" in out


def test_since_gives_every_quarter_from_the_one_holding_that_day(seeded: tuple[Path, Dataset]) -> None:
    config, _ = seeded
    result = run(config, "--by", "quarter", "--since", "2026-02-10", "--json")
    assert result.exit_code == 0, result.output
    periods = orjson.loads(result.output)["periods"]
    assert [p["period"] for p in periods] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert periods[0]["start"] == "2026-01-01T00:00:00-05:00"


def test_a_survey_left_out_takes_the_index_with_it(seeded: tuple[Path, Dataset]) -> None:
    config, _ = seeded
    result = run(config, "--by", "month", "--survey", "support_csat", "--json")
    document = orjson.loads(result.output)
    assert [s["stage"] for s in document["stages"]] == ["support"]
    assert document["index"] is None


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--periods", "3"], "go with --by week|month|quarter"),
        (["--by", "year"], "'year' is not one of 'week', 'month', 'quarter'"),
        (["--by", "week", "--periods", "0"], "0 is not in the range 1<=x<=520"),
        (["--by", "week", "--group-by", "properties.team"], "leave --group-by out with --by"),
        (["--by", "week", "--periods", "2", "--since", "2026-01-01"], "give --periods or --since, not both"),
        (["--by", "week", "--timezone", "Mars/Olympus"], "'Mars/Olympus' is not an IANA time zone"),
        (["--by", "week", "--since", "01/02/2026"], "'01/02/2026' is not a date like 2026-01-31"),
        (["--by", "week", "--since", "2027-01-01"], "2027-01-01 is after the end (2026-11-22)"),
    ],
)
def test_options_that_do_not_fit_are_named(seeded: tuple[Path, Dataset], args: list[str], error: str) -> None:
    config, _ = seeded
    result = run(config, *args)
    assert result.exit_code == 2
    assert error in " ".join(result.output.split())
