"""Named queries that make each digest window post once, across processes and restarts.

A window is the row (digest, window_end), unique. `claim_window` inserts it (`claimed`) or
takes over a claim older than the lease whose process never marked it `posted`; only the
process holding the claim posts, then `mark_posted` records the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from storage.models import DigestPost, DigestPostStatus

posts_t = DigestPost.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class WindowRow:
    window_end: datetime
    status: str
    claimed_at: datetime


def claim_window(
    conn: Connection, *, digest: str, window_end: datetime, worker: str, now: datetime, stale_before: datetime
) -> bool:
    """True when `worker` now holds the window: it was new, or its claim had gone stale."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    inserted = conn.execute(
        dialect.insert(posts_t)
        .values(
            digest=digest,
            window_end=window_end,
            status=DigestPostStatus.CLAIMED,
            claimed_by=worker,
            claimed_at=now,
        )
        .on_conflict_do_nothing()
        .returning(posts_t.c.id)  # rowcount is not reliable for an INSERT that returns (PostgreSQL)
    )
    if inserted.first() is not None:
        return True
    p = posts_t.c
    taken = conn.execute(
        update(posts_t)
        .where(
            p.digest == digest,
            p.window_end == window_end,
            p.status == DigestPostStatus.CLAIMED,
            p.claimed_at < stale_before,
        )
        .values(claimed_by=worker, claimed_at=now)
    )
    return taken.rowcount == 1


def mark_posted(
    conn: Connection, *, digest: str, window_end: datetime, worker: str, now: datetime, channel: str, ts: str
) -> bool:
    p = posts_t.c
    result = conn.execute(
        update(posts_t)
        .where(p.digest == digest, p.window_end == window_end, p.claimed_by == worker)
        .values(status=DigestPostStatus.POSTED, posted_at=now, channel=channel, ts=ts)
    )
    return result.rowcount == 1


def latest_window(conn: Connection, *, digest: str) -> WindowRow | None:
    """The digest's most recent window, posted or still claimed; None before its first."""
    p = posts_t.c
    row = conn.execute(
        select(p.window_end, p.status, p.claimed_at)
        .where(p.digest == digest)
        .order_by(p.window_end.desc())
        .limit(1)
    ).first()
    return WindowRow(row.window_end, row.status, row.claimed_at) if row else None


def posted_windows(conn: Connection, *, digest: str) -> list[datetime]:
    p = posts_t.c
    query = (
        select(p.window_end)
        .where(p.digest == digest, p.status == DigestPostStatus.POSTED)
        .order_by(p.window_end)
    )
    return [row[0] for row in conn.execute(query)]
