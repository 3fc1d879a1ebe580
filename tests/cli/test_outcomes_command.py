"""`surveybot stats --outcomes` / `--churn`, `rollups rebuild` and the digest's outcome line, as a
user runs them, on a population whose outcomes are known."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from bot.cli.main import cli
from storage.db import Database
from tests.helpers import write_config
from tests.metrics.test_outcome_rates import DAY, T0, populate

OUTCOMES = {"churn": {"on": "subscription.cancelled", "within": "90d"}}
DIGEST = {"name": "weekly", "channel": "#cx", "schedule": "0 9 * * mon", "window": "7d"}
END = (T0 + 200 * DAY).isoformat()


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_stats_outcomes_json_holds_the_population_after_a_rebuild(
    tmp_path: Path, database: Database, db_url: str
) -> None:
    done = populate(database, per_band=120, seed=5)
    config = str(write_config(tmp_path, db_url, outcomes=OUTCOMES, digests=[DIGEST]))
    run("rollups", "rebuild", "--config", config)
    document = orjson.loads(run("stats", "--outcomes", "--config", config, "--end", END, "--json"))
    [churn] = [o for o in document["outcomes"] if o["survey"] == "delivery_nps"]
    assert {band: (b["n"], b["done"]) for band, b in churn["bands"].items()} == {
        band: (120, count) for band, count in done.items()
    }
    assert churn["contrast"]["ratio"] == (done["low"] / 120) / (done["high"] / 120)
    assert churn["contrast"]["beyond_noise"] is True
    text = run("digest", "weekly", "--print", "--config", config, "--end", END)
    low, high = 100 * done["low"] / 120, 100 * done["high"] / 120
    ratio = churn["contrast"]["ratio"]
    assert (
        f"detractors had churn within 90 days {ratio:.1f}\u00d7 as often as promoters: "
        f"{low:.0f}% vs {high:.0f}%, n 120 / 120, beyond noise"
    ) in text


def test_stats_outcomes_table_and_churn_per_month(tmp_path: Path, database: Database, db_url: str) -> None:
    config = str(write_config(tmp_path, db_url, outcomes=OUTCOMES))
    output = run(
        "stats", "--outcomes", "--churn", "month", "--config", config, "--end", END, "--window", "90d"
    )
    assert "Churn per period" in output and "customers at start" in output
    assert "an association, not a cause" in output
    without = str(write_config(tmp_path, db_url))
    assert "no outcomes configured" in run("stats", "--outcomes", "--config", without, "--end", END)
    assert "no churn outcome configured" in run("stats", "--churn", "week", "--config", without, "--end", END)
