"""The fleet's send pace: one row per channel holding its next free slot (`send_pace`).

Every process that sends on a channel reserves its slot here, so `rate_per_second` holds for
all of them together, however many there are. A reservation is one upsert: the next slot moves
on by `interval` from where it was, or from now less `catch_up` when the channel was idle (the
same grid as `bot.channels.pacing.PacingLimiter`, shared). The row lock (PostgreSQL) or the
write lock (SQLite) puts reservations in a line; each waits for its own slot after the commit.

Times are seconds since the epoch. PostgreSQL reads them from the database server's clock, so
processes on machines whose clocks differ still share one grid; SQLite, whose processes share
one machine, from the `now` given.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from storage.db import Database
from storage.errors import DatabaseUnavailable

WallClock = Callable[[], float]  # seconds since the epoch

# PostgreSQL: the server's clock, read once for the statement. Losing the last reservations in
# a server crash would only let a few messages leave early, so commits need not wait for disk.
_RESERVE_PG = """
WITH clock AS (SELECT CAST(extract(epoch FROM clock_timestamp()) AS double precision) AS now)
INSERT INTO send_pace (channel, next_slot)
SELECT :channel, clock.now + :interval FROM clock
ON CONFLICT (channel) DO UPDATE
SET next_slot = GREATEST(send_pace.next_slot, EXCLUDED.next_slot - :interval - :catch_up) + :interval
RETURNING send_pace.next_slot - :interval, (SELECT now FROM clock)
"""
_RESERVE_SQLITE = """
INSERT INTO send_pace (channel, next_slot) VALUES (:channel, :now + :interval)
ON CONFLICT (channel) DO UPDATE
SET next_slot = MAX(send_pace.next_slot, :now - :catch_up) + :interval
RETURNING next_slot - :interval, :now
"""


class SlotBook:
    """Reserves a channel's send slots for this process; thread-safe.

    On PostgreSQL over a connection of its own in autocommit, with `synchronous_commit` off: one
    round trip per slot, the row locked only while the statement runs. On SQLite inside a write
    transaction (its write lock is the line). Raises `DatabaseUnavailable` when out of reach.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    def reserve(
        self, *, channel: str, interval: float, catch_up: float, now: WallClock
    ) -> tuple[float, float]:
        """The channel's next slot and the time now, both on the clock the slots keep (seconds
        since the epoch), so the caller waits `slot - now`; `now` is read only on SQLite."""
        params: dict[str, object] = {"channel": channel, "interval": interval, "catch_up": catch_up}
        if self.db.is_sqlite:
            with self.db.write() as conn:
                slot, moment = conn.execute(text(_RESERVE_SQLITE), {**params, "now": now()}).one()
            return float(slot), float(moment)
        with self._lock:
            try:
                slot, moment = self._connection().execute(text(_RESERVE_PG), params).one()
            except SQLAlchemyError as exc:
                self.close()
                raise DatabaseUnavailable() from exc
        return float(slot), float(moment)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(SQLAlchemyError):
                conn.close()

    def _connection(self) -> Connection:
        if self._conn is None:
            conn = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("SET synchronous_commit TO OFF")
            self._conn = conn
        return self._conn
