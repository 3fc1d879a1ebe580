"""Which workers are alive, told by locks rather than by time.

Each `surveybot run` process registers a row in `workers` and holds a lock for as long as it
lives: on PostgreSQL a session advisory lock on a connection of its own, on SQLite an flock on
`<database>.workers/<id>.lock`. The operating system or the database server lets go of the lock
the moment the process dies, whatever killed it. So a lock that another process *can* take
means its holder is gone, and `take_over_dead` hands on that worker's sends (and reminders)
at once:
  - claimed, not started: back to `scheduled`, for any worker to claim;
  - `sending`: `unknown`, never sent again (the request may have left before the process died).
The lease (`Dispatcher.recover`) stays as the backstop for a provider that hangs and for
workers that hold no lock (an in-memory database, a one-shot command such as `send-test`).

The row is inserted and the lock taken in one transaction, so no one sees a registered worker
whose lock is not yet held. PostgreSQL: use a direct connection or session pooling (a
transaction-pooling proxy such as PgBouncer in transaction mode cannot keep a session lock).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, delete, insert, select, text, update

from storage.db import Database
from storage.models import Reminder, Send, SendStatus, Worker
from storage.sends import IN_FLIGHT_REASON

workers_t = Worker.__table__  # type: ignore[attr-defined]
sends_t = Send.__table__  # type: ignore[attr-defined]
reminders_t = Reminder.__table__  # type: ignore[attr-defined]

# The first key of the two-key advisory locks that say "worker <id> is alive"; two-key locks
# live apart from the one-key locks taken elsewhere (contacts, migrations).
LIVENESS_LOCK_CLASS = 0x53424C56  # "SBLV"
# Advisory locks belong to the whole database, while worker ids count from 1 in each schema: the
# first key also carries the `workers` table's oid, so surveybots in two schemas of one database
# (or two test sessions) never take each other's locks for their own.
_CLASS = "CAST(((CAST(:cls AS bigint) # CAST('workers'::regclass AS oid)::bigint) & 2147483647) AS integer)"
_LOCK = f"SELECT pg_advisory_lock({_CLASS}, CAST(:id AS integer))"
_UNLOCK = f"SELECT pg_advisory_unlock({_CLASS}, CAST(:id AS integer))"
_TRY_LOCK = f"SELECT pg_try_advisory_xact_lock({_CLASS}, CAST(:id AS integer))"


@dataclass(frozen=True)
class TakenOver:
    """What was handed on from one dead worker."""

    worker: str
    released: int  # claimed sends given back to the queue
    unknown: int  # sends it had in flight, now `unknown`


class LivenessLock:
    """This process's proof of life: a `workers` row, and the lock held until `release()`.

    `held()` checks the lock is still ours and registers afresh if it was lost (a dropped
    database connection, a lock file removed): a worker found dead by mistake comes back.
    On an in-memory SQLite database there is no other process to tell, and this does nothing.
    """

    def __init__(self, db: Database, name: str) -> None:
        self.db = db
        self.name = name
        self.worker_id: int | None = None
        self._session: Connection | None = None  # PostgreSQL: the connection holding the lock
        self._file: int | None = None  # SQLite: the descriptor holding the flock
        self.enabled = not db.is_sqlite or workers_dir(db) is not None

    def acquire(self, *, now: datetime) -> None:
        """Register this worker and take its lock (replacing any earlier row of the same name)."""
        if not self.enabled:
            return
        self.release()
        if self.db.is_sqlite:
            self._acquire_file(now)
        else:
            self._acquire_session(now)

    def held(self, *, now: datetime) -> bool:
        """True when the lock is still ours; when it was lost, take a new one and say False."""
        if not self.enabled:
            return True
        if self._still_held():
            return True
        self.acquire(now=now)
        return False

    def release(self) -> None:
        """Unregister and let go of the lock (a clean stop); safe to call twice."""
        worker_id, self.worker_id = self.worker_id, None
        if self._session is not None:
            try:
                self._session.execute(delete(workers_t).where(workers_t.c.id == worker_id))
                self._session.execute(text(_UNLOCK), {"cls": LIVENESS_LOCK_CLASS, "id": worker_id})
                self._session.commit()
                self._session.close()
            except Exception:  # a lost connection has let go already; never pool this one again
                with contextlib.suppress(Exception):
                    self._session.invalidate()
            self._session = None
        if self._file is not None:
            with contextlib.suppress(Exception), self.db.write() as conn:
                conn.execute(delete(workers_t).where(workers_t.c.id == worker_id))
                _lock_path(self.db, worker_id).unlink(missing_ok=True)
            os.close(self._file)
            self._file = None

    def _acquire_session(self, now: datetime) -> None:
        session = self.db.engine.connect()
        try:
            session.execute(delete(workers_t).where(workers_t.c.name == self.name))
            worker_id = session.execute(
                insert(workers_t).values(name=self.name, started_at=now).returning(workers_t.c.id)
            ).scalar_one()
            session.execute(text(_LOCK), {"cls": LIVENESS_LOCK_CLASS, "id": worker_id})
            session.commit()
        except BaseException:
            session.invalidate()  # it may hold the lock: closed for good, not back to the pool
            raise
        self._session, self.worker_id = session, worker_id

    def _acquire_file(self, now: datetime) -> None:
        with self.db.write() as conn:
            conn.execute(delete(workers_t).where(workers_t.c.name == self.name))
            worker_id = conn.execute(
                insert(workers_t).values(name=self.name, started_at=now).returning(workers_t.c.id)
            ).scalar_one()
            path = _lock_path(self.db, worker_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BaseException:
                os.close(fd)
                raise
        self._file, self.worker_id = fd, worker_id

    def _still_held(self) -> bool:
        if self.worker_id is None:
            return False
        if self._session is not None:
            try:
                found = self._session.execute(
                    select(workers_t.c.id).where(workers_t.c.id == self.worker_id)
                ).first()
                self._session.commit()
            except Exception:
                return False
            return found is not None
        with self.db.read() as conn:
            found = conn.execute(select(workers_t.c.id).where(workers_t.c.id == self.worker_id)).first()
        return found is not None and self._file is not None and _same_file(self._file, self._path())

    def _path(self) -> Path:
        assert self.worker_id is not None
        return _lock_path(self.db, self.worker_id)


def take_over_dead(conn: Connection, db: Database, *, me: str, now: datetime) -> list[TakenOver]:
    """Hand on the sends of every registered worker whose lock can be taken (it is gone), and
    forget those workers. `conn` is a `db.write()` transaction; the probe locks end with it."""
    rows = conn.execute(select(workers_t.c.id, workers_t.c.name).where(workers_t.c.name != me)).all()
    taken = []
    for worker_id, name in rows:
        with _probe(conn, db, worker_id) as dead:
            if dead:
                released, unknown = _hand_on(conn, name, now=now)
                conn.execute(delete(workers_t).where(workers_t.c.id == worker_id))
                if db.is_sqlite:
                    _lock_path(db, worker_id).unlink(missing_ok=True)
                taken.append(TakenOver(name, released, unknown))
    return taken


def _hand_on(conn: Connection, worker: str, *, now: datetime) -> tuple[int, int]:
    """The worker's sends and reminders (they go out the same way, under the same name)."""
    released = unknown = 0
    for table in (sends_t, reminders_t):
        c = table.c
        released += conn.execute(
            update(table)
            .where(c.status == SendStatus.CLAIMED, c.claimed_by == worker)
            .values(status=SendStatus.SCHEDULED, claimed_by=None, claimed_at=None, updated_at=now)
        ).rowcount
        unknown += conn.execute(
            update(table)
            .where(c.status == SendStatus.SENDING, c.claimed_by == worker)
            .values(status=SendStatus.UNKNOWN, reason=IN_FLIGHT_REASON, updated_at=now)
        ).rowcount
    return released, unknown


@contextlib.contextmanager
def _probe(conn: Connection, db: Database, worker_id: int) -> Iterator[bool]:
    """Yields True when worker `worker_id`'s lock could be taken: its holder is gone."""
    if not db.is_sqlite:
        yield bool(
            conn.execute(
                text(_TRY_LOCK),
                {"cls": LIVENESS_LOCK_CLASS, "id": worker_id},
            ).scalar()
        )
        return
    try:
        fd = os.open(_lock_path(db, worker_id), os.O_RDWR)
    except FileNotFoundError:
        yield True  # registered, yet no lock file: nothing can be holding it
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def workers_dir(db: Database) -> Path | None:
    """`<database file>.workers/`, where SQLite workers keep their lock files; None in memory."""
    url = db.url
    path = url.split("///", 1)[-1] if "///" in url else ""
    if not path or path == ":memory:" or "mode=memory" in path:
        return None
    base = Path(path.split("?", 1)[0]).expanduser()
    return base.with_name(base.name + ".workers")


def _lock_path(db: Database, worker_id: int | None) -> Path:
    directory = workers_dir(db)
    assert directory is not None and worker_id is not None
    return directory / f"{worker_id}.lock"


def _same_file(fd: int, path: Path) -> bool:
    """True when `path` still names the file open on `fd` (no one removed or replaced it)."""
    try:
        on_disk = path.stat()
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (on_disk.st_dev, on_disk.st_ino)
