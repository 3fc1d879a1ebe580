"""The engine and its transactions, made right for both backends.

SQLite: WAL, and transactions that really begin where we say. pysqlite defers BEGIN until the
first write, so a read-then-write could interleave with another process; `write()` issues
`BEGIN IMMEDIATE`, taking the write lock before the first read. PostgreSQL: READ COMMITTED, with
row or advisory locks taken explicitly by the queries that need them.

Both hide bound parameters from error messages: a failed statement's values are addresses and
comments, and its error ends up in the logs. A database that cannot be reached (or is too busy
to answer) surfaces from `read()` and `write()` as `storage.errors.DatabaseUnavailable`, so the
service can answer "try again" without knowing SQLAlchemy's exceptions.

`Connection` is re-exported: callers type their parameters with it without importing SQLAlchemy.
"""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

import storage.models  # noqa: F401 - registers the tables on SQLModel.metadata
from storage import errors
from storage.errors import DatabaseUnavailable

__all__ = ["Connection", "Database", "hide_password"]

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_MMAP_BYTES = 1 << 30
SQLITE_CACHE_SIZE = -65536  # KiB: 64 MiB
# Connection refused or lost, pool exhausted, lock or deadlock timeouts: a retry may succeed.
_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)


class Database:
    """One engine, with `read()` and `write()` transactions."""

    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        self.url = url
        self.engine = _create_engine(url, pool_size=pool_size)
        self.dialect = self.engine.dialect.name
        self.is_sqlite = self.dialect == "sqlite"
        self._sqlite_writer = threading.Lock()
        self._lock_file = _open_lock_file(url) if self.is_sqlite else None

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that may write; on SQLite it holds the write lock from its start.

        SQLite admits one writer; threads of one process queue on a lock here rather than in
        SQLite's busy handler, which sleeps and backs off and so turns contention into latency.
        Raises `DatabaseUnavailable` when the database cannot be reached.
        """
        if not self.is_sqlite:
            with _reachable(), self.engine.connect() as conn, conn.begin():
                yield conn
            return
        with _reachable(), self._sqlite_writer, self._writer_file_lock(), self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                yield conn

    @contextmanager
    def _writer_file_lock(self) -> Iterator[None]:
        """Between processes on one SQLite file: a blocking flock hands the write lock over the
        moment it is free, where SQLite's busy handler would poll with sleeps of up to 100 ms."""
        if self._lock_file is None:
            yield
            return
        fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction; raises `DatabaseUnavailable` when the database cannot be reached."""
        with _reachable(), self.engine.connect() as conn, conn.begin():
            yield conn

    def check(self) -> None:
        """Connect once; `DatabaseUnavailable` saying why (and what to do) when that fails."""
        with _reachable(self.url), self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def is_up(self) -> bool:
        """True when the database answers a trivial query; False, never an error, otherwise."""
        try:
            with self.read() as conn:
                conn.execute(text("SELECT 1"))
        except (DatabaseUnavailable, SQLAlchemyError):
            return False
        return True

    def create_all(self) -> None:
        """Create the tables directly (tests); production uses `storage.migrate.upgrade`."""
        SQLModel.metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None


def hide_password(url: str) -> str:
    """The database URL as it may appear in logs: any password replaced by `***`."""
    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def _reachable(url: str | None = None) -> Iterator[None]:
    """Turns SQLAlchemy's "cannot reach the database" errors into `DatabaseUnavailable`; given
    the URL, its message says what is wrong and what to do (for a person at a terminal)."""
    try:
        yield
    except _UNAVAILABLE as exc:
        raise DatabaseUnavailable(why_unreachable(exc, url) if url else None) from exc


def why_unreachable(exc: Exception, url: str) -> str:
    """One line: the database is missing, nothing listens at the address, or the driver's reason."""
    detail = str(getattr(exc, "orig", None) or exc).strip()
    parsed = make_url(url)
    host = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    if parsed.database and f'database "{parsed.database}" does not exist' in detail:
        return errors.no_such_database(parsed.database, host)
    if "connection refused" in detail.lower():
        return errors.nothing_listening(host, hide_password(url))
    lines = [line.strip() for line in detail.splitlines() if line.strip()]
    return errors.cannot_connect(hide_password(url), lines[-1] if lines else exc.__class__.__name__)


def _open_lock_file(url: str) -> IO[bytes] | None:
    """`<database file>.writer-lock`, beside the database; None for an in-memory database."""
    path = url.split("///", 1)[-1] if "///" in url else ""
    if not path or path == ":memory:":
        return None
    lock_path = Path(path).expanduser()
    lock_path = lock_path.with_name(lock_path.name + ".writer-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    return lock_path.open("ab")


def _create_engine(url: str, *, pool_size: int) -> Engine:
    if url.startswith("sqlite"):
        return _create_sqlite_engine(url)
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        hide_parameters=True,
        # No server-side prepared statements: a plan prepared while the tables were nearly
        # empty (a fresh database) would be kept as they grow; planning these queries is cheap.
        connect_args={"prepare_threshold": None},
    )


def _create_sqlite_engine(url: str) -> Engine:
    path = url.split("///", 1)[-1] if "///" in url else ""
    if path and path != ":memory:":
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        poolclass=NullPool if path == ":memory:" else None,
        hide_parameters=True,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # Per-contact history look-ups land at random places in a sends index that grows into
        # the millions: read its pages through a memory map rather than a read() each, and keep
        # a larger page cache than the default 2 MiB.
        cursor.execute(f"PRAGMA cache_size={SQLITE_CACHE_SIZE}")
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        # Checkpoint the WAL every ~40 MiB rather than every 4 MiB: an index page that many
        # transactions touch is then written back once, not once per 1,000 pages of WAL.
        cursor.execute("PRAGMA wal_autocheckpoint=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine
