"""The journey by period holds exactly the raw rows' numbers, whatever the zone, the kind of
period and the end: whole hours from the rollups, the partial hours at local midnights of
zones like +05:30 and at the end from the rows, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.metrics.journey import build_journey
from storage.db import Database
from tests.cli.test_stats_commands import SURVEY_CONFIG
from tests.conftest import make_config
from tests.fakes.metric_rows import NOW, insert_rows, make_dataset
from tests.storage.test_rollups import empty

JOURNEY = [
    {"stage": "support", "surveys": ["support_csat", "onboarding_ces"]},
    {"stage": "loyalty", "surveys": ["relationship_nps"]},
]
WEIGHTS = {"support_csat": 0.3, "onboarding_ces": 0.3, "relationship_nps": 0.4}

cases = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 10_000),
        "count": st.integers(0, 120),
        "span_days": st.sampled_from([10, 45, 200]),
        "end_back": st.integers(0, 40 * 86400),
        "aligned": st.booleans(),
        "kind": st.sampled_from(["week", "month", "quarter"]),
        "periods": st.integers(1, 6),
        "timezone": st.sampled_from(["UTC", "Asia/Kolkata", "America/New_York", "Australia/Lord_Howe"]),
    }
)


def favourable(metric: str, score: int) -> bool:
    return score >= {"csat": 4, "ces": 5, "nps": 9}[metric]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases)
def test_each_period_holds_the_raw_rows_numbers(
    database: Database, db_url: str, tmp_path: Path, case: dict[str, Any]
) -> None:
    empty(database)
    data = make_dataset(case["count"], seed=case["seed"], span=timedelta(days=case["span_days"]))
    insert_rows(database.engine, data)
    end = NOW - timedelta(seconds=case["end_back"])
    if case["aligned"]:
        end = end.replace(minute=0, second=0, microsecond=0)
    config = make_config(db_url, tmp_path, surveys=SURVEY_CONFIG, journey=JOURNEY, index={"weights": WEIGHTS})
    with database.engine.connect() as conn:
        report = build_journey(
            conn, config=config, kind=case["kind"], end=end, timezone=case["timezone"], count=case["periods"]
        )
    assert [r.survey for r in report.rows] == ["support_csat", "onboarding_ces", "relationship_nps"]
    for row in report.rows:
        for period, estimate in zip(report.periods, row.estimates, strict=True):
            inside = [r for r in data.responses if period.start <= r["received_at"] < period.end]
            scores = [r["score"] for r in inside if r["survey"] == row.survey and r["counted"]]
            if not scores:
                assert estimate is None
                continue
            assert estimate is not None and estimate.n == len(scores)
            top = sum(favourable(row.metric, s) for s in scores)
            if row.metric == "nps":
                expected = 100 * (top - sum(s <= 6 for s in scores)) / len(scores)
            else:
                expected = 100 * top / len(scores)
            assert abs(estimate.value - expected) < 1e-9
    for i, point in enumerate(report.index):
        ns = {p.survey: p.n for p in point.parts}
        assert ns == {r.survey: (r.estimates[i].n if r.estimates[i] else 0) for r in report.rows}
        assert (point.value is None) == (0 in ns.values())
