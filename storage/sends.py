"""Named queries for sends on their way out: claim, mark, record, recover.

The life of a send guarantees at most one delivery attempt that may have left:
  claim (scheduled -> claimed, one worker wins), then just before the provider is called
  `mark_sending` (claimed -> sending, only by the claimer), then `set_status` with the answer.
A crash while `claimed` is harmless (the claim expires and the send is released); a crash while
`sending` leaves the send `unknown`, never repeated. `storage.models.SendStatus` lists every move.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, select, update

from storage.bulk import bulk_insert
from storage.hold_rollups import count_holds
from storage.ids import new_id
from storage.intake import event_row, merge_contacts, new_send_id
from storage.models import SEND_LEFT, Contact, Decision, Event, Send, SendStatus
from storage.send_rollups import sends_changing
from triggers.events import EventIn

sends_t = Send.__table__  # type: ignore[attr-defined]
contacts_t = Contact.__table__  # type: ignore[attr-defined]
events_t = Event.__table__  # type: ignore[attr-defined]
decisions_t = Decision.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ClaimedSend:
    id: str
    survey: str
    metric: str
    trigger: str
    channel: str
    to_address: str
    due_at: datetime
    attempts: int
    contact: dict[str, Any]
    properties: dict[str, Any]
    event_pk: str = ""
    test: bool = False


TEST_TRIGGER = "send-test"  # the `trigger` of a test send: no configured trigger decided it


def insert_test_send(
    conn: Connection, event: EventIn, *, survey: str, metric: str, channel: str, worker: str, now: datetime
) -> str:
    """Store `event` (its contact merged as ingestion does) and a test send for it, already
    claimed by `worker`, so it takes the normal way out (`mark_sending`, then the outcome) and no
    dispatcher can claim it meanwhile. Returns the send's id."""
    contact = merge_contacts(conn, [event.contact], now=now).by_id[event.contact.id]
    event_pk = new_id("evt")
    send_id = new_send_id()
    bulk_insert(conn, events_t, [event_row(event, pk=event_pk, source="test", now=now)])
    conn.execute(
        sends_t.insert().values(
            id=send_id, event_pk=event_pk, trigger=TEST_TRIGGER, survey=survey, metric=metric,
            contact_id=contact.id, channel=channel, to_address=contact.address(channel),
            status=SendStatus.CLAIMED, attempts=0, due_at=now, created_at=now, updated_at=now,
            claimed_by=worker, claimed_at=now, test=True,
        )
    )  # fmt: skip
    return send_id


def send_status(conn: Connection, send_id: str) -> tuple[str, str | None]:
    """The send's status and reason, as they stand."""
    row = conn.execute(select(sends_t.c.status, sends_t.c.reason).where(sends_t.c.id == send_id)).one()
    return row.status, row.reason


def claim_due(conn: Connection, *, now: datetime, worker: str, limit: int) -> list[str]:
    """Claim up to `limit` due sends for `worker`; a send is claimed by exactly one worker."""
    s = sends_t.c
    due = (
        select(s.id).where(s.status == SendStatus.SCHEDULED, s.due_at <= now).order_by(s.due_at).limit(limit)
    )
    if conn.dialect.name == "postgresql":
        # Chosen once, in a materialized CTE: as an `IN (subquery)` PostgreSQL may run the
        # LIMIT ... SKIP LOCKED subquery more than once and claim more than `limit` rows.
        chosen = due.with_for_update(skip_locked=True).cte("due").prefix_with("MATERIALIZED")
        ids = select(chosen.c.id).scalar_subquery()
    else:
        ids = due.scalar_subquery()
    rows = conn.execute(
        update(sends_t)
        .where(s.id.in_(ids), s.status == SendStatus.SCHEDULED)
        .values(status=SendStatus.CLAIMED, claimed_by=worker, claimed_at=now, updated_at=now)
        .returning(s.id)
    )
    return [row[0] for row in rows]


def load_claimed(conn: Connection, ids: Sequence[str]) -> list[ClaimedSend]:
    """The claimed sends with what their messages need: contact fields, event properties."""
    s, c, e = sends_t.c, contacts_t.c, events_t.c
    rows = conn.execute(
        select(
            s.id,
            s.survey,
            s.metric,
            s.trigger,
            s.channel,
            s.to_address,
            s.due_at,
            s.attempts,
            s.event_pk,
            s.test,
            c.id.label("contact_id"),
            c.name,
            c.email,
            c.phone,
            c.locale,
            c.timezone,
            e.properties,
            e.event_id,
            e.type,
        )
        .join(contacts_t, c.id == s.contact_id)
        .join(events_t, e.pk == s.event_pk)
        .where(s.id.in_(ids))
        .order_by(s.due_at)
    )
    return [
        ClaimedSend(
            r.id,
            r.survey,
            r.metric,
            r.trigger,
            r.channel,
            r.to_address or "",
            r.due_at,
            r.attempts,
            {
                "id": r.contact_id,
                "name": r.name,
                "email": r.email,
                "phone": r.phone,
                "locale": r.locale,
                "timezone": r.timezone,
            },
            dict(r.properties or {}),
            r.event_pk,
            r.test,
        )
        for r in rows
    ]


def mark_sending(
    conn: Connection, *, send_id: str, worker: str, now: datetime, locale: str | None = None
) -> bool:
    """claimed -> sending, only if still ours, noting the `locale` its texts are in; False when
    it was cancelled or taken meanwhile."""
    s = sends_t.c
    result = conn.execute(
        update(sends_t)
        .where(s.id == send_id, s.status == SendStatus.CLAIMED, s.claimed_by == worker)
        .values(status=SendStatus.SENDING, updated_at=now, attempts=s.attempts + 1, locale=locale)
    )
    return result.rowcount == 1


def set_status(
    conn: Connection,
    *,
    send_id: str,
    status: SendStatus,
    now: datetime,
    from_status: tuple[SendStatus, ...],
    **values: Any,
) -> bool:
    """Move the send to `status` (and set `values`) only from one of `from_status`; False when
    it was in none of them (it moved on meanwhile). The send rollups follow a move into or out
    of the states that left."""
    s = sends_t.c
    update_it = (
        update(sends_t)
        .where(s.id == send_id, s.status.in_(from_status))
        .values(status=status, updated_at=now, **values)
    )
    if status not in SEND_LEFT and not set(from_status) & set(SEND_LEFT):
        return conn.execute(update_it).rowcount == 1
    with sends_changing(conn, [send_id]):
        return conn.execute(update_it).rowcount == 1


# The reason a send (or reminder) left `sending` by a worker that died is recorded with.
IN_FLIGHT_REASON = "in flight when its worker stopped"


def release_claims(
    conn: Connection,
    *,
    worker: str | None,
    now: datetime,
    older_than: datetime | None = None,
    table: Table = sends_t,
) -> int:
    """Give claimed (never started) sends back to the queue: a worker's own, or stale ones.
    `table` is any queue that moves like the sends (the reminders)."""
    c = table.c
    query = update(table).where(c.status == SendStatus.CLAIMED)
    if worker is not None:
        query = query.where(c.claimed_by == worker)
    if older_than is not None:
        query = query.where(c.claimed_at < older_than)
    result = conn.execute(
        query.values(status=SendStatus.SCHEDULED, claimed_by=None, claimed_at=None, updated_at=now)
    )
    return result.rowcount


def expire_in_flight(conn: Connection, *, now: datetime, older_than: datetime, table: Table = sends_t) -> int:
    """Sends left `sending` by a worker that died: they may have left, so `unknown`, not retried."""
    c = table.c
    result = conn.execute(
        update(table)
        .where(c.status == SendStatus.SENDING, c.updated_at < older_than)
        .values(status=SendStatus.UNKNOWN, reason=IN_FLIGHT_REASON, updated_at=now)
    )
    return result.rowcount


def record_send_time_decision(
    conn: Connection,
    send: ClaimedSend,
    *,
    outcome: str,
    reason: str,
    due_at: datetime | None,
    now: datetime,
    detail: str | None = None,
) -> None:
    """A decision taken when the send fell due (re-checked), kept beside the ingestion-time ones."""
    row = {"event_pk": send.event_pk, "contact_id": send.contact["id"], "trigger": send.trigger,
           "survey": send.survey, "outcome": outcome, "reason": reason, "detail": detail,
           "send_id": send.id, "due_at": due_at, "decided_at": now}  # fmt: skip
    conn.execute(decisions_t.insert().values(**row))
    count_holds(conn, [row])
