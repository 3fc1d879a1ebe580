"""Keeping a sender within its provider's rate, and backing off when the provider says no.

`PacingLimiter` hands out send slots exactly `1 / rate` apart, whichever thread asks; a
caller that gets a future slot sleeps until it. Slots are reserved on a fixed grid, so a
late wake-up (sleep overshoot, a slow request) never pushes the later slots back. A grid that
fell behind (the process stalled, a request was slow) may catch up by at most `catch_up`
seconds (default 0.05 s) by sending the missed slots at once; that bound is also the largest
burst an idle sender gets, so no one-second window holds more than 5% over the rate plus one
message. Over any stretch of back-to-back sends the rate is the setting.

`Backoff` is the growing wait after a transient refusal (429, connection refused): each
consecutive refusal doubles it up to a cap; any answer from the provider resets it.

Both take their time functions as arguments (`clock` returns monotonic seconds, `sleep`
waits) so tests move time instead of waiting for it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

MonotonicClock = Callable[[], float]
Sleep = Callable[[float], None]


class Pacer(Protocol):
    """Something that hands out send slots: this process's `PacingLimiter`, or the fleet's."""

    def acquire(self) -> float:
        """Wait for this caller's slot; returns how long it waited, in seconds."""

    def close(self) -> None:
        """Let go of what it holds (a database connection); called once at shutdown."""


class PacingLimiter:
    """`rate_per_second` acquisitions a second, spaced evenly; thread-safe.

    `catch_up` is how far behind the clock the grid may be before missed slots are dropped.
    """

    def __init__(
        self,
        rate_per_second: float,
        clock: MonotonicClock = time.monotonic,
        sleep: Sleep = time.sleep,
        catch_up: float = 0.05,
    ) -> None:
        if rate_per_second <= 0:
            raise ValueError(f"rate_per_second must be positive, not {rate_per_second}")
        self.interval = 1.0 / rate_per_second
        self.catch_up = catch_up
        self._clock = clock
        self._sleep = sleep
        self._next_slot: float | None = None
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for this caller's slot; returns how long it waited, in seconds."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait

    def reserve(self) -> float:
        """Take the next slot without waiting; returns the seconds until it comes."""
        with self._lock:
            now = self._clock()
            earliest = now - self.catch_up
            slot = now if self._next_slot is None else max(earliest, self._next_slot)
            self._next_slot = slot + self.interval
            return max(0.0, slot - now)

    def close(self) -> None:
        return None


class Backoff:
    """Waits of `base`, 2*base, 4*base ... up to `cap` for consecutive failures; thread-safe."""

    def __init__(
        self,
        base: timedelta = timedelta(seconds=1),
        cap: timedelta = timedelta(minutes=5),
    ) -> None:
        self.base = base
        self.cap = cap
        self._failures = 0
        self._lock = threading.Lock()

    def next_delay(self) -> timedelta:
        """Count one more failure and return how long to wait before trying again."""
        with self._lock:
            delay = self.base * (2 ** min(self._failures, 30))
            self._failures += 1
        return min(delay, self.cap)

    def reset(self) -> None:
        with self._lock:
            self._failures = 0
