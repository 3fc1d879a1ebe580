"""Webhooks from real `surveybot run` processes: SIGKILL between a change and its delivery loses
no message (delivered once or more, never zero), and two processes delivering from one database
never both deliver the same message."""

from __future__ import annotations

import re
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from bot.app import Services, build_services
from bot.config import parse_config
from bot.outbound.wiring import build_worker
from bot.runtime.clock import SystemClock
from storage import outbox
from storage.db import Database
from tests.fakes.webhook_receiver import SECRET, WebhookReceiver
from tests.helpers import wait_until
from tests.system.test_crash import Bot

RESPONSES = 24
KILL_EVERY = 4


def webhook_config(db_url: str, receiver: WebhookReceiver, tmp_path: Path) -> Path:
    raw: dict[str, Any] = {
        "server": {"api_keys": ["test-key"], "secret_key": "s3cret", "public_url": "https://surveys.example.com"},
        "storage": {"url": db_url},
        "surveys": {"csat": {"metric": "csat", "question": {"email": {"subject": "Rate us", "body": "1-5"}}}},
        "triggers": [{"name": "t", "on": "ticket.solved", "survey": "csat", "channels": ["email"]}],
        "throttle": {"quiet_hours": None, "daily_cap": None, "max_per_contact": None,
                     "contact_cooldown": "0s", "survey_cooldown": "0s"},
        "channels": {"sms": {"provider": "log", "path": str(tmp_path / "sms.jsonl")},
                     "email": {"provider": "log", "path": str(tmp_path / "email.jsonl")}},
        "dispatch": {"lease": "1s"},
        "webhooks": [{"name": "crm", "url": receiver.url, "secret": SECRET, "timeout": "2s",
                      "events": ["response.created", "response.updated"]}],
    }  # fmt: skip
    path = tmp_path / "config.json"
    path.write_bytes(orjson.dumps(raw))
    return path


def surveys_sent(services: Services, count: int) -> list[str]:
    """`count` contacts surveyed by email (sent, open for answers); their send ids."""
    events = [
        {"id": f"e{i}", "type": "ticket.solved", "contact": {"id": f"c{i}", "email": f"c{i}@example.com"}}
        for i in range(count)
    ]
    send_ids = [r.decisions[0].send_id or "" for r in services.ingestor.ingest(events)]
    services.dispatcher.run_once()
    return send_ids


def settled(db: Database) -> bool:
    with db.read() as conn:
        counts = outbox.counts_by_status(conn)
    return set(counts) <= {"delivered"} and bool(counts)


def test_sigkill_between_a_response_and_its_webhook_loses_none(
    db_url: str, database: Database, tmp_path: Path
) -> None:
    with WebhookReceiver() as receiver:
        config_path = webhook_config(db_url, receiver, tmp_path)
        services = build_services(
            parse_config(config_path.read_text()), db=Database(db_url), clock=SystemClock()
        )
        send_ids = surveys_sent(services, RESPONSES)
        bot = Bot(config_path, tmp_path)
        answered: list[str] = []
        kills = 0
        try:
            bot.wait_ready()
            with httpx.Client(timeout=10) as client:
                for i, send_id in enumerate(send_ids):
                    path = re.sub(r"^https://[^/]+", "", services.links.rating_url(send_id, 4))
                    answer = client.post(bot.url + path, data={"score": "4", "comment": f"reply {i}"})
                    assert answer.status_code == 200, answer.text
                    answered.append(send_id)  # committed: its webhook must go out
                    if i % KILL_EVERY == 0:
                        bot.kill()  # at once: between the commit and the delivery, most times
                        kills += 1
                        bot = Bot(config_path, tmp_path)
                        bot.wait_ready()
            wait_until(lambda: settled(database), "every webhook to be delivered", timeout=120, interval=0.2)
        finally:
            bot.kill()
    delivered = Counter(d.json()["data"]["send_id"] for d in receiver.accepted)
    assert [s for s in answered if delivered[s] == 0] == [], "a response's webhook was lost"
    assert set(delivered) == set(answered)
    assert all(d.verified for d in receiver.deliveries)
    repeats = sum(delivered.values()) - len(delivered)
    assert repeats <= kills, f"{repeats} repeats after {kills} kills: at most one per kill"


@pytest.mark.parametrize("processes", [2])
def test_two_processes_never_deliver_one_message_twice(
    db_url: str, database: Database, tmp_path: Path, processes: int
) -> None:
    with WebhookReceiver() as receiver:
        config_path = webhook_config(db_url, receiver, tmp_path)
        config = parse_config(config_path.read_text())
        services = build_services(config, db=Database(db_url), clock=SystemClock())
        send_ids = surveys_sent(services, 120)
        receiver.stop()  # the messages pile up while nobody can take them
        for send_id in send_ids:
            services.responses.record_rating(send_id, 5, None, services.clock.now())
        receiver.start()
        bots = [Bot(config_path, tmp_path) for _ in range(processes)]
        try:
            wait_until(
                lambda: settled(database), "the processes to deliver every webhook", timeout=120, interval=0.2
            )
        finally:
            for bot in bots:
                bot.kill()
    ids = Counter(d.webhook_id for d in receiver.accepted)
    assert len(ids) == len(send_ids)
    assert [i for i, n in ids.items() if n > 1] == [], "a message was delivered twice"


def test_workers_racing_on_one_database_each_take_different_messages(
    db_url: str, database: Database, tmp_path: Path
) -> None:
    """The claim itself, without processes: workers on connections of their own, at once."""
    with WebhookReceiver() as receiver:
        config = parse_config(webhook_config(db_url, receiver, tmp_path).read_text())
        services = build_services(config, db=Database(db_url), clock=SystemClock())
        for send_id in surveys_sent(services, 60):
            services.responses.record_rating(send_id, 5, None, services.clock.now())
        workers = [build_worker(config, Database(db_url), SystemClock(), worker=f"w{i}") for i in range(4)]
        start = threading.Barrier(len(workers))

        def work(index: int) -> None:
            start.wait()
            workers[index].run_once()

        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(workers))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for worker in workers:
            worker.db.dispose()
    ids = Counter(d.webhook_id for d in receiver.accepted)
    assert len(ids) == 60 and set(ids.values()) == {1}
