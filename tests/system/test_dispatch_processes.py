"""Two real processes dispatching from one database: every survey leaves exactly once."""

from __future__ import annotations

import multiprocessing
from datetime import datetime
from pathlib import Path

import orjson

from bot.app import build_services
from bot.channels.log import LogChannel
from bot.config import Config
from bot.dispatch.dispatcher import DispatchSettings
from bot.runtime.clock import FakeClock
from storage.db import Database
from tests.conftest import ServicesFactory
from tests.helpers import event, sends

SENDS = 400


def dispatch_all(
    config_json: str, outbox: str, worker: str, now: datetime, start: multiprocessing.synchronize.Barrier
) -> None:
    """Runs in a child process: send everything due, through a log channel of its own."""
    config = Config.model_validate_json(config_json)
    channel = LogChannel("sms", outbox)
    services = build_services(
        config,
        db=Database(config.storage.url),
        clock=FakeClock(now),
        worker=worker,
        channels={"sms": channel, "email": channel},
        settings=DispatchSettings(batch_size=5),
    )
    start.wait()  # both workers begin together, once both are ready
    while services.dispatcher.run_once():
        pass
    services.db.dispose()


def test_two_processes_never_send_one_survey_twice(
    make_services: ServicesFactory, tmp_path: Path, clock: FakeClock
) -> None:
    services = make_services()
    services.ingestor.ingest([event(f"e{i}", contact=f"c{i}") for i in range(SENDS)])
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(3)
    config_json = services.config.model_dump_json(by_alias=True)
    outboxes = [tmp_path / f"worker{i}.jsonl" for i in range(2)]
    workers = [
        context.Process(
            target=dispatch_all, args=(config_json, str(outboxes[i]), f"w{i}", clock.now(), start)
        )
        for i in range(2)
    ]
    for worker in workers:
        worker.start()
    start.wait()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    sent = [
        orjson.loads(line)["send_id"]
        for path in outboxes
        if path.exists()
        for line in path.read_bytes().splitlines()
    ]
    assert len(sent) == SENDS and len(set(sent)) == SENDS
    assert {s.status for s in sends(services.db)} == {"sent"}
    assert all(path.exists() for path in outboxes), "both processes should have taken part"
