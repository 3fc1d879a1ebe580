"""`rate_per_second` for the whole fleet: every process takes its send slots from the database.

`FleetPacer` is what `TwilioSmsChannel` waits on when the bot runs from a database: each send
reserves the channel's next slot in `send_pace` (`storage.pace`) and sleeps until it, so four
processes together send at the configured rate, not four times it. When the database cannot be
reached the slot comes from this process's own `PacingLimiter` instead (logged): the text may
still go out, paced as one process would be, rather than be held by the pacing.
"""

from __future__ import annotations

import logging
import time

from bot.channels.pacing import MonotonicClock, PacingLimiter, Sleep
from storage import pace
from storage.db import Database
from storage.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

CATCH_UP_SECONDS = 0.05  # as `PacingLimiter`: the most an idle channel may burst


class FleetPacer:
    """Send slots `1 / rate_per_second` apart across every process on `db`; thread-safe."""

    def __init__(
        self,
        db: Database,
        channel: str,
        rate_per_second: float,
        *,
        wall: pace.WallClock = time.time,
        clock: MonotonicClock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if rate_per_second <= 0:
            raise ValueError(f"rate_per_second must be positive, not {rate_per_second}")
        self.book = pace.SlotBook(db)
        self.channel = channel
        self.interval = 1.0 / rate_per_second
        self._wall = wall
        self._sleep = sleep
        self.fallback = PacingLimiter(rate_per_second, clock, sleep, catch_up=CATCH_UP_SECONDS)

    def acquire(self) -> float:
        """Wait for this caller's slot; returns how long it waited, in seconds."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait

    def reserve(self) -> float:
        """Take the fleet's next slot without waiting; returns the seconds until it comes."""
        try:
            slot, now = self.book.reserve(
                channel=self.channel, interval=self.interval, catch_up=CATCH_UP_SECONDS, now=self._wall
            )
        except DatabaseUnavailable:
            log.warning("the %s pace is out of reach; pacing this process alone", self.channel)
            return self.fallback.reserve()
        return max(0.0, slot - now)

    def close(self) -> None:
        self.book.close()
