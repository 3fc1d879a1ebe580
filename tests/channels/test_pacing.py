"""The pacing limiter and backoff, with time moved by hand."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from bot.channels.pacing import Backoff, PacingLimiter


class VirtualTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.mark.parametrize("rate", [1, 10, 100, 0.5])
def test_back_to_back_sends_run_at_the_set_rate(rate: float) -> None:
    time = VirtualTime()
    limiter = PacingLimiter(rate, time.clock, time.sleep)

    for _ in range(101):
        limiter.acquire()

    measured = 100 / time.now
    assert measured == pytest.approx(rate, rel=0.05)


def test_slow_sends_do_not_add_waits() -> None:
    time = VirtualTime()
    limiter = PacingLimiter(10, time.clock, time.sleep)

    waits = []
    for _ in range(5):
        waits.append(limiter.acquire())
        time.now += 0.25  # each request takes longer than the interval

    assert waits == [0.0] * 5


def test_late_wake_ups_do_not_push_later_slots_back() -> None:
    time = VirtualTime()
    limiter = PacingLimiter(10, time.clock, time.sleep)
    limiter.acquire()
    limiter.acquire()  # sleeps to 0.1
    time.now += 0.05  # the sleep overshot

    assert limiter.acquire() == pytest.approx(0.05)  # slot 0.2, not 0.25


def test_an_idle_sender_earns_no_more_than_the_catch_up_burst() -> None:
    time = VirtualTime()
    limiter = PacingLimiter(100, time.clock, time.sleep, catch_up=0.05)
    limiter.acquire()
    time.now += 60

    waits = [limiter.acquire() for _ in range(7)]

    assert waits[:6] == [0.0] * 6  # the slot now, and the five within the 0.05 s catch-up
    assert waits[6] == pytest.approx(0.01)


def test_a_short_stall_is_made_up() -> None:
    time = VirtualTime()
    limiter = PacingLimiter(100, time.clock, time.sleep, catch_up=0.05)
    for _ in range(10):
        limiter.acquire()
    time.now += 0.04  # the process stalled for four slots

    waits = [limiter.acquire() for _ in range(91)]

    assert waits[:4] == [0.0] * 4
    assert time.now == pytest.approx(1.0)  # 101 sends in one second, as if nothing happened


def test_a_slow_rate_after_idle_waits_a_full_interval_less_the_catch_up() -> None:
    time = VirtualTime()
    limiter = PacingLimiter(2, time.clock, time.sleep, catch_up=0.05)
    limiter.acquire()
    time.now += 60

    assert limiter.acquire() == 0.0
    assert limiter.acquire() == pytest.approx(0.45)


def test_threads_sharing_a_limiter_never_share_a_slot() -> None:
    time = VirtualTime()  # stands still: every thread asks at the same instant
    limiter = PacingLimiter(100, time.clock, time.sleep)
    slots: list[float] = []
    lock = threading.Lock()

    def take(count: int) -> None:
        for _ in range(count):
            wait = limiter.reserve()
            with lock:
                slots.append(wait)

    threads = [threading.Thread(target=take, args=(50,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(slots) == pytest.approx([i * 0.01 for i in range(400)])


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        PacingLimiter(0)


def test_backoff_doubles_up_to_its_cap_and_resets() -> None:
    backoff = Backoff(base=timedelta(seconds=1), cap=timedelta(seconds=10))

    delays = [backoff.next_delay().total_seconds() for _ in range(6)]
    backoff.reset()

    assert delays == [1, 2, 4, 8, 10, 10]
    assert backoff.next_delay() == timedelta(seconds=1)
