"""Time a whole digest over a million responses: from rollups, from the rows, and hand-written SQL.

    python -m bench.digest_compute [--backend sqlite|postgresql|both] [--responses 1000000]
                                   [--span-days 28] [--window-days 7] [--repeat 5]
                                   [--end-minutes 0] [--quick]

`--quick` is 100,000 responses, best of 3: a minute instead of several.

Loads `--responses` responses (each with its send and event; a fifth more sends go unanswered,
a seventh of the sends have a reminder that left, every fourth event also has a decision that
held a survey back) spread evenly over `--span-days` before NOW, registers the digest's group-by
paths and theme keyword sets and builds every rollup (timed), then times, on warm caches, best
of `--repeat`, the window ending `--end-minutes` after NOW (0: on a whole hour; otherwise the
partial hours are read from rows), all the queries `build_digest_report` issues:
  - library: from rollups: `digest_metrics` (overall and by properties.team, properties.agent and
    channel, with the previous window), `send_counts`, `comment_themes`, `holds_by_reason`,
    `reminder_rates` and each survey's `low_score_comments`;
  - rows: the same numbers from the rows alone (`raw_digest_metrics`, `raw_send_counts`, ...);
  - hand: hand-written SQL statements over the rows returning the same numbers;
checks that the three agree, and prints the times and the ratios library / rows and / hand.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, text
from sqlmodel import SQLModel

import storage.models  # noqa: F401 - registers the tables
from bench.digest_hand import hand_rest
from storage.metrics import (
    comment_themes,
    digest_metrics,
    holds_by_reason,
    low_score_comments,
    raw_comment_themes,
    raw_digest_metrics,
    raw_holds_by_reason,
    raw_send_counts,
    send_counts,
)
from storage.reminders import raw_reminder_rates, reminder_rates
from storage.rollups import rebuild_every_rollup, sync_paths
from storage.theme_rollups import sync_themes

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SURVEYS = {"support_csat": ("csat", 1, 5), "onboarding_ces": ("ces", 1, 7),
           "relationship_nps": ("nps", 0, 10)}  # fmt: skip
GROUPS = ("properties.team", "properties.agent", "channel")
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
THEMES = {"money": ["refund"], "speed": ["slow"]}
HOLD_REASONS = ("cooldown", "quiet_hours", "sampled_out", "daily_cap")


Row = tuple[tuple, tuple, tuple | None, tuple | None, tuple | None]


def generate(count: int, span: timedelta, seed: int = 1) -> Iterator[Row]:
    """(event, send, response, reminder, decision) tuples, the last three may be None: about
    1 in 6 sends has no response, 1 in 7 a reminder that left, 1 in 4 events a held decision."""
    rng = random.Random(seed)
    teams = ["billing", "shipping", "tech", "sales", "returns", "vip"]
    agents = [f"agent{i:02d}" for i in range(60)]
    names = list(SURVEYS)
    total = count + count // 5
    step = span.total_seconds() / total
    for i in range(total):
        survey = names[i % 3]
        metric, low, high = SURVEYS[survey]
        at = NOW - span + timedelta(seconds=i * step)
        props = json.dumps({"team": rng.choice(teams), "agent": rng.choice(agents)})
        channel = "sms" if i % 2 else "email"
        event = (f"e{i}", "ticket.solved", f"c{i % 100000}", at, at, props, "api")
        send = (f"s{i}", f"e{i}", f"t_{survey}", survey, metric, f"c{i % 100000}", channel,
                "delivered", 1, at, at, at, at)  # fmt: skip
        response = None
        if i % 6 != 5:
            got = at + timedelta(minutes=5)
            comment = rng.choice(["slow", "refund please", None, "great", None])
            response = (f"s{i}", f"c{i % 100000}", survey, metric, channel,
                        rng.randint(low, high), comment, True, got, got)  # fmt: skip
        reminder = None
        if i % 7 == 3:
            reminded = at + timedelta(minutes=2)
            reminder = (f"s{i}", "sent", 1, reminded, reminded, reminded, reminded)
        decision = None
        if i % 4 == 1:
            outcome = "cancelled" if i % 20 == 1 else "suppressed"
            decision = (f"e{i}", f"c{i % 100000}", f"t_{survey}", survey, outcome,
                        HOLD_REASONS[i % len(HOLD_REASONS)], at)  # fmt: skip
        yield event, send, response, reminder, decision


EVENT_COLS = "pk, type, contact_id, occurred_at, received_at, properties, source"
SEND_COLS = ("id, event_pk, trigger, survey, metric, contact_id, channel, status, attempts, due_at, "
             "created_at, updated_at, sent_at")  # fmt: skip
RESPONSE_COLS = ("send_id, contact_id, survey, metric, channel, score, comment, counted, "
                 "received_at, updated_at")  # fmt: skip
REMINDER_COLS = "send_id, status, attempts, due_at, created_at, updated_at, sent_at"
DECISION_COLS = "event_pk, contact_id, trigger, survey, outcome, reason, decided_at"
TABLES = {"events": EVENT_COLS, "sends": SEND_COLS, "responses": RESPONSE_COLS,
          "reminders": REMINDER_COLS, "decisions": DECISION_COLS}  # fmt: skip


def load_sqlite(path: Path, count: int, span: timedelta) -> Engine:
    return write_sqlite(path, TABLES, _by_table(generate(count, span)))


def load_postgres(schema: str, count: int, span: timedelta) -> Engine:
    return write_postgres(schema, TABLES, _by_table(generate(count, span)))


def _by_table(generated: Iterable[Row]) -> Iterator[tuple[str, tuple]]:
    for rows in generated:
        yield from ((name, row) for name, row in zip(TABLES, rows, strict=True) if row)


def on_each_backend(
    backend: str,
    load_sqlite: Callable[[Path], Engine],
    load_postgres: Callable[[str], Engine],
    measure: Callable[[str, Engine], None],
) -> None:
    """Load, then measure, on SQLite (a file in a temporary folder) and/or PostgreSQL (a new
    schema, dropped after), as `backend` says (`sqlite`, `postgresql` or `both`)."""
    if backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            began = time.perf_counter()
            engine = load_sqlite(Path(tmp) / "bench.db")
            print(f"sqlite: loaded in {time.perf_counter() - began:.1f} s")
            measure("sqlite", engine)
            engine.dispose()
    if backend in ("postgresql", "both"):
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        began = time.perf_counter()
        engine = load_postgres(schema)
        print(f"postgresql: loaded in {time.perf_counter() - began:.1f} s")
        try:
            measure("postgresql", engine)
        finally:
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            engine.dispose()


def write_sqlite(path: Path, tables: Mapping[str, str], rows: Iterable[tuple[str, tuple]]) -> Engine:
    """A new SQLite database at `path` holding `rows` ((table, row) pairs, in the columns that
    `tables` names per table), written raw, then analysed."""
    engine = create_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")

    def stamp(value: object) -> object:
        # SQLAlchemy's SQLite DateTime format, so range comparisons on text stay exact.
        if isinstance(value, datetime):
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    buffered: dict[str, list[tuple]] = {name: [] for name in tables}
    for name, row in rows:
        buffered[name].append(tuple(map(stamp, row)))
    for table, cols in tables.items():
        marks = ", ".join("?" * len(cols.split(",")))
        db.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", buffered[table])
    db.commit()
    db.execute("ANALYZE")
    db.close()
    return engine


def write_postgres(schema: str, tables: Mapping[str, str], rows: Iterable[tuple[str, tuple]]) -> Engine:
    """`write_sqlite` on PostgreSQL, in a new `schema`, by COPY."""
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    SQLModel.metadata.create_all(engine)
    buffered: dict[str, list[tuple]] = {name: [] for name in tables}
    for name, row in rows:
        buffered[name].append(row)
    raw = engine.raw_connection()
    cursor = raw.cursor()
    for name, cols in tables.items():
        with cursor.connection.cursor().copy(f"COPY {name} ({cols}) FROM STDIN") as copy:
            for row in buffered[name]:
                copy.write_row(row)
    cursor.execute("ANALYZE")
    raw.commit()
    raw.close()
    return engine


def build_rollups(engine: Engine) -> float:
    """Register the digest's paths and build every rollup from the loaded rows (as the migration
    and `surveybot rollups rebuild` do); seconds taken."""
    began = time.perf_counter()
    with engine.begin() as conn:
        sync_paths(conn, GROUPS, NOW)
        sync_themes(conn, THEMES.values(), NOW)
        rebuild_every_rollup(conn)
    return time.perf_counter() - began


def library_numbers(
    conn: Connection, start: datetime, end: datetime, previous: datetime, *, raw: bool = False
) -> list:
    compute = raw_digest_metrics if raw else digest_metrics
    rows = compute(
        conn, surveys=list(SURVEYS), start=start, end=end, group_bys=[None, *GROUPS],
        previous_start=previous,
    )  # fmt: skip
    return sorted(
        ((r.group_by, r.survey, r.group, r.period, r.n, r.score_sum, r.top, r.middle, r.bottom,
          r.low) for r in rows),
        key=repr,
    )  # fmt: skip


def hand_sql(dialect: str) -> str:
    """One statement: all four breakdowns for both windows."""
    if dialect == "postgresql":
        team, agent = "e.properties ->> 'team'", "e.properties ->> 'agent'"
    else:
        team, agent = "e.properties ->> '$.team'", "e.properties ->> '$.agent'"
    counts = """count(*), sum(score),
      sum(CASE WHEN (metric='csat' AND score>=4) OR (metric='ces' AND score>=5)
                 OR (metric='nps' AND score>=9) THEN 1 ELSE 0 END),
      sum(CASE WHEN metric='nps' AND score BETWEEN 7 AND 8 THEN 1 ELSE 0 END),
      sum(CASE WHEN metric='nps' AND score<7 THEN 1 ELSE 0 END),
      sum(CASE WHEN score <= CASE metric WHEN 'csat' THEN 2 WHEN 'ces' THEN 3 ELSE 6 END
          THEN 1 ELSE 0 END)"""
    where = """r.survey IN ('support_csat','onboarding_ces','relationship_nps')
      AND r.received_at >= :previous AND r.received_at < :end AND r.counted"""
    period = "CASE WHEN r.received_at >= :start THEN 'current' ELSE 'previous' END"
    plain = f"SELECT r.survey, r.metric, r.score, r.channel, {period} AS period FROM responses r"
    joined = (f"SELECT r.survey, r.metric, r.score, {team} AS team, {agent} AS agent, "
              f"{period} AS period FROM responses r JOIN sends s ON s.id = r.send_id "
              f"JOIN events e ON e.pk = s.event_pk")  # fmt: skip
    parts = [
        f"SELECT NULL AS g, survey, NULL AS v, period, {counts} FROM p GROUP BY survey, period",
        f"SELECT 'channel', survey, channel, period, {counts} FROM p GROUP BY survey, channel, period",
        f"SELECT 'properties.team', survey, team, period, {counts} FROM j GROUP BY survey, team, period",
        f"SELECT 'properties.agent', survey, agent, period, {counts} FROM j GROUP BY survey, agent, period",
    ]
    return (
        f"WITH p AS MATERIALIZED ({plain} WHERE {where}), "
        f"j AS MATERIALIZED ({joined} WHERE {where}) " + " UNION ALL ".join(parts)
    )


def hand_numbers(conn: Connection, start: datetime, end: datetime, previous: datetime) -> list:
    def param(value: datetime) -> object:
        if conn.dialect.name == "sqlite":
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    result = conn.execute(
        text(hand_sql(conn.dialect.name)),
        {"start": param(start), "end": param(end), "previous": param(previous)},
    )
    return sorted((tuple(int(v) if isinstance(v, int) else v for v in row) for row in result),
                  key=repr)  # fmt: skip


def rest_of_digest(conn: Connection, start: datetime, end: datetime, *, raw: bool = False) -> list:
    """What a digest reads besides the metric counts, as `build_digest_report` asks for it."""
    surveys = list(SURVEYS)
    window = {"surveys": surveys, "start": start, "end": end}
    sends, themes = (raw_send_counts, raw_comment_themes) if raw else (send_counts, comment_themes)
    holds, rates = (raw_holds_by_reason, raw_reminder_rates) if raw else (holds_by_reason, reminder_rates)
    comments = [low_score_comments(conn, surveys=[name], start=start, end=end) for name in surveys]
    return [
        sorted(map(repr, sends(conn, **window))),
        sorted(map(repr, themes(conn, **window, themes=THEMES))),
        sorted(map(repr, holds(conn, **window))),
        sorted(map(repr, rates(conn, **window))),
        [[(c.survey, c.score, c.comment, c.received_at) for c in found] for found in comments],
    ]


def best_of(repeat: int, run: Callable[[], list]) -> tuple[float, list]:
    times, result = [], []
    for _ in range(repeat):
        began = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - began)
    return min(times), result


def measure(name: str, engine: Engine, window: timedelta, repeat: int, end_minutes: float) -> None:
    print(f"{name}: rollups built in {build_rollups(engine):.1f} s")
    end = NOW + timedelta(minutes=end_minutes)
    start, previous = end - window, end - 2 * window

    def library(raw: bool) -> list:
        return [
            library_numbers(conn, start, end, previous, raw=raw),
            *rest_of_digest(conn, start, end, raw=raw),
        ]

    def hand() -> list:
        return [hand_numbers(conn, start, end, previous), *hand_rest(conn, start, end, THEMES)]

    with engine.connect() as conn:
        lib_time, lib = best_of(repeat, lambda: library(False))
        raw_time, raw = best_of(repeat, lambda: library(True))
        hand_time, by_hand = best_of(repeat, hand)
        metric_time, _ = best_of(repeat, lambda: library_numbers(conn, start, end, previous))
    assert lib == raw, "the rollups and the rows disagree"
    assert lib == by_hand, "the library and the hand-written SQL disagree"
    in_windows = sum(row[4] for row in lib[0] if row[0] is None)
    print(
        f"{name}: {in_windows:,} responses in the two windows; the whole digest: "
        f"library (rollups) {lib_time * 1000:.0f} ms, library (rows) {raw_time * 1000:.0f} ms, "
        f"hand-written SQL (rows) {hand_time * 1000:.0f} ms; library / rows {lib_time / raw_time:.3f}, "
        f"library / hand-written {lib_time / hand_time:.3f}"
    )
    print(f"{name}: of which the metric counts (rollups) {metric_time * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--span-days", type=float, default=28)
    parser.add_argument("--window-days", type=float, default=7)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--end-minutes", type=float, default=0, help="end the window this long after NOW")
    parser.add_argument("--quick", action="store_true", help="100,000 responses, best of 3")
    args = parser.parse_args()
    if args.quick:
        args.responses, args.repeat = 100_000, 3
    span, window = timedelta(days=args.span_days), timedelta(days=args.window_days)
    on_each_backend(
        args.backend,
        lambda path: load_sqlite(path, args.responses, span),
        lambda schema: load_postgres(schema, args.responses, span),
        lambda name, engine: measure(name, engine, window, args.repeat, args.end_minutes),
    )


if __name__ == "__main__":
    main()
