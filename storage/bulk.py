"""Bulk inserts straight through the driver's executemany, values converted once, by us.

SQLAlchemy's per-value bind processing costs more than the insert itself at ingestion rates;
these rows are plain values we made, so they go to the driver as tuples. Times are stored the
way `storage.models.UTCDateTime` reads them back: UTC, naive text on SQLite, timestamptz on
PostgreSQL.

On PostgreSQL a batch of rows goes through `COPY ... FROM STDIN` instead: one statement streamed
to the server, where even a pipelined executemany has the server parse, plan and execute an
INSERT per row (3-4 times faster for a batch of 1,000 events, `bench/ingest.py`). Rows that
break a constraint fail the whole COPY, as they fail the transaction of an executemany; the
driver's error is raised as SQLAlchemy's (`IntegrityError`, `OperationalError`, ...) either way.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import JSON, Connection, Table
from sqlalchemy.exc import DBAPIError

from storage.models import UTCDateTime

Convert = Callable[[Any], Any]
# Fewer rows than this go by executemany on PostgreSQL too: for a row or two (a test send, an
# inbound message) COPY's extra round trip costs more than it saves.
COPY_FROM_ROWS = 8


def bulk_insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) into `table` in one executemany."""
    if not rows:
        return
    columns = tuple(rows[0])
    pick = _picker(columns)
    insert_values(conn, table, columns, [pick(row) for row in rows])


def insert_values(
    conn: Connection, table: Table, columns: tuple[str, ...], values: list[tuple[Any, ...]]
) -> None:
    """Insert rows given as tuples in the order of `columns`, the values as Python has them
    (times, JSON documents): converted here, a column at a time."""
    if not values:
        return
    sqlite = conn.dialect.name == "sqlite"
    sql, converted = _plan(table, columns, sqlite)
    params: list[tuple[Any, ...]] = values
    if converted:
        # Column by column through C-level zip and map: a Python loop per row and value cost
        # more than SQLite's insert of the row.
        by_column: list[Any] = list(zip(*values, strict=True))
        for index, convert in converted:
            by_column[index] = map(convert, by_column[index])
        params = list(zip(*by_column, strict=True))
    if sqlite or len(params) < COPY_FROM_ROWS:
        conn.exec_driver_sql(sql, params)
    else:
        _copy(conn, table, columns, params)


def _copy(conn: Connection, table: Table, columns: tuple[str, ...], params: list[tuple[Any, ...]]) -> None:
    """`COPY table (columns) FROM STDIN` on the transaction's own connection (psycopg 3)."""
    names = ", ".join(f'"{name}"' for name in columns)
    statement = f'COPY "{table.name}" ({names}) FROM STDIN'
    driver = conn.connection.driver_connection
    assert driver is not None
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for values in params:
                copy.write_row(values)
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(
            statement, None, exc, conn.dialect.loaded_dbapi.Error, hide_parameters=True, dialect=conn.dialect
        ) from exc


@lru_cache(maxsize=256)
def _plan(
    table: Table, columns: tuple[str, ...], sqlite: bool
) -> tuple[str, tuple[tuple[int, Convert], ...]]:
    """The statement and the converters by position, made once per table and set of columns."""
    mark = "?" if sqlite else "%s"
    names = ", ".join(f'"{name}"' for name in columns)
    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join(mark for _ in columns)})'
    converters = ((i, _converter(table.c[name].type, sqlite)) for i, name in enumerate(columns))
    return sql, tuple((i, c) for i, c in converters if c is not None)


@lru_cache(maxsize=256)
def _picker(columns: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A row dict's values as a tuple in the order of `columns`."""
    getter = itemgetter(*columns)
    return getter if len(columns) > 1 else (lambda row: (getter(row),))


def _converter(column_type: Any, sqlite: bool) -> Convert | None:
    if isinstance(column_type, UTCDateTime):
        return _sqlite_time if sqlite else _aware_utc
    if isinstance(column_type, JSON):
        return _json
    return None


@lru_cache(maxsize=4096)
def _sqlite_time(value: datetime | None) -> str | None:
    """Cached: a batch writes the same few instants (its `now`, its due times) many times."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", timespec="microseconds")


def _aware_utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()
