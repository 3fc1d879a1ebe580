"""The responses feed behind `GET /v1/responses`: pages that never skip nor repeat a row.

A feed position is `(feed_seq, id)`. Ordering by `id` (or `received_at`) alone is not enough on
PostgreSQL: ids are handed out as rows are inserted, but transactions commit in another order,
so a reader could pass id 8 (committed) while id 7 is still in flight, and never see 7.

So on PostgreSQL each inserted response takes its `feed_seq` from a sequence while holding a
shared advisory lock until its transaction ends (the column's default; `storage.feed_sql`).
Before a page, the reader takes that lock exclusively for a moment (`feed_horizon`): that waits
for every transaction holding a position to end, and then reads the last position handed out.
Every row at or below it is committed (or rolled back, never to appear), and any row inserted
later takes a higher position; the page shows only rows at or below it. Inserters never wait
for each other, only for a reader's moment; nothing else on the server holds the feed back.

SQLite takes one writer at a time (storage.db), so ids are handed out in commit order and
`feed_seq` is always 0: the position is the id, and there is no horizon.

An answer changed later (a new score while the survey is open, a comment after the score)
updates the row in place: it keeps its position and is not shown again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, select, text, tuple_

from storage import feed_sql
from storage.models import Contact, Event, Response, Send

responses_t = Response.__table__  # type: ignore[attr-defined]
sends_t = Send.__table__  # type: ignore[attr-defined]
events_t = Event.__table__  # type: ignore[attr-defined]
contacts_t = Contact.__table__  # type: ignore[attr-defined]
r, s, e, c = responses_t.c, sends_t.c, events_t.c, contacts_t.c

START = (-1, 0)  # before every row


@dataclass(frozen=True)
class FeedPage:
    rows: Sequence[Any]  # each with the columns of `feed_page`'s select, by name
    position: tuple[int, int]  # after the last row (or where the page started, when empty)
    has_more: bool


def feed_horizon(conn: Connection) -> int | None:
    """The highest `feed_seq` a page may show; None on SQLite (no horizon). Run it in a
    transaction of its own, before `feed_page`'s: it holds the feed's lock until it ends."""
    if conn.dialect.name != "postgresql":
        return None
    conn.execute(text(feed_sql.READER_PATIENCE))
    conn.execute(text(feed_sql.WAIT_FOR_WRITERS))
    return int(conn.execute(text(feed_sql.LAST_POSITION)).scalar_one())


def feed_page(
    conn: Connection,
    *,
    after: tuple[int, int],
    limit: int,
    horizon: int | None,
    since: datetime | None = None,
) -> FeedPage:
    """Up to `limit` responses after position `after` and at or below `horizon` (see
    `feed_horizon`), received at or after `since`."""
    query = (
        select(
            r.feed_seq,
            r.id,
            r.send_id,
            r.survey,
            r.metric,
            r.channel,
            r.score,
            case((c.forgotten_at.is_(None), r.comment), else_=None).label("comment"),
            r.counted,
            r.received_at,
            r.updated_at,
            r.contact_id,
            s.trigger,
            e.event_id,
            e.type.label("event_type"),
        )
        .select_from(
            responses_t.join(sends_t, s.id == r.send_id)
            .outerjoin(events_t, e.pk == s.event_pk)
            .outerjoin(contacts_t, c.id == r.contact_id)
        )
        .where(tuple_(r.feed_seq, r.id) > tuple_(*after))
        .order_by(r.feed_seq, r.id)
        .limit(limit + 1)
    )
    if horizon is not None:
        query = query.where(r.feed_seq <= horizon)
    if since is not None:
        query = query.where(r.received_at >= since)
    rows = conn.execute(query).all()
    page = rows[:limit]
    position = (page[-1].feed_seq, page[-1].id) if page else after
    return FeedPage(rows=page, position=position, has_more=len(rows) > limit)
