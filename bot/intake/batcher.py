"""Group commit for the events API: concurrent requests share one ingestion transaction.

Each request hands its events to `IngestQueue.submit` and awaits its own results. One writer
thread takes everything waiting (up to `MAX_BATCH` events), ingests it as a single batch, and
hands each request back its slice. Under load a transaction carries many requests, so a
thousand single events cost about what one batch of a thousand costs; with one request at a
time it adds nothing but a thread hop. Duplicate ids across requests in one batch are judged
in arrival order, exactly as they would be one request after another.

A request never pays for another's events: should a shared transaction fail for any reason but
an unreachable database (which every request would meet alone too), each request is ingested
again on its own, and only the one whose events fail alone gets the error.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from bot.intake.ingest import MAX_BATCH, EventResult, Ingestor
from storage.errors import DatabaseUnavailable

log = logging.getLogger(__name__)


@dataclass
class _Request:
    events: list[Any]
    source: str = "api"
    done: Future[list[EventResult]] = field(default_factory=Future)


class IngestQueue:
    def __init__(self, ingestor: Ingestor, *, max_events: int = MAX_BATCH) -> None:
        self.ingestor = ingestor
        self.max_events = max_events
        self._waiting: queue.Queue[_Request | None] = queue.Queue()
        self._held: _Request | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    async def submit(self, events: list[Any], *, source: str = "api") -> list[EventResult]:
        """Ingest `events` (at most `max_events`) in the next shared transaction; `source` is
        stored with each event (a group holds the requests of one source only)."""
        self._ensure_started()
        request = _Request(events, source)
        self._waiting.put(request)
        return await asyncio.wrap_future(request.done)

    def close(self) -> None:
        """Finish what is queued, then stop the writer thread."""
        if self._thread is not None:
            self._waiting.put(None)
            self._thread.join(timeout=30)
            self._thread = None

    def _ensure_started(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ingest-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._held or self._waiting.get()
            self._held = None
            if first is None:
                return
            group = self._gather(first)
            self._ingest(group)

    def _gather(self, first: _Request) -> list[_Request]:
        """The first request and whatever else is waiting, up to `max_events` in all."""
        group, count = [first], len(first.events)
        while count < self.max_events:
            try:
                nxt = self._waiting.get_nowait()
            except queue.Empty:
                break
            if nxt is None:
                self._waiting.put(None)  # stop after this group
                break
            if count + len(nxt.events) > self.max_events or nxt.source != first.source:
                self._held = nxt  # starts the next group
                break
            group.append(nxt)
            count += len(nxt.events)
        return group

    def _ingest(self, group: list[_Request]) -> None:
        events = [event for request in group for event in request.events]
        try:
            results = self.ingestor.ingest(events, source=group[0].source)
        except Exception as exc:
            if len(group) > 1 and not isinstance(exc, DatabaseUnavailable):
                log.exception("a shared batch of %d events failed: ingesting its requests alone", len(events))
                for request in group:
                    self._ingest([request])
                return
            log.exception("ingesting a batch of %d events failed", len(events))
            for request in group:
                request.done.set_exception(exc)
            return
        offset = 0
        for request in group:
            request.done.set_result(results[offset : offset + len(request.events)])
            offset += len(request.events)
