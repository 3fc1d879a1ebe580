"""The daily retention purge: events, comments and SMS texts older than `retention` says.

Runs from the scheduler (`start_background`) once at start and then every day; each kind is
purged in chunks of `chunk` rows, one short transaction each. Every run that removed something
is recorded in `purges` (kind, cutoff, rows), so `explain` can say "events received before X
were purged" rather than show a history with holes in it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.config import Config
from bot.runtime.clock import Clock
from storage import retention
from storage.db import Database

log = logging.getLogger(__name__)

SETTINGS = ("events", "comments", "inbound_messages")


class RetentionPurge:
    def __init__(self, db: Database, config: Config, clock: Clock, *, chunk: int = 5000) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.chunk = chunk

    def run(self) -> dict[str, int]:
        """Purge every kind that has a retention; rows purged per kind (absent: kept for ever)."""
        now = self.clock.now()
        counts: dict[str, int] = {}
        for setting in SETTINGS:
            age = getattr(self.config.retention, setting)
            if age is not None:
                counts[setting] = self._purge(setting, now - age, now)
        log.info("retention purge: %s", ", ".join(f"{n} {kind}" for kind, n in counts.items()) or "off")
        return counts

    def _purge(self, setting: str, cutoff: datetime, now: datetime) -> int:
        total = 0
        while True:
            with self.db.write() as conn:
                if setting == "events":
                    done = retention.purge_events(conn, cutoff=cutoff, now=now, limit=self.chunk)
                else:
                    done = retention.purge_listed(conn, setting=setting, cutoff=cutoff, limit=self.chunk)
            total += done
            if done < self.chunk:
                break
        if total:
            with self.db.write() as conn:
                retention.record_purge(conn, kind=setting, cutoff=cutoff, rows=total, now=now)
        return total
