"""Metric aggregates in SQL, on SQLite and PostgreSQL, against numbers computed from the rows."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from storage.db import Database
from storage.metrics import (
    comment_themes,
    daily_series,
    digest_metrics,
    holds_by_reason,
    low_score_comments,
    send_counts,
    survey_metrics,
)
from tests.fakes.metric_rows import NOW, SURVEYS, Dataset, insert_rows, make_dataset

START, END = NOW - timedelta(days=7), NOW
PREVIOUS = NOW - timedelta(days=14)
ALL = list(SURVEYS)
LOW = {"support_csat": 3}  # an override; the others use the SPEC defaults
LOW_AT = {"support_csat": 3, "onboarding_ces": 3, "relationship_nps": 6}
THEMES = {"billing": ["invoice", "refund", "charge"], "percent": ["%"], "none": ["zzz"]}


@pytest.fixture
def seeded(database: Database) -> tuple[Engine, Dataset]:
    engine = database.engine
    data = make_dataset(600)
    insert_rows(engine, data)
    return engine, data


def counted(data: Dataset, start: datetime, end: datetime) -> list[dict[str, Any]]:
    return [r for r in data.responses if r["counted"] and start <= r["received_at"] < end]


def expected_counts(rows: list[dict[str, Any]], key: Callable[[dict[str, Any]], Any]) -> dict:
    found: dict[tuple[str, Any], Counter[str]] = defaultdict(Counter)
    favourable = {"csat": 4, "ces": 5, "nps": 9}
    for r in rows:
        c = found[(r["survey"], key(r))]
        score, metric = r["score"], r["metric"]
        c["n"] += 1
        c["score_sum"] += score
        c["top"] += score >= favourable[metric]
        c["middle"] += metric == "nps" and 7 <= score <= 8
        c["bottom"] += metric == "nps" and score <= 6
        c["low"] += score <= LOW_AT[r["survey"]]
    return {k: dict(v) for k, v in found.items()}


def actual_counts(rows: list[Any], period: str = "current") -> dict:
    fields = ("n", "score_sum", "top", "middle", "bottom", "low")
    return {
        (r.survey, r.group): {f: getattr(r, f) for f in fields if getattr(r, f)}
        for r in rows
        if r.period == period
    }


def nonzero(expected: dict) -> dict:
    return {k: {f: v for f, v in c.items() if v} for k, c in expected.items()}


def property_of(data: Dataset, name: str) -> Callable[[dict[str, Any]], Any]:
    properties = {s["id"]: e["properties"] for s, e in zip(data.sends, data.events, strict=True)}

    def key(r: dict[str, Any]) -> Any:
        value = properties[r["send_id"]].get(name)
        return None if value is None else str(value)

    return key


def test_overall_counts_match_the_rows(seeded: tuple[Engine, Dataset]) -> None:
    db, data = seeded
    with db.connect() as conn:
        rows = survey_metrics(conn, surveys=ALL, start=START, end=END, low_thresholds=LOW)
    expected = expected_counts(counted(data, START, END), lambda r: None)
    assert actual_counts(rows) == nonzero(expected)
    assert sum(r.n for r in rows) > 100  # the seed really fills the window


@pytest.mark.parametrize("path", ["properties.team", "properties.agent", "channel"])
def test_grouped_counts_match_the_rows(seeded: tuple[Engine, Dataset], path: str) -> None:
    db, data = seeded
    key = (lambda r: r["channel"]) if path == "channel" else property_of(data, path.split(".")[1])
    with db.connect() as conn:
        rows = survey_metrics(conn, surveys=ALL, start=START, end=END, group_by=path, low_thresholds=LOW)
    assert actual_counts(rows) == nonzero(expected_counts(counted(data, START, END), key))


def test_previous_window_comes_in_the_same_query(seeded: tuple[Engine, Dataset]) -> None:
    db, data = seeded
    with db.connect() as conn:
        rows = survey_metrics(
            conn,
            surveys=["support_csat"],
            start=START,
            end=END,
            low_thresholds=LOW,
            group_by="properties.team",
            previous_start=PREVIOUS,
        )
    team = property_of(data, "team")
    before = [r for r in counted(data, PREVIOUS, START) if r["survey"] == "support_csat"]
    now = [r for r in counted(data, START, END) if r["survey"] == "support_csat"]
    assert actual_counts(rows, "previous") == nonzero(expected_counts(before, team))
    assert actual_counts(rows, "current") == nonzero(expected_counts(now, team))


def test_unknown_group_by_is_refused(seeded: tuple[Engine, Dataset]) -> None:
    db, _ = seeded
    with db.connect() as conn, pytest.raises(ValueError, match="cannot be grouped by"):
        survey_metrics(conn, surveys=ALL, start=START, end=END, group_by="agent")
    with db.connect() as conn, pytest.raises(ValueError, match="property name"):
        survey_metrics(conn, surveys=ALL, start=START, end=END, group_by="properties.a'b")


def test_response_rate_counts_sends_that_left(seeded: tuple[Engine, Dataset]) -> None:
    db, data = seeded
    answered = {r["send_id"] for r in data.responses if r["counted"]}
    left: Counter[str] = Counter()
    responded: Counter[str] = Counter()
    for s in data.sends:
        if s["status"] in ("sent", "delivered", "undelivered") and START <= s["sent_at"] < END:
            left[s["survey"]] += 1
            responded[s["survey"]] += s["id"] in answered
    with db.connect() as conn:
        rows = send_counts(conn, surveys=ALL, start=START, end=END)
    assert {r.survey: (r.left, r.responded) for r in rows} == {s: (left[s], responded[s]) for s in left}


def test_holds_by_reason_come_from_suppressed_decisions(seeded: tuple[Engine, Dataset]) -> None:
    db, data = seeded
    expected = Counter(
        (d["survey"], d["reason"] or "unknown")
        for d in data.decisions
        if d["outcome"] == "suppressed" and START <= d["decided_at"] < END
    )
    with db.connect() as conn:
        rows = holds_by_reason(conn, surveys=ALL, start=START, end=END)
    assert {(r.survey, r.reason): r.count for r in rows} == dict(expected)
    assert [r.count for r in rows] == sorted((r.count for r in rows), reverse=True)


def test_latest_low_score_comments_newest_first(seeded: tuple[Engine, Dataset]) -> None:
    db, data = seeded
    low = [r for r in counted(data, START, END) if r["score"] <= LOW_AT[r["survey"]] and r["comment"]]
    latest = sorted(low, key=lambda r: r["received_at"], reverse=True)[:5]
    with db.connect() as conn:
        rows = low_score_comments(conn, surveys=ALL, start=START, end=END, low_thresholds=LOW)
    assert [(r.survey, r.score, r.comment, r.received_at) for r in rows] == [
        (r["survey"], r["score"], r["comment"], r["received_at"]) for r in latest
    ]


def test_comment_themes_count_keywords_among_low_scores(seeded: tuple[Engine, Dataset]) -> None:
    db, data = seeded
    low = [r for r in counted(data, START, END) if r["score"] <= LOW_AT[r["survey"]]]
    with db.connect() as conn:
        rows = comment_themes(conn, surveys=ALL, start=START, end=END, themes=THEMES, low_thresholds=LOW)
    got = {r.survey: r for r in rows}
    assert set(got) == {r["survey"] for r in low}
    for survey, row in got.items():
        mine = [r for r in low if r["survey"] == survey]
        assert row.low_total == len(mine)
        assert row.low_commented == sum(bool(r["comment"]) for r in mine)
        for theme, words in THEMES.items():
            hits = sum(any(w in (r["comment"] or "").lower() for w in words) for r in mine)
            assert row.themes[theme] == hits, (survey, theme)
    assert any(row.themes["billing"] for row in got.values())


def test_daily_series_follows_the_given_day_boundaries(seeded: tuple[Engine, Dataset]) -> None:
    db, data = seeded
    london = ZoneInfo("Europe/London")
    first = datetime(2026, 11, 15, tzinfo=london)
    days = [first + timedelta(days=i) for i in range(8)]
    with db.connect() as conn:
        rows = daily_series(conn, surveys=["relationship_nps"], days=days, end=END)
    expected: Counter[tuple[datetime, str]] = Counter()
    for r in counted(data, days[0], END):
        if r["survey"] == "relationship_nps":
            day = datetime.combine(r["received_at"].astimezone(london).date(), datetime.min.time())
            day = day.replace(tzinfo=london)
            expected[(day, "n")] += 1
            expected[(day, "top")] += r["score"] >= 9
            expected[(day, "bottom")] += r["score"] <= 6
    got: Counter[tuple[datetime, str]] = Counter()
    for row in rows:
        got[(row.day, "n")] += row.n
        got[(row.day, "top")] += row.top
        got[(row.day, "bottom")] += row.bottom
    assert +got == +expected


def test_several_breakdowns_in_one_statement_agree_with_one_each(
    seeded: tuple[Engine, Dataset],
) -> None:
    db, _ = seeded
    paths = [None, "properties.team", "properties.agent", "channel"]
    window = {"surveys": ALL, "start": START, "end": END, "low_thresholds": LOW}
    with db.connect() as conn:
        together = digest_metrics(conn, **window, group_bys=paths, previous_start=PREVIOUS)  # type: ignore[arg-type]
        alone = [
            row
            for path in paths
            for row in survey_metrics(conn, **window, group_by=path, previous_start=PREVIOUS)  # type: ignore[arg-type]
        ]
    assert sorted(together, key=repr) == sorted(alone, key=repr)


def test_a_response_whose_event_was_purged_still_counts(database: Database) -> None:
    engine = database.engine
    data = make_dataset(200)
    data.events = data.events[::2]  # retention removed every other event
    insert_rows(engine, data)
    with engine.connect() as conn:
        rows = survey_metrics(
            conn, surveys=ALL, start=START, end=END, group_by="properties.team", low_thresholds=LOW
        )
    assert sum(r.n for r in rows) == len(counted(data, START, END))
