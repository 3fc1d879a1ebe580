"""What the outbox costs a response, how fast it delivers, and that a dead receiver costs nothing.

    python -m bench.outbox [--backend sqlite|postgresql] [--responses 1000]

For `--responses` surveys sent by email (log channel), times recording their answers, best of
three runs on fresh databases:
  - none: no webhook configured (the writer does not even query);
  - two: two webhooks that want `response.created` (one send-facts query, two rows);
  - silent: the same, while a delivery worker keeps attempting a receiver that takes
    connections and never answers (timeout 1s), on a thread of its own;
then times delivering the `two` run's messages to a local receiver that verifies each signature.
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

from bot.app import Services, build_services
from bot.config import parse_config
from bot.outbound.wiring import build_worker
from bot.runtime.clock import SystemClock
from storage.db import Database
from storage.migrate import create_schema
from tests.fakes.webhook_receiver import SECRET, WebhookReceiver

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def config(url: str, hooks: list[str], tmp: Path) -> Any:
    raw = {
        "server": {"api_keys": ["k"], "secret_key": "s3cret"},
        "storage": {"url": url},
        "surveys": {"csat": {"metric": "csat", "question": {"email": {"subject": "Rate us", "body": "1-5"}}}},
        "triggers": [{"name": "t", "on": "ticket.solved", "survey": "csat", "channels": ["email"]}],
        "throttle": {"quiet_hours": None, "daily_cap": None, "max_per_contact": None,
                     "contact_cooldown": "0s", "survey_cooldown": "0s"},
        "channels": {"sms": {"provider": "log", "path": str(tmp / "sms.jsonl")},
                     "email": {"provider": "log", "path": str(tmp / "email.jsonl")}},
        "webhooks": [{"name": f"h{i}", "url": hook, "secret": SECRET, "timeout": "1s",
                      "events": ["response.created"]} for i, hook in enumerate(hooks)],
    }  # fmt: skip
    return parse_config(orjson.dumps(raw).decode())


def fresh_database(backend: str, tmp: Path) -> str:
    if backend == "sqlite":
        path = tmp / f"bench-{time.monotonic_ns()}.db"
        url = f"sqlite:///{path}"
        db = Database(url)
        create_schema(db)
        db.dispose()
        return url
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS bench_outbox CASCADE"))
        conn.execute(text("CREATE SCHEMA bench_outbox"))
    engine.dispose()
    url = f"{PG_URL}?options=-csearch_path%3Dbench_outbox"
    db = Database(url)
    SQLModel.metadata.create_all(db.engine)
    db.dispose()
    return url


def surveyed(services: Services, count: int) -> list[str]:
    events = [
        {"id": f"e{i}", "type": "ticket.solved", "contact": {"id": f"c{i}", "email": f"c{i}@mail.example"}}
        for i in range(count)
    ]
    ids = [r.decisions[0].send_id or "" for r in services.ingestor.ingest(events)]
    services.dispatcher.run_once()
    return ids


def time_answers(services: Services, send_ids: list[str]) -> float:
    started = time.perf_counter()
    for send_id in send_ids:
        services.responses.record_rating(send_id, 4, "fine", services.clock.now())
    return time.perf_counter() - started


def run(
    backend: str, count: int, hooks: list[str], tmp: Path, silent: str | None = None
) -> tuple[float, Services]:
    cfg = config(fresh_database(backend, tmp), hooks, tmp)
    services = build_services(cfg, db=Database(cfg.storage.url), clock=SystemClock())
    send_ids = surveyed(services, count)
    stop = threading.Event()
    worker_thread = None
    if silent:
        worker = build_worker(cfg, Database(cfg.storage.url), SystemClock(), worker="bench")

        def keep_delivering() -> None:
            while not stop.is_set():
                worker.run_once()
                time.sleep(0.01)

        worker_thread = threading.Thread(target=keep_delivering, daemon=True)
        worker_thread.start()
    took = time_answers(services, send_ids)
    stop.set()
    if worker_thread:
        worker_thread.join()
    return took, services


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--responses", type=int, default=1000)
    args = parser.parse_args()
    n = args.responses
    with tempfile.TemporaryDirectory() as tmp_dir, WebhookReceiver() as receiver:
        tmp = Path(tmp_dir)
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(1024)
        silent_url = f"http://127.0.0.1:{silent.getsockname()[1]}/h"
        results: dict[str, float] = {}
        for label, hooks, dead in (("none", [], None), ("two", [receiver.url, receiver.url], None),
                                   ("silent", [silent_url, silent_url], silent_url)):  # fmt: skip
            results[label] = min(run(args.backend, n, hooks, tmp, dead)[0] for _ in range(3))
            print(
                f"{label:>7}: {n} answers in {results[label]:.2f}s, {results[label] / n * 1000:.2f} ms each"
            )
        _, services = run(args.backend, n, [receiver.url, receiver.url], tmp)
        worker = build_worker(services.config, services.db, SystemClock(), worker="bench")
        started = time.perf_counter()
        while worker.run_once():
            pass
        took = time.perf_counter() - started
        verified = sum(d.verified for d in receiver.accepted)
        print(f"deliver: {2 * n} messages in {took:.2f}s, {2 * n / took:.0f}/s; {verified} verified")
        silent.close()


if __name__ == "__main__":
    main()
