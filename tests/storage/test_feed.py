"""The responses feed never skips nor repeats a row while other transactions insert responses
and commit in any order (storage.feed)."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, text

from storage.bulk import bulk_insert
from storage.db import Database
from storage.feed import START, feed_horizon, feed_page
from storage.feed_sql import FEED_LOCK_SPACE
from storage.models import Response, Send
from tests.conftest import BACKENDS

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
_numbers = itertools.count()


def insert_answered(conn: Connection) -> str:
    """One answered send; the response goes in first, so the transaction is still open after it."""
    send_id = f"snd_{next(_numbers)}"
    bulk_insert(conn, Response.__table__, [{  # type: ignore[attr-defined]
        "send_id": send_id, "contact_id": "c1", "survey": "s", "metric": "csat", "channel": "sms",
        "score": 5, "comment": None, "counted": True, "received_at": NOW, "updated_at": NOW}])  # fmt: skip
    bulk_insert(conn, Send.__table__, [{  # type: ignore[attr-defined]
        "id": send_id, "event_pk": f"e_{send_id}", "trigger": "t", "survey": "s", "metric": "csat",
        "contact_id": "c1", "channel": "sms", "status": "delivered", "attempts": 1, "due_at": NOW,
        "created_at": NOW, "updated_at": NOW}])  # fmt: skip
    return send_id


def read_page(db: Database, after: tuple[int, int], limit: int) -> tuple[list[str], tuple[int, int]]:
    with db.read() as conn:
        horizon = feed_horizon(conn)
    with db.read() as conn:
        page = feed_page(conn, after=after, limit=limit, horizon=horizon)
    return [row.send_id for row in page.rows], page.position


def drain(db: Database, after: tuple[int, int], limit: int = 7) -> Iterator[str]:
    """Every row after `after` that is there now, page by page."""
    while True:
        ids, after = read_page(db, after, limit)
        yield from ids
        if not ids:
            return


def test_pages_read_while_writers_commit_hold_every_row_exactly_once(database: Database) -> None:
    writers, each = 4, 40
    done = threading.Event()
    inserted: list[str] = []

    def write(count: int) -> list[str]:
        mine = []
        for _ in range(count):
            with database.write() as conn:
                mine.append(insert_answered(conn))
        return mine

    seen: list[str] = []

    def read() -> None:
        position = START
        while not done.is_set():
            ids, position = read_page(database, position, 7)
            seen.extend(ids)
        seen.extend(drain(database, position))

    with ThreadPoolExecutor(max_workers=writers + 1) as pool:
        reader = pool.submit(read)
        for batch in [pool.submit(write, each) for _ in range(writers)]:
            inserted += batch.result()
        done.set()
        reader.result()
    assert len(seen) == len(set(seen)), "a response came twice"
    assert sorted(seen) == sorted(inserted), "a response was skipped"


# PostgreSQL only: SQLite has one writer at a time, so its ids are handed out in commit order and
# no response can be written behind a page.
@pytest.mark.parametrize("db_url", [b for b in BACKENDS if b == "postgres"], indirect=True)
def test_a_page_waits_for_a_response_still_being_written_before_it(database: Database) -> None:
    with database.engine.connect() as slow:
        slow_txn = slow.begin()
        first = insert_answered(slow)  # position 1, not committed yet
        with database.write() as conn:
            second = insert_answered(conn)  # position 2, committed
        with ThreadPoolExecutor(max_workers=1) as pool:
            page = pool.submit(read_page, database, START, 10)
            wait_for_a_reader_waiting_on_the_feed_lock(database)
            slow_txn.commit()
            ids, position = page.result()
    # Ordered by id alone, the page would have shown the second and moved past the first.
    assert ids == [first, second]
    assert read_page(database, position, 10)[0] == []


def wait_for_a_reader_waiting_on_the_feed_lock(database: Database) -> None:
    query = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = :space "
        "AND objid = 'responses_feed_seq'::regclass::oid "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    ).bindparams(space=FEED_LOCK_SPACE)
    for _ in range(500):
        with database.engine.connect() as conn:
            if conn.execute(query).scalar_one():
                return
        time.sleep(0.01)  # polling for a state, not measuring time
    pytest.fail("the page never waited for the feed lock")
