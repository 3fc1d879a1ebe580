"""Crash takeover by liveness: a worker that died hands its sends on within one sweep.

`Takeover` holds this process's liveness lock (`storage.liveness`) from `start()` to `stop()`,
and `sweep()` (every `dispatch.liveness_sweep`, 5 s by default) checks every other registered
worker's lock: one that can be taken belongs to a process that is gone, so its claimed sends go
back to the queue at once and the one it had in flight becomes `unknown` (never sent twice).
After a takeover that gave sends back, `on_released` wakes the dispatcher so they leave now,
not on its next tick. The lease (`Dispatcher.recover`) stays the guard for a provider that hangs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.runtime.clock import Clock
from storage import outbox
from storage.db import Database
from storage.liveness import LivenessLock, TakenOver, take_over_dead

log = logging.getLogger(__name__)


class Takeover:
    """This worker's proof of life, and the sweep that hands on the sends of dead workers."""

    def __init__(
        self, db: Database, worker: str, clock: Clock, on_released: Callable[[], None] | None = None
    ) -> None:
        self.db = db
        self.worker = worker
        self.clock = clock
        self.on_released = on_released
        self.lock = LivenessLock(db, worker)

    def start(self) -> None:
        """Register this worker and hold its lock until `stop()` (or until the process dies)."""
        self.lock.acquire(now=self.clock.now())

    def sweep(self) -> list[TakenOver]:
        """Keep our own lock, then take over from every worker whose lock is free."""
        if not self.lock.enabled:
            return []
        if not self.lock.held(now=self.clock.now()):
            log.warning("worker %s lost its liveness lock and took a new one", self.worker)
        with self.db.write() as conn:
            taken = take_over_dead(conn, self.db, me=self.worker, now=self.clock.now())
            for dead in taken:  # its webhooks too: they go out again now, not after their lease
                outbox.release_worker(conn, worker=dead.worker)
        for dead in taken:
            log.warning(
                "worker %s is gone: %d claimed sends given back, %d in-flight sends unknown",
                dead.worker, dead.released, dead.unknown,
            )  # fmt: skip
        if self.on_released and any(dead.released for dead in taken):
            self.on_released()
        return taken

    def stop(self) -> None:
        """Unregister and let go of the lock; call after the last send of this worker ended."""
        self.lock.release()
