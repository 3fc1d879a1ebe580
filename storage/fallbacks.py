"""Named queries for a trigger's `fallback`: the failed send it starts from, the one fallback
send beside it, and the decision that says why.

At most one fallback per send, and none of a fallback: `uq_sends_fallback_of` and
`uq_sends_event_trigger_fallback` hold that even when the dispatcher and a status callback
(or two workers) reach the same failed send at once; the loser inserts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from storage.hold_rollups import count_holds
from storage.intake import new_send_id
from storage.models import Contact, Decision, Event, Send, SendStatus
from storage.outcomes import unfollow
from storage.send_rollups import sends_changing

sends_t = Send.__table__  # type: ignore[attr-defined]
contacts_t = Contact.__table__  # type: ignore[attr-defined]
events_t = Event.__table__  # type: ignore[attr-defined]
decisions_t = Decision.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class FallbackOrigin:
    """A send that failed or was undelivered, with what choosing its fallback needs."""

    id: str
    event_pk: str
    trigger: str
    survey: str
    metric: str
    contact_id: str
    channel: str
    status: str
    due_at: datetime
    is_fallback: bool
    test: bool
    phone: str | None
    email: str | None
    occurred_at: datetime | None  # None once retention purged the event

    def address(self, channel: str) -> str | None:
        return self.phone if channel in ("sms", "whatsapp") else self.email if channel == "email" else None


def load_origin(conn: Connection, send_id: str) -> FallbackOrigin | None:
    s, c, e = sends_t.c, contacts_t.c, events_t.c
    row = conn.execute(
        select(s.id, s.event_pk, s.trigger, s.survey, s.metric, s.contact_id, s.channel, s.status,
               s.due_at, s.fallback, s.test, c.phone, c.email, e.occurred_at)
        .join(contacts_t, c.id == s.contact_id)
        .outerjoin(events_t, e.pk == s.event_pk)
        .where(s.id == send_id)
    ).first()  # fmt: skip
    if row is None:
        return None
    return FallbackOrigin(row.id, row.event_pk, row.trigger, row.survey, row.metric, row.contact_id,
                          row.channel, row.status, row.due_at, row.fallback, row.test, row.phone,
                          row.email, row.occurred_at)  # fmt: skip


def insert_fallback(
    conn: Connection, origin: FallbackOrigin, *, channel: str, to: str, now: datetime
) -> str | None:
    """Schedule the fallback of `origin` on `channel`, due now; its id, or None when `origin`
    already has one."""
    send_id = new_send_id()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    with sends_changing(conn, [origin.id]):  # an undelivered origin no longer counts as asked
        inserted = conn.execute(
            dialect.insert(sends_t)
            .values(id=send_id, event_pk=origin.event_pk, trigger=origin.trigger, survey=origin.survey,
                    metric=origin.metric, contact_id=origin.contact_id, channel=channel, to_address=to,
                    status=SendStatus.SCHEDULED, attempts=0, due_at=now, created_at=now, updated_at=now,
                    fallback=True, fallback_of=origin.id)
            .on_conflict_do_nothing()
            .returning(sends_t.c.id)
        ).scalar()  # fmt: skip
    if inserted is not None:
        unfollow(conn, [origin.id])  # the fallback is followed in its place, once it leaves
    return str(inserted) if inserted is not None else None


def record_decision(
    conn: Connection,
    origin: FallbackOrigin,
    *,
    outcome: str,
    reason: str,
    detail: str,
    send_id: str | None,
    now: datetime,
) -> None:
    """`fallback` (a send scheduled on the next channel) or `no_fallback`, kept with the
    ingestion-time decisions so `explain` shows it; `reason` carries the provider's words."""
    row = {"event_pk": origin.event_pk, "contact_id": origin.contact_id, "trigger": origin.trigger,
           "survey": origin.survey, "outcome": outcome, "reason": reason, "detail": detail,
           "send_id": send_id or origin.id, "due_at": now if send_id else None,
           "decided_at": now}  # fmt: skip
    conn.execute(decisions_t.insert().values(**row))
    count_holds(conn, [row])
