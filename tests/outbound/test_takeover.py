"""A process killed while it held outbox messages hands them on at the next liveness sweep, not
after the outbox lease: they go out again (at least once), the clock never moves."""

from __future__ import annotations

import multiprocessing
import os
import signal
from datetime import datetime, timedelta
from multiprocessing.synchronize import Event as EventType

from bot.dispatch.takeover import Takeover
from storage import outbox
from storage.db import Database
from storage.liveness import LivenessLock
from tests.conftest import ServicesFactory
from tests.fakes.webhook_receiver import SECRET, WebhookReceiver
from tests.slack.journeys import record_score


def claim_messages_until_killed(db_url: str, now: datetime, ready: EventType) -> None:
    """In a child process: take the liveness lock, claim every due message for an hour, wait."""
    db = Database(db_url)
    LivenessLock(db, "doomed").acquire(now=now)
    with db.write() as conn:
        outbox.claim_due(conn, now=now, worker="doomed", lease=timedelta(hours=1), limit=100)
    ready.set()
    signal.pause()


def test_a_killed_workers_messages_are_handed_on_at_the_next_sweep(
    make_services: ServicesFactory, db_url: str
) -> None:
    with WebhookReceiver() as receiver:
        services = make_services(webhooks=[{"name": "crm", "url": receiver.url, "secret": SECRET}])
        for i in range(3):
            record_score(services, f"e{i}", score=4, contact=f"c{i}")
        services.dispatcher.worker = "survivor"
        takeover = Takeover(services.db, "survivor", services.clock)
        takeover.start()
        context = multiprocessing.get_context("spawn")
        ready = context.Event()
        child = context.Process(
            target=claim_messages_until_killed, args=(db_url, services.clock.now(), ready)
        )
        child.start()
        try:
            assert ready.wait(timeout=60), "the child never claimed the messages"
            assert services.outbox is not None
            assert services.outbox.run_once() == 0, "claimed by a live worker: not ours"
            os.kill(child.pid or 0, signal.SIGKILL)
            child.join(timeout=30)
            [taken] = takeover.sweep()
        finally:
            if child.is_alive():
                child.kill()
        assert taken.worker == "doomed"
        assert services.outbox.run_once() == 3
        takeover.stop()
    assert len({d.webhook_id for d in receiver.accepted}) == 3
