"""The policy at scale, each figure beside a baseline measured in the same run.

    python bench/policy.py [--history 5000000] [--events 20000] [--simulate 1000000]

1. ingestion throughput (Ingestor.ingest, batches of 1,000, cooldowns and caps on) into a
   SQLite database already holding 10,000 sends (the baseline) and one holding `--history`
   sends, built with bulk inserts. The events are for 2,000 contacts that have the same five
   sends each in both databases, so the per-contact look-ups do the same real work and only
   the size of everyone else's history differs. Target: ratio >= 0.8.
2. `surveybot simulate` on `--simulate` events (bench/policy_events.py), in a child process:
   wall time and peak RSS; baseline: the same process reading and parsing the file only.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.policy_events import contact, events  # noqa: E402
from bot.app import build_services  # noqa: E402
from bot.config import parse_config  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

NOW = datetime(2026, 6, 1, tzinfo=UTC)
CONTACTS = 500_000
POLICY = {
    "server": {"secret_key": "bench"},
    "surveys": {
        "csat": {"metric": "csat", "question": {"sms": "1-5?"}, "survey_cooldown": "7d"},
        "nps": {"metric": "nps", "question": {"sms": "0-10?"}, "contact_cooldown": "2d"},
    },
    "triggers": [
        {"name": "csat", "on": "ticket.solved", "survey": "csat", "channels": ["sms"], "delay": "10m"},
        {"name": "nps", "on": "order.delivered", "survey": "nps", "channels": ["sms"], "delay": "1d"},
    ],
    "throttle": {"daily_cap": None, "quiet_hours": {"start": "20:00", "end": "09:00"}},
}
SEND_SQL = (
    "INSERT INTO sends (id, event_pk, trigger, survey, metric, contact_id, channel, to_address, status, "
    "attempts, due_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


TARGETS = 2_000  # the contacts the measured events are for
TARGET_HISTORY = 5  # sends each of them already has, the same in both databases


def build_history(path: Path, sends: int) -> None:
    """`sends` sent surveys over the last 180 days, in bulk: the measured contacts' own history
    (TARGETS x TARGET_HISTORY, identical in every database), then other contacts' sends up to
    `sends`. So the per-contact work is the same and only the size of the history differs."""
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    raw = db.engine.raw_connection()
    cursor = raw.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    start = NOW - timedelta(days=180)
    own = TARGETS * TARGET_HISTORY
    for offset in range(0, sends, 100_000):
        rows = []
        for i in range(offset, min(sends, offset + 100_000)):
            if i < own:  # one send every 30 days for each measured contact
                who, due = f"cus_t{i % TARGETS}", NOW - timedelta(days=30 * (1 + i // TARGETS), hours=i % 24)
            else:
                who, due = (
                    f"cus_{i % CONTACTS}",
                    start + timedelta(days=180) * ((i - own) / max(1, sends - own)),
                )
            stamp = due.strftime("%Y-%m-%d %H:%M:%S.%f")
            rows.append(
                (f"h{i}", f"he{i}", "csat", "csat", "csat", who, "sms", "x", "sent", 1, stamp, stamp, stamp)
            )
        cursor.execute("BEGIN")
        cursor.executemany(SEND_SQL, rows)
        cursor.execute("COMMIT")
    raw.close()
    db.dispose()


def new_events(count: int) -> list[dict[str, Any]]:
    """Events at NOW for the measured contacts (each has the same history in both databases)."""
    events = []
    for i in range(count):
        person = contact(i % TARGETS)
        person["id"] = f"cus_t{i % TARGETS}"
        events.append(
            {
                "id": f"n{i}",
                "type": "ticket.solved" if i % 4 else "order.delivered",
                "occurred_at": NOW.isoformat(),
                "contact": person,
                "properties": {"ticket_id": f"T{i}"},
            }
        )
    return events


def ingest_rate(path: Path, count: int) -> float:
    raw = {**POLICY, "storage": {"url": f"sqlite:///{path}"}}
    config = parse_config(orjson.dumps(raw).decode())
    db = Database(config.storage.url)
    services = build_services(config, db=db)
    batch = new_events(count)
    start = time.perf_counter()
    for offset in range(0, count, 1000):
        services.ingestor.ingest(batch[offset : offset + 1000], now=NOW)
    elapsed = time.perf_counter() - start
    db.dispose()
    return count / elapsed


def run_child(code: str, *args: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of a child Python process, measured by GNU time.

    (getrusage of children would count the pre-exec copy of this large bench process.)
    """
    with tempfile.NamedTemporaryFile("r") as report:
        command = ["/usr/bin/time", "-f", "%M", "-o", report.name, sys.executable, "-c", code, *args]
        start = time.perf_counter()
        subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        elapsed = time.perf_counter() - start
        peak_kib = int(report.read().split()[-1])
    return elapsed, peak_kib / 1024


READ_ONLY = """
import sys, orjson
from bot.intake.files import read_jsonl
from bot.intake.ordering import is_time_ordered
with open(sys.argv[1], "rb") as raw:
    is_time_ordered(read_jsonl(raw))
"""
SIMULATE = "import sys; from bot.cli.main import main; sys.argv[0] = 'surveybot'; main()"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--history", type=int, default=5_000_000)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--simulate", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        start = time.perf_counter()
        build_history(tmp / "small.db", 10_000)
        build_history(tmp / "big.db", args.history)
        built = time.perf_counter() - start
        build_history(tmp / "warm.db", 10_000)
        ingest_rate(tmp / "warm.db", args.events)  # warms the phone and key caches for both runs
        small, big = ingest_rate(tmp / "small.db", args.events), ingest_rate(tmp / "big.db", args.events)
        print(f"history built in {built:.0f} s (bulk inserts)")
        print(f"ingestion with 10,000 sends in history (baseline): {small:8,.0f} events/s")
        print(
            f"ingestion with {args.history:,} sends in history:     {big:8,.0f} events/s"
            f"  ratio {big / small:.2f} (target >= 0.8)"
        )
        file = tmp / "events.jsonl"
        file.write_bytes(b"".join(line + b"\n" for line in events(args.simulate, 200_000, 90)))
        config = tmp / "policy.json"
        config.write_bytes(orjson.dumps({**POLICY, "throttle": {**POLICY["throttle"], "daily_cap": 2000}}))
        read_time, read_peak = run_child(READ_ONLY, str(file))
        sim_time, sim_peak = run_child(SIMULATE, "simulate", "--config", str(config), "--json", str(file))
    print(
        f"reading and parsing {args.simulate:,} events (baseline): {read_time:6.1f} s"
        f"  peak {read_peak:.0f} MiB"
    )
    print(
        f"simulate {args.simulate:,} events:                     {sim_time:6.1f} s  peak {sim_peak:.0f} MiB"
        "  (target <= 60 s, <= 300 MB)"
    )


if __name__ == "__main__":
    main()
