"""`surveybot stats` and `surveybot digest NAME` as a user runs them, numbers checked against
the rows they were computed from."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
from click.testing import CliRunner

from bot.cli.main import cli
from storage import digest_posts
from storage.db import Database
from tests.conftest import BASE_CONFIG
from tests.fakes.metric_rows import NOW, SURVEYS, Dataset, insert_rows, make_dataset
from tests.fakes.plugin import slack_overrides
from tests.fakes.slack_api import FakeSlack
from tests.helpers import write_config

END = NOW.isoformat()
SURVEY_CONFIG = BASE_CONFIG["surveys"] | {
    name: {"metric": metric, "question": {"sms": "Rate us"}}
    for name, metric in SURVEYS.items()
    if name != "support_csat"
}
DIGEST = {"name": "weekly_cx", "channel": "#cx-metrics", "schedule": "0 9 * * mon", "window": "7d",
          "group_by": ["properties.team"], "chart": True}  # fmt: skip


def seeded(tmp_path: Path, database: Database, db_url: str, **extra: Any) -> tuple[Path, Dataset]:
    data = make_dataset(600)
    insert_rows(database.engine, data)
    return write_config(tmp_path, db_url, surveys=SURVEY_CONFIG, digests=[DIGEST], **extra), data


def window_rows(data: Dataset, survey: str) -> list[dict[str, Any]]:
    start = NOW - timedelta(days=7)
    return [
        r
        for r in data.responses
        if r["survey"] == survey and r["counted"] and start <= r["received_at"] < NOW
    ]


def test_stats_json_holds_the_numbers_of_the_rows(tmp_path: Path, database: Database, db_url: str) -> None:
    config, data = seeded(tmp_path, database, db_url)
    result = CliRunner().invoke(
        cli, ["stats", "--config", str(config), "--end", END, "--group-by", "properties.team", "--json"]
    )
    assert result.exit_code == 0, result.output
    document = orjson.loads(result.output)
    by_survey = {s["survey"]: s for s in document["surveys"]}
    csat = window_rows(data, "support_csat")
    assert by_survey["support_csat"]["n"] == len(csat)
    assert by_survey["support_csat"]["value"] == 100 * sum(r["score"] >= 4 for r in csat) / len(csat)
    nps = window_rows(data, "relationship_nps")
    promoters, detractors = sum(r["score"] >= 9 for r in nps), sum(r["score"] <= 6 for r in nps)
    assert abs(by_survey["relationship_nps"]["value"] - 100 * (promoters - detractors) / len(nps)) < 1e-9
    teams = {g["group"]: g["n"] for g in by_survey["support_csat"]["breakdowns"]["properties.team"]}
    team_of = {e["pk"]: e["properties"].get("team") for e in data.events}
    event_of = {s["id"]: s["event_pk"] for s in data.sends}
    assert teams["billing"] == sum(team_of[event_of[r["send_id"]]] == "billing" for r in csat)
    assert document["window"]["seconds"] == 7 * 86400


def test_stats_table_for_people(tmp_path: Path, database: Database, db_url: str) -> None:
    config, data = seeded(tmp_path, database, db_url)
    result = CliRunner().invoke(
        cli,
        ["stats", "--config", str(config), "--end", END, "--survey", "support_csat"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    csat = window_rows(data, "support_csat")
    assert f"{100 * sum(r['score'] >= 4 for r in csat) / len(csat):.1f}%" in result.output
    assert "support_csat" in result.output and "relationship_nps" not in result.output


def test_stats_refuses_an_unknown_survey(tmp_path: Path, database: Database, db_url: str) -> None:
    config, _ = seeded(tmp_path, database, db_url)
    result = CliRunner().invoke(cli, ["stats", "--config", str(config), "--survey", "nope"])
    assert result.exit_code == 2 and "'nope' is not a survey" in result.output


def test_digest_print_and_its_chart(tmp_path: Path, database: Database, db_url: str) -> None:
    config, _ = seeded(tmp_path, database, db_url)
    charts = tmp_path / "charts"
    result = CliRunner().invoke(
        cli,
        ["digest", "weekly_cx", "--config", str(config), "--print", "--end", END, "--chart-dir", str(charts)],
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Survey digest: weekly_cx\n")
    assert "  By team:" in result.output
    assert (charts / "weekly_cx-support_csat.png").read_bytes().startswith(b"\x89PNG")


def test_digest_post_is_a_manual_post_outside_the_window_record(
    tmp_path: Path, database: Database, db_url: str, fake_slack: FakeSlack
) -> None:
    config, _ = seeded(tmp_path, database, db_url, **slack_overrides(fake_slack))
    result = CliRunner().invoke(cli, ["digest", "weekly_cx", "--config", str(config), "--post", "--end", END])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("digest weekly_cx posted to C0CX (ts 1700000000.")
    assert fake_slack.counts["/api/chat.postMessage"] == 1
    assert len(fake_slack.uploads) == len(SURVEY_CONFIG)  # one chart per survey
    with database.read() as conn:
        assert digest_posts.latest_window(conn, digest="weekly_cx") is None


def test_digest_names_the_known_ones_when_asked_for_another(
    tmp_path: Path, database: Database, db_url: str
) -> None:
    config, _ = seeded(tmp_path, database, db_url)
    result = CliRunner().invoke(cli, ["digest", "monthly", "--config", str(config)])
    assert result.exit_code == 1
    assert "no digest named 'monthly' in the config (known: weekly_cx)" in result.output
