"""What each racing OS process runs (imported by a `spawn`ed interpreter, so it lives in a module).

Each worker builds its own services from the config text, as `surveybot run` would, and at
every round waits at the barrier with the other worker, then ingests its events at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.app import build_services
from bot.config import Config
from storage.db import Database


def ingest_rounds(
    config: Config, rounds: list[list[list[dict[str, Any]]]], now: datetime, barrier: Any, out: Any
) -> None:
    """`rounds[i]` is this worker's batches for round i, decided at `now`; every outcome goes to `out`.

    A worker that fails puts its error instead, so the parent never waits for nothing.
    """
    outcomes: list[Any] = []
    try:
        services = build_services(config, db=Database(config.storage.url))
        for batches in rounds:
            barrier.wait(timeout=60)
            for batch in batches:
                for result in services.ingestor.ingest(batch, now=now):
                    outcomes += [(result.id, d.outcome, d.reason) for d in result.decisions]
        services.db.dispose()
    except BaseException as exc:
        out.put(repr(exc))
        raise
    out.put(outcomes)
