"""Reminders from real processes sharing one database: two at once send each reminder once, and
a process SIGKILLed while a reminder is with the provider leaves it `unknown`, never sent again."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select

from bot.app import Services, build_services
from bot.channels.log import LogChannel
from bot.config import Config
from bot.dispatch.dispatcher import DispatchSettings
from bot.runtime.clock import FakeClock
from storage.db import Database
from storage.models import Reminder
from tests.conftest import ServicesFactory, make_config
from tests.dispatch.test_reminders import reminding
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from tests.helpers import event, sms_trigger, wait_until

REMINDERS = 300
DAY = timedelta(days=1)


def remind_all(config_json: str, outbox: str | None, worker: str, now: datetime, start: Any) -> None:
    """Runs in a child process: send every due reminder (through a log channel of its own, or
    the config's channels when `outbox` is None)."""
    config = Config.model_validate_json(config_json)
    channels = None
    if outbox is not None:
        channel = LogChannel("sms", outbox)
        channels = {"sms": channel, "email": channel}
    services = build_services(
        config, db=Database(config.storage.url), clock=FakeClock(now), worker=worker, channels=channels,
        settings=DispatchSettings(batch_size=5),
    )  # fmt: skip
    start.wait()
    assert services.reminders is not None
    while services.reminders.run_once():
        pass
    services.db.dispose()


def reminder_rows(services: Services) -> list[Any]:
    with services.db.read() as conn:
        return list(conn.execute(select(Reminder.__table__)))  # type: ignore[attr-defined]


def phone(i: int) -> str:
    return f"+1415{5_550_000 + i:07d}"


def test_two_processes_never_send_one_reminder_twice(
    make_services: ServicesFactory, tmp_path: Path, clock: FakeClock
) -> None:
    services = make_services(surveys=reminding(), triggers=[sms_trigger()])
    services.ingestor.ingest([event(f"e{i}", contact=f"c{i}") for i in range(REMINDERS)])
    while services.dispatcher.run_once():
        pass
    clock.advance(DAY)
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(3)
    config_json = services.config.model_dump_json(by_alias=True)
    outboxes = [tmp_path / f"worker{i}.jsonl" for i in range(2)]
    workers = [
        context.Process(target=remind_all, args=(config_json, str(outboxes[i]), f"w{i}", clock.now(), start))
        for i in range(2)
    ]
    for worker in workers:
        worker.start()
    start.wait()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    sent = [orjson.loads(line)["send_id"] for path in outboxes for line in path.read_bytes().splitlines()]
    assert len(sent) == REMINDERS and len(set(sent)) == REMINDERS
    assert {r.status for r in reminder_rows(services)} == {"sent"}
    assert all(path.read_bytes() for path in outboxes), "both processes should have taken part"


def test_a_process_killed_while_sending_a_reminder_never_sends_it_again(
    db_url: str, database: Database, tmp_path: Path, clock: FakeClock
) -> None:
    count = 12
    with FakeTwilio(hang_seconds=60) as fake:
        sms = {
            "provider": "twilio", "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN,
            "from": "+15550001111", "rate_per_second": 1000, "api_base_url": fake.base_url,
        }  # fmt: skip
        config = make_config(
            db_url, tmp_path, surveys=reminding(), triggers=[sms_trigger()], channels={"sms": sms},
            dispatch={"lease": "1m", "batch_size": 50},
        )  # fmt: skip
        services = build_services(config, db=Database(db_url), clock=clock)
        services.ingestor.ingest(
            [event(f"e{i}", contact=f"c{i}", details={"phone": phone(i)}) for i in range(count)]
        )
        while services.dispatcher.run_once():
            pass
        assert len(fake.messages) == count
        clock.advance(DAY)
        fake.fail_next(1, "hang")  # the first reminder reaches Twilio, and no answer comes back
        context = multiprocessing.get_context("spawn")
        start = context.Barrier(2)
        child = context.Process(
            target=remind_all,
            args=(config.model_dump_json(by_alias=True), None, "doomed", clock.now(), start),
        )
        child.start()
        start.wait()
        wait_until(lambda: fake.request_count == count + 1, "the child to hand a reminder to Twilio")
        child.kill()  # SIGKILL: no clean-up of any kind
        child.join(timeout=30)
        statuses = Counter(r.status for r in reminder_rows(services))
        assert statuses["sending"] == 1 and statuses["claimed"] >= 1, statuses
        assert services.reminders is not None
        # The dead worker's claims are not ours to take until its lease runs out.
        assert services.reminders.run_once() == statuses["scheduled"]
        clock.advance(timedelta(minutes=1, seconds=1))
        assert services.reminders.recover() == (statuses["claimed"], 1)
        assert services.reminders.run_once() == statuses["claimed"]
        assert services.reminders.run_once() == 0
        delivered = Counter(message["to"] for message in fake.messages)
        services.db.dispose()
    assert set(delivered.values()) == {2}, "each contact gets the first ask and exactly one reminder"
    assert len(delivered) == count
    assert Counter(r.status for r in reminder_rows(services)) == {"sent": count - 1, "unknown": 1}
