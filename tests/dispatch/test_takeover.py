"""A worker that died hands its sends on as soon as another sweeps, not after the lease: its
claims go back to the queue, its send in flight becomes `unknown`, nothing goes out twice.

The dying worker is a real process killed with SIGKILL; the clock never moves, so nothing here
waits for the lease."""

from __future__ import annotations

import multiprocessing
import os
import signal
from datetime import datetime
from multiprocessing.synchronize import Event as EventType
from pathlib import Path

from sqlalchemy import select

from bot.app import Services
from bot.dispatch.takeover import Takeover
from bot.runtime.clock import FakeClock
from storage import sends as send_queries
from storage.db import Database
from storage.liveness import LivenessLock, workers_dir
from storage.models import Worker
from tests.conftest import ServicesFactory
from tests.helpers import event, outbox, sends


def hold_claims_until_killed(db_url: str, worker: str, now: datetime, ready: EventType) -> None:
    """Runs in a child process: take the liveness lock, claim what is due, start sending the
    first, then wait to be killed."""
    db = Database(db_url)
    LivenessLock(db, worker).acquire(now=now)
    with db.write() as conn:
        ids = send_queries.claim_due(conn, now=now, worker=worker, limit=10)
        send_queries.mark_sending(conn, send_id=ids[0], worker=worker, now=now)
    ready.set()
    signal.pause()


def start_dying_worker(db_url: str, now: datetime) -> multiprocessing.Process:
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    child = context.Process(target=hold_claims_until_killed, args=(db_url, "doomed", now, ready))
    child.start()
    assert ready.wait(timeout=60), "the child never claimed its sends"
    return child


def statuses(services: Services) -> list[tuple[str, str | None]]:
    return sorted((s.status, s.claimed_by) for s in sends(services.db))


def registered(db: Database) -> list[str]:
    with db.read() as conn:
        return sorted(conn.execute(select(Worker.__table__.c.name)).scalars())


def takeover_for(services: Services, worker: str) -> Takeover:
    services.dispatcher.worker = worker
    takeover = Takeover(services.db, worker, services.clock)
    takeover.start()
    return takeover


def test_a_killed_workers_sends_are_handed_on_at_the_next_sweep_not_after_the_lease(
    make_services: ServicesFactory, db_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    survivor = make_services()
    survivor.ingestor.ingest([event(f"e{i}", contact=f"c{i}") for i in range(3)])
    takeover = takeover_for(survivor, "survivor")
    child = start_dying_worker(db_url, clock.now())
    try:
        assert takeover.sweep() == [], "a live worker keeps its claims"
        assert statuses(survivor) == [("claimed", "doomed")] * 2 + [("sending", "doomed")]
        os.kill(child.pid or 0, signal.SIGKILL)
        child.join(timeout=30)
        [taken] = takeover.sweep()
    finally:
        if child.is_alive():
            child.kill()
    assert (taken.worker, taken.released, taken.unknown) == ("doomed", 2, 1)
    assert survivor.dispatcher.run_once() == 2
    assert sorted(s.status for s in sends(survivor.db)) == ["sent", "sent", "unknown"]
    assert len(outbox(tmp_path, "sms")) == 2, "the send in flight is never sent again"
    assert registered(survivor.db) == ["survivor"]
    takeover.stop()


def test_a_worker_that_lost_its_lock_sends_nothing_taken_from_it_and_takes_a_new_lock(
    make_services: ServicesFactory, clock: FakeClock, tmp_path: Path
) -> None:
    first, second = make_services(), make_services()
    first.ingestor.ingest([event("e1")])
    mine, theirs = takeover_for(first, "first"), takeover_for(second, "second")
    with first.db.write() as conn:
        ids = send_queries.claim_due(conn, now=clock.now(), worker="first", limit=10)
        [claimed] = send_queries.load_claimed(conn, ids)
    lose_lock(mine.lock)
    [taken] = theirs.sweep()
    assert (taken.worker, taken.released) == ("first", 1)
    first.dispatcher.deliver(claimed)  # the first worker carries on with what it had claimed
    assert outbox(tmp_path, "sms") == [], "a send handed on is no longer the first worker's"
    assert second.dispatcher.run_once() == 1
    assert len(outbox(tmp_path, "sms")) == 1
    mine.sweep()  # notices, and registers afresh
    assert registered(first.db) == ["first", "second"]
    assert theirs.sweep() == []
    mine.stop()
    theirs.stop()


def test_a_clean_stop_unregisters_and_leaves_no_lock_file(
    make_services: ServicesFactory, db_url: str
) -> None:
    services = make_services()
    takeover = takeover_for(services, "tidy")
    assert registered(services.db) == ["tidy"]
    takeover.stop()
    takeover.stop()
    assert registered(services.db) == []
    directory = workers_dir(services.db)
    assert directory is None or list(directory.iterdir()) == []


def lose_lock(lock: LivenessLock) -> None:
    """What a dropped database connection or a removed lock file does to a live worker."""
    if lock._session is not None:
        lock._session.invalidate()  # the server ends the session, and its advisory lock with it
    else:
        assert lock.worker_id is not None and lock._file is not None
        os.close(lock._file)
        lock._file = os.open(os.devnull, os.O_RDONLY)
