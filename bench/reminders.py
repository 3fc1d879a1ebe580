"""Time reminders: sending them, and the response rates of first asks and of reminders.

    python -m bench.reminders [--backend sqlite|postgresql|both] [--reminders 2000] [--sends 200000]

- dispatch: `--reminders` sends go out through a log channel, a day passes on a fake clock, and
  one `ReminderDispatcher.run_once()` re-checks and sends every reminder; prints reminders/s.
- rates: `--sends` sends over 7 days (half reminded, a third answered, some after their
  reminder) loaded straight into the tables; times `reminder_rates` over the 7-day window, best
  of 5, on warm caches.
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import text

from bot.app import build_services
from bot.channels.log import LogChannel
from bot.config import parse_config
from bot.runtime.clock import FakeClock
from storage.db import Database
from storage.migrate import create_schema
from storage.models import SQLModel
from storage.reminders import raw_reminder_rates, reminder_rates
from storage.rollups import rebuild_every_rollup

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
CONFIG: dict[str, Any] = {
    "server": {"secret_key": "bench"},
    "surveys": {
        "csat": {
            "metric": "csat",
            "question": {"sms": "Rate us 1-5, {{ contact.name }}"},
            "reminder": {"after": "24h"},
        },
    },
    "triggers": [{"name": "t", "on": "ticket.solved", "survey": "csat", "channels": ["sms"]}],
    "throttle": {
        "quiet_hours": None,
        "daily_cap": None,
        "max_per_contact": None,
        "contact_cooldown": "0s",
        "survey_cooldown": "0s",
    },
    "dispatch": {"batch_size": 200},
}


def fresh_database(backend: str, folder: Path, name: str) -> Database:
    if backend == "sqlite":
        db = Database(f"sqlite:///{folder / name}.db")
    else:
        db = Database(PG_URL + "?options=-csearch_path%3Dbench_reminders")
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS bench_reminders CASCADE"))
            conn.execute(text("CREATE SCHEMA bench_reminders"))
    create_schema(db)
    return db


def time_dispatch(db: Database, count: int, folder: Path) -> tuple[float, float]:
    """Seconds to send `count` first asks, then seconds to re-check and send their reminders."""
    raw = copy.deepcopy(CONFIG) | {"storage": {"url": db.url}}
    config = parse_config(orjson.dumps(raw).decode())
    clock = FakeClock(NOW)
    channel = LogChannel("sms", folder / "sms.jsonl")
    services = build_services(config, db=db, clock=clock, channels={"sms": channel, "email": channel})
    events = [
        {
            "id": f"e{i}",
            "type": "ticket.solved",
            "contact": {"id": f"c{i}", "phone": f"+1415{5_550_000 + i:07d}"},
        }
        for i in range(count)
    ]
    for start in range(0, count, 1000):
        services.ingestor.ingest(events[start : start + 1000])
    started = time.perf_counter()
    while services.dispatcher.run_once():
        pass
    first = time.perf_counter() - started
    clock.advance(timedelta(days=1))
    assert services.reminders is not None
    started = time.perf_counter()
    sent = services.reminders.run_once()
    elapsed = time.perf_counter() - started
    assert sent == count, sent
    return first, elapsed


def load_rates_rows(db: Database, count: int) -> None:
    sends, reminders, responses = [], [], []
    step = timedelta(days=7) / count
    for i in range(count):
        at = NOW - timedelta(days=7) + i * step
        sends.append({"id": f"s{i}", "event_pk": f"e{i}", "trigger": "t", "survey": "csat", "metric": "csat",
                      "contact_id": f"c{i}", "channel": "sms", "status": "sent", "attempts": 1, "due_at": at,
                      "created_at": at, "updated_at": at, "sent_at": at, "test": False})  # fmt: skip
        if i % 2:
            sent = at + timedelta(days=1)
            reminders.append({"send_id": f"s{i}", "status": "sent", "attempts": 1, "due_at": sent,
                              "created_at": at, "updated_at": sent, "sent_at": sent})  # fmt: skip
        if i % 3 == 0:
            answered = at + (timedelta(hours=30) if i % 2 else timedelta(hours=2))
            responses.append({"send_id": f"s{i}", "contact_id": f"c{i}", "survey": "csat", "metric": "csat",
                              "channel": "sms", "score": 4, "counted": True, "received_at": answered,
                              "updated_at": answered})  # fmt: skip
    tables = SQLModel.metadata.tables
    with db.write() as conn:
        for name, rows in (("sends", sends), ("reminders", reminders), ("responses", responses)):
            for start in range(0, len(rows), 5000):
                conn.execute(tables[name].insert(), rows[start : start + 5000])
        rebuild_every_rollup(conn)  # loaded past the writers: built as `surveybot rollups rebuild` does


def time_rates(db: Database, count: int, *, raw: bool = False) -> tuple[float, Any]:
    """Best of 5 of `reminder_rates` (rollups), or `raw_reminder_rates` (the rows alone)."""
    rates = raw_reminder_rates if raw else reminder_rates
    best, rows = float("inf"), None
    for _ in range(5):
        started = time.perf_counter()
        with db.read() as conn:
            rows = rates(conn, surveys=["csat"], start=NOW - timedelta(days=7), end=NOW + timedelta(days=1))
        best = min(best, time.perf_counter() - started)
    return best, rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--reminders", type=int, default=2000)
    parser.add_argument("--sends", type=int, default=200_000)
    args = parser.parse_args()
    for backend in ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]:
        with tempfile.TemporaryDirectory() as folder:
            db = fresh_database(backend, Path(folder), "dispatch")
            first, elapsed = time_dispatch(db, args.reminders, Path(folder))
            n = args.reminders
            print(f"{backend}: {n} first asks sent in {first:.2f}s ({n / first:,.0f}/s); their reminders "
                  f"re-checked and sent in {elapsed:.2f}s ({n / elapsed:,.0f}/s)")  # fmt: skip
            db.dispose()
            db = fresh_database(backend, Path(folder), "rates")
            load_rates_rows(db, args.sends)
            best, rows = time_rates(db, args.sends)
            rows_best, raw_rows = time_rates(db, args.sends, raw=True)
            assert rows == raw_rows, "the rollups and the rows disagree"
            print(f"{backend}: rates over {args.sends:,} sends: {best * 1000:.0f} ms from rollups, "
                  f"{rows_best * 1000:.0f} ms from the rows, ratio {best / rows_best:.3f}, "
                  f"best of 5: {rows}")  # fmt: skip
            db.dispose()


if __name__ == "__main__":
    main()
