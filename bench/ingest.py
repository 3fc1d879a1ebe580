"""Ingestion throughput and zero-delay latency, each beside its baseline measured in the same run.

    python bench/ingest.py [--events 50000] [--latency-samples 300]

1. raw bulk insert: the same event, decision and send rows as ingestion writes, straight into
   the same tables with executemany, 1,000 events a transaction (the ceiling);
2. the ingestion core (`Ingestor.ingest`, batches of 1,000) and its ratio to (1);
3. the HTTP batch endpoint of a real `surveybot run` (batches of 1,000 over keep-alive);
4. p50/p99 from `POST /v1/events` to the `log` channel writing a zero-delay send.
All on SQLite files in a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import resource
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_services  # noqa: E402
from bot.config import parse_config  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.ids import new_id  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

CONFIG = {
    "server": {"api_keys": ["bench-key"], "secret_key": "bench"},
    "surveys": {"csat": {"metric": "csat", "question": {"sms": "Rate us 1-5"}}},
    "triggers": [{"name": "t", "on": "ticket.solved", "survey": "csat", "channels": ["sms"], "delay": "10m"}],
    "throttle": {"quiet_hours": None, "daily_cap": None},
}
ZERO_DELAY = {**CONFIG, "triggers": [{**CONFIG["triggers"][0], "delay": "0s"}]}  # type: ignore[dict-item]


def make_events(count: int, prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{prefix}{i}",
            "type": "ticket.solved",
            "contact": {"id": f"{prefix}c{i}", "phone": f"+1415555{i % 10000:04d}", "name": "Ada"},
            "properties": {"ticket_id": f"T-{i}", "team": "billing"},
        }
        for i in range(count)
    ]


def config_for(path: Path, raw: dict[str, Any], tmp: Path) -> Any:
    raw = {
        **raw,
        "storage": {"url": f"sqlite:///{path}"},
        "channels": {"sms": {"path": str(tmp / "sms.jsonl")}},
    }
    return parse_config(orjson.dumps(raw).decode())


def fresh_db(tmp: Path, name: str) -> Database:
    db = Database(f"sqlite:///{tmp / name}")
    upgrade(db)
    return db


def bench_raw_insert(tmp: Path, events: list[dict[str, Any]]) -> float:
    """The same three rows per event, as ready tuples, through the driver's executemany."""
    db = fresh_db(tmp, "raw.db")
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    batches = []
    for offset in range(0, len(events), 1000):
        rows_e, rows_s, rows_d = [], [], []
        for e in events[offset : offset + 1000]:
            pk, send_id, cid = new_id("evt"), new_id("snd"), e["contact"]["id"]
            rows_e.append(
                (pk, e["id"], e["type"], cid, now, now, orjson.dumps(e["properties"]).decode(), "api")
            )
            rows_s.append(
                (
                    send_id,
                    pk,
                    "t",
                    "csat",
                    "csat",
                    cid,
                    "sms",
                    e["contact"]["phone"],
                    "scheduled",
                    0,
                    now,
                    now,
                    now,
                )
            )
            rows_d.append((pk, cid, "t", "csat", "scheduled", None, send_id, now, now))
        batches.append((rows_e, rows_s, rows_d))
    raw = db.engine.raw_connection()
    cursor = raw.cursor()
    start = time.perf_counter()
    for rows_e, rows_s, rows_d in batches:
        cursor.execute("BEGIN IMMEDIATE")
        cursor.executemany(RAW_EVENT, rows_e)
        cursor.executemany(RAW_SEND, rows_s)
        cursor.executemany(RAW_DECISION, rows_d)
        cursor.execute("COMMIT")
    elapsed = time.perf_counter() - start
    raw.close()
    db.dispose()
    return len(events) / elapsed


RAW_EVENT = (
    "INSERT INTO events (pk, event_id, type, contact_id, occurred_at, received_at, properties, source) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
RAW_SEND = (
    "INSERT INTO sends (id, event_pk, trigger, survey, metric, contact_id, channel, to_address, status, "
    "attempts, due_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
RAW_DECISION = (
    "INSERT INTO decisions (event_pk, contact_id, trigger, survey, outcome, reason, send_id, due_at, "
    "decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def bench_core(tmp: Path, events: list[dict[str, Any]]) -> tuple[float, float]:
    db = fresh_db(tmp, "core.db")
    services = build_services(config_for(tmp / "core.db", CONFIG, tmp), db=db)
    start = time.perf_counter()
    for offset in range(0, len(events), 1000):
        results = services.ingestor.ingest(events[offset : offset + 1000])
        assert all(r.status == "accepted" for r in results), results[0]
    elapsed = time.perf_counter() - start
    db.dispose()
    return len(events) / elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def start_bot(tmp: Path, raw: dict[str, Any], name: str) -> tuple[subprocess.Popen[bytes], str]:
    """A real `surveybot run` on `raw`, its database and outbox in `tmp`; with its base URL."""
    path = tmp / f"{name}.json"
    path.write_bytes(
        orjson.dumps(
            {
                **raw,
                "storage": {"url": f"sqlite:///{tmp / name}.db"},
                "channels": {
                    channel: {"path": str(tmp / f"{name}-{channel}.jsonl")} for channel in ("sms", "email")
                },
            }
        )
    )
    port = 18000 + secrets.randbelow(2000)
    extra = os.environ.get("PYTHONPATH", "")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), extra) if p)}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(path), "--port", str(port)],
        cwd=tmp,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("the bot did not start")


def stop_bot(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def bench_http(tmp: Path, events: list[dict[str, Any]]) -> float:
    process, base = start_bot(tmp, CONFIG, "http")
    headers = {"Authorization": "Bearer bench-key", "Content-Type": "application/json"}
    bodies = [orjson.dumps({"events": events[i : i + 1000]}) for i in range(0, len(events), 1000)]
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            start = time.perf_counter()
            for body in bodies:
                response = client.post("/v1/events", content=body)
                assert response.status_code == 202, response.text
            elapsed = time.perf_counter() - start
    finally:
        stop_bot(process)
    return len(events) / elapsed


def bench_latency(tmp: Path, samples: int) -> list[float]:
    process, base = start_bot(tmp, ZERO_DELAY, "latency")
    outbox = tmp / "latency-sms.jsonl"
    headers = {"Authorization": "Bearer bench-key"}
    latencies = []
    try:
        with httpx.Client(base_url=base, headers=headers) as client:
            for i in range(samples):
                seen = outbox.stat().st_size if outbox.exists() else 0
                start = time.perf_counter()
                client.post("/v1/events", json=make_events(1, f"lat{i}-")[0])
                while not outbox.exists() or outbox.stat().st_size == seen:
                    time.sleep(0.0005)
                latencies.append((time.perf_counter() - start) * 1000)
    finally:
        stop_bot(process)
    return latencies


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--latency-samples", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        raw = bench_raw_insert(tmp, make_events(args.events, "r"))
        core, peak = bench_core(tmp, make_events(args.events, "k"))
        http = bench_http(tmp, make_events(args.events, "h"))
        latency = bench_latency(tmp, args.latency_samples)
    print(f"events: {args.events} (SQLite, batches of 1,000, one trigger each)")
    print(f"raw bulk insert (baseline):  {raw:10,.0f} events/s")
    print(
        f"ingestion core:              {core:10,.0f} events/s  ratio {core / raw:.2f} (target >= 0.5)"
        f"  peak RSS of the bench so far {peak:.0f} MiB"
    )
    print(f"HTTP batch endpoint:         {http:10,.0f} events/s  ratio {http / raw:.2f} (target >= 20,000/s)")
    p50, p99 = percentile(latency, 50), percentile(latency, 99)
    print(
        f"zero-delay POST -> log send: p50 {p50:.1f} ms  p99 {p99:.1f} ms  max {max(latency):.1f} ms"
        f"  mean {statistics.mean(latency):.1f} ms  (n={len(latency)}, target p99 <= 250 ms)"
    )


if __name__ == "__main__":
    main()
