"""Named queries for the outbox: messages written with the change they report, then delivered.

A message is inserted `pending` in the transaction of its change (a response, an alert, an
opt-out, a failed send), so a crash can lose none. A worker claims a batch for a lease: on
PostgreSQL with `FOR UPDATE SKIP LOCKED`, so processes never take the same message at the same
time; on SQLite the write lock does the same. A claim whose worker died expires with its lease
and the message goes out again under the same id: delivery is at least once, never zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, or_, select, update

from storage.bulk import bulk_insert
from storage.ids import new_id
from storage.models import Event, OutboxMessage, OutboxStatus, Send

outbox_t = OutboxMessage.__table__  # type: ignore[attr-defined]
sends_t = Send.__table__  # type: ignore[attr-defined]
events_t = Event.__table__  # type: ignore[attr-defined]

ERROR_MAX = 500  # characters of a receiver's error kept for `surveybot webhooks`


@dataclass(frozen=True)
class Outgoing:
    """A message to write: one target, one event, its exact body."""

    target: str
    kind: str
    event_type: str
    body: str
    contact_id: str | None = None
    send_id: str | None = None
    ticket_id: str | None = None


@dataclass(frozen=True)
class Message:
    id: str
    target: str
    kind: str
    event_type: str
    contact_id: str | None
    send_id: str | None
    ticket_id: str | None
    body: str
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    give_up_at: datetime
    delivered_at: datetime | None
    last_status: int | None
    last_error: str | None


@dataclass(frozen=True)
class SendFacts:
    """What a message about a send may say, and where its event came from."""

    send_id: str
    survey: str
    metric: str
    trigger: str
    channel: str
    contact_id: str
    test: bool
    event_id: str | None
    event_type: str | None
    event_source: str | None
    properties: dict[str, Any]


def new_message_id() -> str:
    return new_id("msg")


def enqueue(
    conn: Connection, messages: Sequence[Outgoing], *, now: datetime, keep_trying: timedelta
) -> list[str]:
    """Write `messages` as pending, due now, retried until `now + keep_trying`; their ids."""
    rows: list[dict[str, Any]] = [
        {
            "id": new_message_id(),
            "target": m.target,
            "kind": m.kind,
            "event_type": m.event_type,
            "contact_id": m.contact_id,
            "send_id": m.send_id,
            "ticket_id": m.ticket_id,
            "body": m.body,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
            "give_up_at": now + keep_trying,
        }
        for m in messages
    ]
    bulk_insert(conn, outbox_t, rows)
    return [row["id"] for row in rows]


def claim_due(conn: Connection, *, now: datetime, worker: str, lease: timedelta, limit: int) -> list[Message]:
    """Claim up to `limit` due messages for `worker` until `now + lease`, oldest due first."""
    o = outbox_t.c
    query = (
        select(o.id)
        .where(
            o.status == OutboxStatus.PENDING,
            o.next_attempt_at <= now,
            or_(o.claimed_until.is_(None), o.claimed_until < now),
        )
        .order_by(o.next_attempt_at)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(conn.execute(query).scalars())
    if not ids:
        return []
    conn.execute(update(outbox_t).where(o.id.in_(ids)).values(claimed_by=worker, claimed_until=now + lease))
    return load(conn, ids)


def load(conn: Connection, ids: Sequence[str]) -> list[Message]:
    rows = conn.execute(select(*_columns()).where(outbox_t.c.id.in_(ids)).order_by(outbox_t.c.id))
    return [Message(**row._mapping) for row in rows]


def mark_delivered(conn: Connection, *, message_id: str, worker: str, status: int, now: datetime) -> bool:
    """The receiver took it; False when the claim was lost (another worker has it now)."""
    return _settle(conn, message_id, worker, status=OutboxStatus.DELIVERED, delivered_at=now,
                   last_status=status, last_error=None)  # fmt: skip


def mark_attempt_failed(
    conn: Connection,
    *,
    message_id: str,
    worker: str,
    status: int | None,
    error: str,
    retry_at: datetime | None,
) -> bool:
    """One attempt failed: due again at `retry_at`, or `failed` for good when that is None."""
    values: dict[str, Any] = {"last_status": status, "last_error": error[:ERROR_MAX]}
    if retry_at is None:
        values["status"] = OutboxStatus.FAILED
    else:
        values["next_attempt_at"] = retry_at
    return _settle(conn, message_id, worker, **values)


def _settle(conn: Connection, message_id: str, worker: str, **values: Any) -> bool:
    o = outbox_t.c
    result = conn.execute(
        update(outbox_t)
        .where(o.id == message_id, o.claimed_by == worker, o.status == OutboxStatus.PENDING)
        .values(attempts=o.attempts + 1, claimed_by=None, claimed_until=None, **values)
    )
    return result.rowcount == 1


def release(conn: Connection, *, message_ids: Sequence[str], worker: str) -> int:
    """Give back claimed messages not attempted (their target is down this round, or shutdown)."""
    if not message_ids:
        return 0
    o = outbox_t.c
    result = conn.execute(
        update(outbox_t)
        .where(o.id.in_(message_ids), o.claimed_by == worker, o.status == OutboxStatus.PENDING)
        .values(claimed_by=None, claimed_until=None)
    )
    return result.rowcount


def retry(conn: Connection, *, message_id: str, now: datetime, keep_trying: timedelta) -> Message | None:
    """A failed message pending again, due now, with a new day of retries; None when it is not
    failed (unknown, delivered, dropped, or still being retried)."""
    o = outbox_t.c
    result = conn.execute(
        update(outbox_t)
        .where(o.id == message_id, o.status == OutboxStatus.FAILED)
        .values(status=OutboxStatus.PENDING, next_attempt_at=now, give_up_at=now + keep_trying)
    )
    if result.rowcount != 1:
        return None
    return load(conn, [message_id])[0]


def recent(conn: Connection, *, limit: int, status: str | None = None) -> list[Message]:
    """The newest messages first; only those in `status` when given."""
    query = select(*_columns()).order_by(outbox_t.c.created_at.desc(), outbox_t.c.id.desc()).limit(limit)
    if status:
        query = query.where(outbox_t.c.status == status)
    return [Message(**row._mapping) for row in conn.execute(query)]


def counts_by_status(conn: Connection) -> dict[str, int]:
    o = outbox_t.c
    rows = conn.execute(select(o.status, func.count()).group_by(o.status))
    return {row[0]: row[1] for row in rows}


def erase_for_contacts(conn: Connection, contact_ids: Sequence[str]) -> int:
    """Forget: the contacts' messages lose their bodies; those not delivered are `dropped`, so
    nothing about an erased contact leaves after `forget`. Rows changed."""
    if not contact_ids:
        return 0
    o = outbox_t.c
    mine = o.contact_id.in_(contact_ids)
    dropped = conn.execute(
        update(outbox_t)
        .where(mine, o.status.in_((OutboxStatus.PENDING, OutboxStatus.FAILED)))
        .values(status=OutboxStatus.DROPPED, body="", claimed_by=None, claimed_until=None)
    ).rowcount
    blanked = conn.execute(
        update(outbox_t).where(mine, o.status == OutboxStatus.DELIVERED, o.body != "").values(body="")
    ).rowcount
    return dropped + blanked


def purge_settled(conn: Connection, *, before: datetime) -> int:
    """Delete the messages written before `before` that are done (delivered, dropped) or failed
    for good: their bodies hold comments, and `surveybot webhooks` shows recent ones only."""
    o = outbox_t.c
    done = (OutboxStatus.DELIVERED, OutboxStatus.DROPPED, OutboxStatus.FAILED)
    result = conn.execute(outbox_t.delete().where(o.created_at < before, o.status.in_(done)))
    return result.rowcount


def send_facts(conn: Connection, send_id: str) -> SendFacts | None:
    s, e = sends_t.c, events_t.c
    row = conn.execute(
        select(
            s.id.label("send_id"), s.survey, s.metric, s.trigger, s.channel, s.contact_id, s.test,
            e.event_id, e.type.label("event_type"), e.source.label("event_source"), e.properties,
        )
        .select_from(sends_t.outerjoin(events_t, e.pk == s.event_pk))
        .where(s.id == send_id)
    ).first()  # fmt: skip
    if row is None:
        return None
    return SendFacts(**{**row._mapping, "properties": dict(row.properties or {})})


def _columns() -> list[Any]:
    o = outbox_t.c
    return [
        o.id, o.target, o.kind, o.event_type, o.contact_id, o.send_id, o.ticket_id, o.body, o.status,
        o.attempts, o.created_at, o.next_attempt_at, o.give_up_at, o.delivered_at, o.last_status,
        o.last_error,
    ]  # fmt: skip


def release_worker(conn: Connection, *, worker: str) -> int:
    """Give back every message `worker` holds (it is shutting down)."""
    o = outbox_t.c
    result = conn.execute(
        update(outbox_t)
        .where(o.claimed_by == worker, o.status == OutboxStatus.PENDING)
        .values(claimed_by=None, claimed_until=None)
    )
    return result.rowcount
