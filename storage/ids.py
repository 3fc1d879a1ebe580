"""Ids we mint: a time prefix (so new rows sort and index together) and 80 random bits."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator

# Random bytes are read from the OS a few kilobytes at a time rather than once an id: a batch
# of 1,000 events mints 2,000 ids, and a system call each cost more than the rest of the id.
_POOL_IDS = 256
_lock = threading.Lock()
_pool: list[str] = []


def _random_tokens(count: int = _POOL_IDS) -> list[str]:
    """`count` tokens of 80 random bits (20 hex digits), from one read of the OS."""
    block = os.urandom(10 * count).hex()
    return [block[i : i + 20] for i in range(0, len(block), 20)]


def _refill() -> None:
    _pool.extend(_random_tokens())


def _forget_pool() -> None:
    """A forked child must not mint the ids its parent has in its pool."""
    global _lock
    _lock = threading.Lock()
    _pool.clear()


os.register_at_fork(after_in_child=_forget_pool)


def new_id(prefix: str) -> str:
    """`snd_0192f1c3a5e7` + 20 hex digits of randomness: unique without asking the database."""
    with _lock:
        if not _pool:
            _refill()
        token = _pool.pop()
    return f"{prefix}_{int(time.time() * 1000):012x}{token}"


def batch_minter(prefix: str) -> Callable[[], str]:
    """`new_id` for one batch, on one thread: every id stamped with this moment, each with its
    own 80 random bits. A batch of 1,000 events mints 2,000 ids; this costs a tenth of calling
    `new_id` for each (no clock read, lock or formatting per id)."""
    stamp = f"{prefix}_{int(time.time() * 1000):012x}"
    tokens = _tokens()
    return lambda: stamp + next(tokens)


def _tokens() -> Iterator[str]:
    """Read in growing amounts: a batch of one event mints two ids, not hundreds."""
    count = 4
    while True:
        yield from _random_tokens(count)
        count = min(count * 8, _POOL_IDS)
