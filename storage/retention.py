"""Purging what the `retention` settings say is too old, a chunk per transaction.

Events are deleted; comments and SMS bodies are emptied where they are stored (the columns
registered in `storage.erasure.PERSONAL_DATA` with `kept_for`), their rows kept, so scores,
sends and decisions stay whole. Each function purges at most `limit` rows and returns how
many it did: the caller repeats until fewer come back, so no transaction holds locks for long.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, or_, select, update

from storage.erasure import PERSONAL_DATA, comments_changing
from storage.models import SEND_PENDING, Event, Purge, Send, SendStatus
from storage.rollups import events_changing

events_t = Event.__table__  # type: ignore[attr-defined]
sends_t = Send.__table__  # type: ignore[attr-defined]
purges_t = Purge.__table__  # type: ignore[attr-defined]


def purge_events(conn: Connection, *, cutoff: datetime, now: datetime, limit: int) -> int:
    """Delete events received before `cutoff`, except those a send still needs: one not gone
    out yet (its message is rendered from the event) or still open for replies.

    Sends and decisions keep their `event_pk`; metrics outer-join events, so a response whose
    event is gone still counts (in the group None of a property breakdown)."""
    s, e = sends_t.c, events_t.c
    still_needed = select(s.event_pk).where(
        or_(s.status.in_((*SEND_PENDING, SendStatus.SENDING)), s.expires_at > now)
    )
    doomed = (
        select(e.pk).where(e.received_at < cutoff, e.pk.not_in(still_needed.scalar_subquery())).limit(limit)
    )
    pks = list(conn.execute(doomed).scalars())
    if not pks:
        return 0
    # Their responses' property groups become None: the rollups move them there.
    with events_changing(conn, pks):
        result = conn.execute(delete(events_t).where(e.pk.in_(pks)))
    return result.rowcount


def purge_listed(conn: Connection, *, setting: str, cutoff: datetime, limit: int) -> int:
    """Empty the registered columns kept for `setting` on rows older than `cutoff`."""
    purged = 0
    for data in PERSONAL_DATA:
        if data.kept_for != setting:
            continue
        table = data.sql_table()
        key = next(iter(table.primary_key.columns))
        old = select(key).where(table.c[data.age] < cutoff, data.still_held()).limit(limit - purged)
        ids = list(conn.execute(old).scalars())  # fixed first: the rollups re-read the same rows
        if not ids:
            continue
        with comments_changing(conn, table, key.in_(ids)):
            result = conn.execute(update(table).where(key.in_(ids)).values(**data.erased))
        purged += result.rowcount
        if purged >= limit:
            break
    return purged


def record_purge(conn: Connection, *, kind: str, cutoff: datetime, rows: int, now: datetime) -> None:
    conn.execute(insert(purges_t).values(kind=kind, cutoff=cutoff, rows=rows, ran_at=now))


def latest_purges(conn: Connection) -> dict[str, datetime]:
    """Per kind, the latest cutoff purged: everything of that kind before it is gone."""
    p = purges_t.c
    rows = conn.execute(select(p.kind, func.max(p.cutoff).label("cutoff")).group_by(p.kind))
    return {row.kind: row.cutoff for row in rows}
