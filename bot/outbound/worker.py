"""Delivering the outbox: claim due messages, send each to its target, record the outcome.

At least once: a message is settled only after its target answered 2xx; a worker that dies
mid-batch leaves its claims to expire, and the messages go out again under the same id. A
failed attempt (non-2xx, timeout, refused) is retried with growing pauses (10s, 30s, 1.5m, …
up to 4h) until a day has passed, then the message is `failed` until someone retries it.
A target that fails once in a batch is not tried again in that batch: a receiver that is down
costs one timeout per round, and holds back neither the other targets nor anything else.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from bot.outbound.http import HttpAnswer
from bot.outbound.targets import Target
from bot.runtime.clock import Clock
from bot.runtime.telemetry import Telemetry
from storage import outbox
from storage.db import Database
from storage.outbox import Message

log = logging.getLogger(__name__)

KEEP_SETTLED = timedelta(days=30)  # then delivered, dropped and failed messages are deleted
FIRST_PAUSE = timedelta(seconds=10)
LONGEST_PAUSE = timedelta(hours=4)


def pause_after(attempts: int, retry_after: float | None = None) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: 10s, 30s, 90s, … at most 4h;
    longer when the receiver asked for it (Retry-After), never beyond 4h."""
    pause = min(FIRST_PAUSE * 3 ** max(attempts - 1, 0), LONGEST_PAUSE)
    if retry_after:
        pause = max(pause, min(timedelta(seconds=retry_after), LONGEST_PAUSE))
    return pause


def printable(text: str) -> str:
    """A receiver's words as they may reach a terminal or a log: control characters (an ANSI
    escape, a line break) each become one space."""
    return "".join(c if c.isprintable() else " " for c in text)


class OutboxWorker:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        targets: Mapping[str, Target],
        *,
        worker: str,
        batch_size: int = 20,
        lease: timedelta = timedelta(minutes=10),
    ) -> None:
        self.db, self.clock, self.targets = db, clock, targets
        self.worker, self.batch_size, self.lease = worker, batch_size, lease
        self.stopping = False
        self.telemetry: Telemetry | None = None

    def run_once(self) -> int:
        """Deliver what is due; returns how many messages were attempted."""
        attempted = 0
        while not self.stopping:
            with self.db.write() as conn:
                batch = outbox.claim_due(
                    conn, now=self.clock.now(), worker=self.worker, lease=self.lease, limit=self.batch_size
                )
            if not batch:
                return attempted
            down = self._deliver_batch(batch)
            attempted += len(batch) - len(down)
            if down or len(batch) < self.batch_size:
                return attempted  # a target is failing: the rest waits for the next round

        return attempted

    def _deliver_batch(self, batch: list[Message]) -> list[str]:
        """Attempt each message; the ids given back untried (their target failed this round)."""
        failing: set[str] = set()
        untried: list[str] = []
        for message in batch:
            if self.stopping or message.target in failing:
                untried.append(message.id)
                continue
            if not self.deliver(message):
                failing.add(message.target)
        if untried:
            with self.db.write() as conn:
                outbox.release(conn, message_ids=untried, worker=self.worker)
        return untried

    def deliver(self, message: Message) -> bool:
        """One attempt at a message this worker holds; True when its target took it."""
        target = self.targets.get(message.target)
        if target is None:
            answer = HttpAnswer(None, error=f"no target named {message.target!r} in the config any more")
        else:
            answer = target.attempt(message)
        self._record(message, answer)
        return answer.ok

    def _record(self, message: Message, answer: HttpAnswer) -> None:
        now = self.clock.now()
        context = {"message_id": message.id, "target": message.target, "event_type": message.event_type}
        with self.db.write() as conn:
            if answer.ok:
                assert answer.status is not None
                outbox.mark_delivered(
                    conn, message_id=message.id, worker=self.worker, status=answer.status, now=now
                )
                log.info("outbox %s delivered to %s", message.id, message.target, extra=context)
                self._count(message.target, "delivered")
                return
            retry_at = self._retry_at(message, answer, now)
            error = printable(answer.error or f"HTTP {answer.status}: {answer.text.strip()[:200]}")
            outbox.mark_attempt_failed(
                conn,
                message_id=message.id,
                worker=self.worker,
                status=answer.status,
                error=error,
                retry_at=retry_at,
            )
        self._count(message.target, "failed" if retry_at is None else "retry")
        if retry_at is None:
            log.warning(
                "outbox %s to %s failed for good: %s", message.id, message.target, error, extra=context
            )
        else:
            log.info("outbox %s to %s failed (%s); again at %s", message.id, message.target, error,
                     retry_at.isoformat(), extra=context)  # fmt: skip

    def _retry_at(self, message: Message, answer: HttpAnswer, now: datetime) -> datetime | None:
        if message.target not in self.targets or now >= message.give_up_at:
            return None
        return min(now + pause_after(message.attempts + 1, answer.retry_after), message.give_up_at)

    def _count(self, target: str, outcome: str) -> None:
        if self.telemetry:
            self.telemetry.outbox_attempts.labels(target, outcome).inc()

    def purge(self) -> int:
        """Delete messages settled more than `KEEP_SETTLED` ago (a daily job); how many."""
        with self.db.write() as conn:
            purged = outbox.purge_settled(conn, before=self.clock.now() - KEEP_SETTLED)
        if purged:
            log.info("outbox: %d messages older than %d days deleted", purged, KEEP_SETTLED.days)
        return purged

    def release(self) -> int:
        """Give back this worker's claims (shutdown)."""
        with self.db.write() as conn:
            return outbox.release_worker(conn, worker=self.worker)
