"""Time `stats --outcomes --churn month` over a million responses and a million outcome events:
the kept follow-ups and their rollups (bot/metrics/outcomes.py) beside hand-written SQL.

    python -m bench.outcomes [--backend sqlite|postgresql|both] [--responses 1000000]
                             [--events 1000000] [--repeat 5] [--quick]

`--quick` is 100,000 of each, best of 3.

Loads `--responses` answered sends (and a fifth more unanswered) spread over the year before
NOW for three surveys (CSAT, CES, NPS), and `--events` events of the outcome types (order.placed,
subscription.started, subscription.cancelled) over the 400 days before NOW, for 200,000
contacts; builds the follow-ups as `surveybot rollups rebuild` does (timed), then times, on warm
caches, best of `--repeat`:
  - library: `outcome_report` for both outcomes (churn 90d, repeat 60d) and every survey, the
    cohort of the year before NOW, with churn per calendar month: what `stats --outcomes
    --churn month` prints;
  - hand: hand-written SQL over the rows (sends, responses, events) returning the same numbers:
    per outcome, survey and score, the follow-ups whose horizon passed and how many of them had
    the outcome (an EXISTS probe on the events' contact index), and churn's customers per month;
checks both give identical numbers, and prints the times and library / hand-written.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, text

import storage.models  # noqa: F401 - registers the tables
from bench.digest_compute import on_each_backend, write_postgres, write_sqlite
from bot.config import Config, parse_config
from bot.metrics.outcomes import OutcomeReport, calendar_periods, outcome_report
from storage.outcomes import rebuild_outcomes
from triggers.follow_ups import follow_ups, score_band

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
YEAR = timedelta(days=365)
SURVEYS = {"support_csat": ("csat", 1, 5), "onboarding_ces": ("ces", 1, 7),
           "relationship_nps": ("nps", 0, 10)}  # fmt: skip
OUTCOMES = {
    "churn": {"on": "subscription.cancelled", "within": "90d", "base": ["subscription.started"]},
    "repeat": {"on": "order.placed", "within": "60d"},
}
TYPES = ["order.placed", "order.placed", "subscription.started", "subscription.cancelled"]
CONTACTS = 200_000
EVENT_COLS = "pk, type, contact_id, occurred_at, received_at, properties, source"
SEND_COLS = ("id, event_pk, trigger, survey, metric, contact_id, channel, status, attempts, due_at, "
             "created_at, updated_at, sent_at")  # fmt: skip
RESPONSE_COLS = "send_id, contact_id, survey, metric, channel, score, counted, received_at, updated_at"


def bench_config() -> Config:
    surveys = {
        name: {"metric": metric, "question": {"sms": "Rate us"}} for name, (metric, _, _) in SURVEYS.items()
    }
    return parse_config(orjson.dumps({"surveys": surveys, "outcomes": OUTCOMES}).decode())


def generate(responses: int, events: int, seed: int = 1) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """("sends"|"responses"|"events", row) tuples."""
    rng = random.Random(seed)
    names = list(SURVEYS)
    total = responses + responses // 5
    step = YEAR.total_seconds() / total
    for i in range(total):
        survey = names[i % 3]
        metric, low, high = SURVEYS[survey]
        at = NOW - YEAR + timedelta(seconds=i * step)
        contact = f"c{rng.randrange(CONTACTS)}"
        yield "sends", (f"s{i}", f"e{i}", f"t_{survey}", survey, metric, contact, "email", "delivered", 1,
                        at, at, at, at)  # fmt: skip
        if i % 6 != 5:
            got = at + timedelta(minutes=rng.randrange(1, 600))
            yield (
                "responses",
                (f"s{i}", contact, survey, metric, "email", rng.randint(low, high), True, got, got),
            )
    for i in range(events):
        at = NOW - timedelta(seconds=rng.randrange(400 * 86400))
        yield "events", (f"x{i}", rng.choice(TYPES), f"c{rng.randrange(CONTACTS)}", at, at, "{}", "api")


TABLES = {"events": EVENT_COLS, "sends": SEND_COLS, "responses": RESPONSE_COLS}


def load_sqlite(path: Path, responses: int, events: int) -> Engine:
    return write_sqlite(path, TABLES, generate(responses, events))


def load_postgres(schema: str, responses: int, events: int) -> Engine:
    return write_postgres(schema, TABLES, generate(responses, events))


# --- the two ways to the numbers ---------------------------------------------------------------


def library_numbers(conn: Connection, config: Config, months: list[tuple[datetime, datetime]]) -> list[Any]:
    report = outcome_report(conn, config=config, end=NOW, cohort=YEAR, churn_periods_=months)
    return flatten(report)


def flatten(report: OutcomeReport) -> list[Any]:
    bands = [
        (s.outcome, s.survey, b.band, b.n, b.done) for s in report.sections for b in [*s.bands, s.no_answer]
    ]
    churn = [(p.customers, p.lost) for p in report.churn or []]
    return [sorted(bands), churn]


def plus(dialect: str, column: str, seconds: int) -> str:
    if dialect == "postgresql":
        return f"{column} + interval '{seconds} seconds'"
    return f"strftime('%Y-%m-%d %H:%M:%f', {column}, '+{seconds} seconds') || substr({column}, 24, 3)"


def hand_sql(dialect: str, on: str, seconds: int) -> str:
    since = "COALESCE(r.received_at, s.sent_at)"
    counted = "r.counted" if dialect == "postgresql" else "r.counted = 1"
    test = "NOT s.test" if dialect == "postgresql" else "s.test = 0"
    return f"""
        SELECT s.survey, COALESCE(r.score, -1) AS score, COUNT(*) AS n,
               SUM(CASE WHEN EXISTS (
                   SELECT 1 FROM events e
                   WHERE e.contact_id = s.contact_id AND e.type = '{on}'
                     AND e.occurred_at > {since} AND e.occurred_at <= {plus(dialect, since, seconds)}
               ) THEN 1 ELSE 0 END) AS done
        FROM sends s LEFT JOIN responses r ON r.send_id = s.id AND {counted}
        WHERE s.status IN ('sent', 'delivered', 'undelivered') AND {test} AND s.sent_at IS NOT NULL
          AND {since} >= :start AND {since} <= :cut
        GROUP BY s.survey, COALESCE(r.score, -1)
    """


def churn_sql(months: list[tuple[datetime, datetime]]) -> str:
    columns = []
    for i in range(len(months)):
        columns.append(f"COUNT(*) FILTER (WHERE started < :a{i} AND (churned IS NULL OR churned >= :a{i}))")
        columns.append(f"COUNT(*) FILTER (WHERE started < :a{i} AND churned >= :a{i} AND churned < :b{i})")
    return f"""
        WITH firsts AS (
            SELECT contact_id,
                   MIN(CASE WHEN type = 'subscription.started' THEN occurred_at END) AS started,
                   MIN(CASE WHEN type = 'subscription.cancelled' THEN occurred_at END) AS churned
            FROM events WHERE type IN ('subscription.started', 'subscription.cancelled')
            GROUP BY contact_id
        )
        SELECT {", ".join(columns)} FROM firsts WHERE started IS NOT NULL
    """


def hand_numbers(conn: Connection, config: Config, months: list[tuple[datetime, datetime]]) -> list[Any]:
    dialect = conn.dialect.name

    def param(value: datetime) -> object:
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if dialect == "sqlite" else value

    bands: Counter[tuple[str, str, str]] = Counter()
    dones: Counter[tuple[str, str, str]] = Counter()
    for name, outcome in config.outcomes.items():
        seconds = int(outcome.within.total_seconds())
        cut = NOW - outcome.within
        rows = conn.execute(
            text(hand_sql(dialect, outcome.on, seconds)), {"start": param(NOW - YEAR), "cut": param(cut)}
        )
        for survey, score, n, done in rows:
            settings = config.surveys[survey]
            band = (
                "no_answer"
                if score == -1
                else score_band(settings.metric, score, settings.low_score_threshold)
            )
            bands[(name, survey, band)] += n
            dones[(name, survey, band)] += done
    every = [
        (o, s, b)
        for o in config.outcomes
        for s in config.surveys
        for b in ("low", "middle", "high", "no_answer")
    ]
    flat = sorted((o, s, b, bands[(o, s, b)], dones[(o, s, b)]) for o, s, b in every)
    params = {f"{k}{i}": param(t) for i, (a, b) in enumerate(months) for k, t in (("a", a), ("b", b))}
    row = conn.execute(text(churn_sql(months)), params).one()
    return [flat, [(row[2 * i], row[2 * i + 1]) for i in range(len(months))]]


# --- running -----------------------------------------------------------------------------------


def best_of(repeat: int, run: Callable[[], list[Any]]) -> tuple[float, list[Any]]:
    times, result = [], []
    for _ in range(repeat):
        began = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - began)
    return min(times), result


def measure(name: str, engine: Engine, repeat: int) -> None:
    config = bench_config()
    began = time.perf_counter()
    with engine.begin() as conn:
        links = rebuild_outcomes(conn, follow_ups(config.outcomes), NOW)
    print(f"{name}: {links:,} follow-ups built in {time.perf_counter() - began:.1f} s")
    months = calendar_periods(NOW, YEAR, "month", "UTC")
    with engine.connect() as conn:
        lib_time, lib = best_of(repeat, lambda: library_numbers(conn, config, months))
        hand_time, hand = best_of(repeat, lambda: hand_numbers(conn, config, months))
    assert lib == hand, f"the kept follow-ups and the hand-written SQL disagree:\n{lib}\n{hand}"
    followed = sum(row[3] for row in lib[0])
    print(
        f"{name}: {followed:,} follow-ups in the cohorts, {len(months)} months of churn; "
        f"library (kept follow-ups, rollups) {lib_time * 1000:.0f} ms, hand-written SQL (rows) "
        f"{hand_time * 1000:.0f} ms; library / hand-written {lib_time / hand_time:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="100,000 of each, best of 3")
    args = parser.parse_args()
    if args.quick:
        args.responses, args.events, args.repeat = 100_000, 100_000, 3
    on_each_backend(
        args.backend,
        lambda path: load_sqlite(path, args.responses, args.events),
        lambda schema: load_postgres(schema, args.responses, args.events),
        lambda name, engine: measure(name, engine, args.repeat),
    )


if __name__ == "__main__":
    main()
