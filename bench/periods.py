"""Time the journey by period (`surveybot stats --by`) over a million responses beside one
hand-written SQL of the same numbers, in the same run.

    python -m bench.periods [--backend sqlite|postgresql|both] [--responses 1000000]
                            [--span-days 365] [--repeat 5] [--quick]

`--quick` is 100,000 responses, best of 3.

Loads `--responses` responses (each with its send and event, as bench/digest_compute.py does)
spread evenly over `--span-days` before NOW, builds the rollups, then times on warm caches, best
of `--repeat`, for months (12) and ISO weeks (52), cut at midnight UTC and at midnight
Asia/Kolkata (+05:30: every boundary falls inside an hour, so those hours are read from rows),
with the end 17 minutes past an hour (a partial hour at the end, as "now" is):
  - library: `build_journey`, the whole view (three stages, the CX index with its interval);
  - hand: one hand-written SQL over the response rows bucketing each into its period (a CASE
    over the period starts) and counting n, favourable, passives and detractors per survey;
checks that both give the same n and value per survey and period, and prints the times and
library / hand-written.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, text

from bench.digest_compute import NOW, load_postgres, load_sqlite, on_each_backend
from bot.config import Config, parse_config
from bot.metrics.journey import JourneyReport, build_journey
from bot.metrics.periods import PeriodKind
from storage.rollups import rebuild_rollups

CONFIG = """
surveys:
  support_csat: {metric: csat, question: {sms: "Rate us 1-5"}}
  onboarding_ces: {metric: ces, question: {sms: "Was it easy? 1-7"}}
  relationship_nps: {metric: nps, question: {sms: "Recommend us? 0-10"}}
journey:
  - {stage: onboard, surveys: [onboarding_ces]}
  - {stage: support, surveys: [support_csat]}
  - {stage: loyalty, surveys: [relationship_nps]}
index:
  weights: {support_csat: 0.4, onboarding_ces: 0.2, relationship_nps: 0.4}
"""
CASES: list[tuple[PeriodKind, int, str]] = [
    ("month", 12, "UTC"),
    ("week", 52, "UTC"),
    ("month", 12, "Asia/Kolkata"),
    ("week", 52, "Asia/Kolkata"),
]
END = NOW + timedelta(minutes=17)


def library(conn: Connection, config: Config, kind: PeriodKind, count: int, zone: str) -> JourneyReport:
    return build_journey(conn, config=config, kind=kind, end=END, timezone=zone, count=count)


def library_numbers(report: JourneyReport) -> list[tuple[str, int, int, float]]:
    return sorted(
        (row.survey, i, e.n, round(e.value, 9))
        for row in report.rows
        for i, e in enumerate(row.estimates)
        if e is not None
    )


def hand_sql(bounds: int) -> str:
    """The period of each response by a CASE over the starts, then the counts per survey."""
    whens = " ".join(f"WHEN r.received_at < :b{i + 1} THEN {i}" for i in range(bounds - 1))
    bucket = f"CASE {whens} ELSE {bounds - 1} END" if whens else "0"
    return f"""
    SELECT r.survey, {bucket} AS period, count(*) AS n,
      sum(CASE WHEN (r.metric = 'csat' AND r.score >= 4) OR (r.metric = 'ces' AND r.score >= 5)
                 OR (r.metric = 'nps' AND r.score >= 9) THEN 1 ELSE 0 END) AS top,
      sum(CASE WHEN r.metric = 'nps' AND r.score <= 6 THEN 1 ELSE 0 END) AS bottom,
      min(r.metric) AS metric
    FROM responses r
    WHERE r.survey IN ('support_csat', 'onboarding_ces', 'relationship_nps') AND r.counted
      AND r.received_at >= :b0 AND r.received_at < :end
    GROUP BY r.survey, {bucket}
    """


def hand_numbers(conn: Connection, starts: list[datetime]) -> list[tuple[str, int, int, float]]:
    def param(value: datetime) -> object:
        if conn.dialect.name == "sqlite":
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    values = {f"b{i}": param(start) for i, start in enumerate(starts)} | {"end": param(END)}
    rows = conn.execute(text(hand_sql(len(starts))), values)
    return sorted(
        (r.survey, int(r.period), int(r.n), round(_value(r.metric, r.n, r.top, r.bottom), 9)) for r in rows
    )


def _value(metric: str, n: int, top: int, bottom: int) -> float:
    return 100 * (int(top) - int(bottom)) / n if metric == "nps" else 100 * int(top) / n


def best_of(repeat: int, run: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - began)
    return min(times), result


def measure(name: str, engine: Engine, repeat: int) -> None:
    began = time.perf_counter()
    with engine.begin() as conn:
        rebuild_rollups(conn)
    print(f"{name}: rollups built in {time.perf_counter() - began:.1f} s")
    config = parse_config(CONFIG, environ={})
    with engine.connect() as conn:
        for kind, count, zone in CASES:
            lib_time, report = best_of(repeat, lambda: library(conn, config, kind, count, zone))  # noqa: B023
            starts = [p.start for p in report.periods]
            hand_time, hand = best_of(repeat, lambda: hand_numbers(conn, starts))  # noqa: B023
            assert library_numbers(report) == hand, (
                f"{kind} {zone}: the library and the hand-written SQL disagree"
            )
            answered = sum(n for _, _, n, _ in hand)
            print(
                f"{name}: {count} {kind}s at midnight {zone}, {answered:,} responses: library (rollups) "
                f"{lib_time * 1000:.0f} ms, hand-written SQL (rows) {hand_time * 1000:.0f} ms; "
                f"library / hand-written {lib_time / hand_time:.3f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--span-days", type=float, default=365)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="100,000 responses, best of 3")
    args = parser.parse_args()
    if args.quick:
        args.responses, args.repeat = 100_000, 3
    span = timedelta(days=args.span_days)
    on_each_backend(
        args.backend,
        lambda path: load_sqlite(path, args.responses, span),
        lambda schema: load_postgres(schema, args.responses, span),
        lambda name, engine: measure(name, engine, args.repeat),
    )


if __name__ == "__main__":
    main()
