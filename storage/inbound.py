"""Named queries for SMS coming back: inbound messages, the send a reply belongs to, and
delivery statuses reported by the provider."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, exists, select, update

from storage.bulk import bulk_insert
from storage.models import Contact, Event, InboundMessage, Send, SendStatus
from storage.send_rollups import sends_changing

inbound_t = InboundMessage.__table__  # type: ignore[attr-defined]
sends_t = Send.__table__  # type: ignore[attr-defined]
contacts_t = Contact.__table__  # type: ignore[attr-defined]
events_t = Event.__table__  # type: ignore[attr-defined]

# Sends a reply can answer: ones that left, or may have (`unknown`: the provider's answer was lost).
SEND_REPLIABLE = (SendStatus.SENT, SendStatus.DELIVERED, SendStatus.UNDELIVERED, SendStatus.UNKNOWN)
# Where a provider's status report may move a send, and from what; never backwards.
STATUS_MOVES: dict[str, tuple[SendStatus, ...]] = {
    SendStatus.SENT: (SendStatus.UNKNOWN,),
    SendStatus.DELIVERED: (SendStatus.SENT, SendStatus.UNKNOWN),
    SendStatus.UNDELIVERED: (SendStatus.SENT, SendStatus.UNKNOWN),
    SendStatus.FAILED: (SendStatus.SENT, SendStatus.UNKNOWN),
}


@dataclass(frozen=True)
class RepliedSend:
    """The send an SMS reply is matched to, with what the conversation needs."""

    id: str
    survey: str
    reply_state: str | None
    expires_at: datetime | None
    contact: dict[str, Any]
    properties: dict[str, Any]
    locale: str | None = None  # the language its texts went out in

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at


@dataclass(frozen=True)
class StatusChange:
    send_id: str
    channel: str
    to_address: str | None
    moved: bool
    previous: str | None = None  # the status it moved from


def stored_answer(conn: Connection, message_sid: str) -> tuple[bool, str | None]:
    """(seen before, what we answered then) for an inbound message."""
    row = conn.execute(select(inbound_t.c.answer).where(inbound_t.c.message_sid == message_sid)).first()
    return (True, row.answer) if row else (False, None)


def insert_inbound(conn: Connection, **values: Any) -> None:
    bulk_insert(conn, inbound_t, [values])


def latest_sms_send(conn: Connection, address: str, *, channel: str = "sms") -> RepliedSend | None:
    """The latest send by `channel` (sms or whatsapp) to `address` that may have reached it
    (see `SEND_REPLIABLE`) and that no fallback has taken over from."""
    s, c, e = sends_t.c, contacts_t.c, events_t.c
    fallback = sends_t.alias("fallback_send")
    replaced = exists().where(fallback.c.fallback_of == s.id)
    row = conn.execute(
        select(s.id, s.survey, s.reply_state, s.expires_at, s.locale.label("send_locale"),
               c.id.label("contact_id"), c.name, c.email, c.phone, c.locale, c.timezone, e.properties)
        .join(contacts_t, c.id == s.contact_id)
        .outerjoin(events_t, e.pk == s.event_pk)  # the event may be purged by retention
        .where(s.channel == channel, s.to_address == address, s.status.in_(SEND_REPLIABLE), ~replaced)
        .order_by(s.due_at.desc(), s.id.desc())
        .limit(1)
    ).first()  # fmt: skip
    if row is None:
        return None
    contact = {"id": row.contact_id, "name": row.name, "email": row.email, "phone": row.phone,
               "locale": row.locale, "timezone": row.timezone}  # fmt: skip
    return RepliedSend(row.id, row.survey, row.reply_state, row.expires_at, contact,
                       dict(row.properties or {}), row.send_locale)  # fmt: skip


def set_reply_state(conn: Connection, send_id: str, state: str | None, now: datetime) -> None:
    conn.execute(update(sends_t).where(sends_t.c.id == send_id).values(reply_state=state, updated_at=now))


def record_provider_status(
    conn: Connection, *, message_sid: str, status: str, reason: str | None, now: datetime
) -> StatusChange | None:
    """Move the send Twilio knows as `message_sid` to `status`, only forwards (`STATUS_MOVES`).

    None when no send has that message id; `moved` is False when the report was stale or
    repeated (a late `sent` after `delivered`) and nothing changed.
    """
    s = sends_t.c
    row = conn.execute(
        select(s.id, s.channel, s.to_address, s.status).where(s.provider_message_id == message_sid)
    ).first()
    if row is None:
        return None
    values: dict[str, Any] = {"status": status, "updated_at": now}
    if reason:
        values["reason"] = reason
    # Delivery reports move sends between the states that left: the send rollups follow.
    with sends_changing(conn, [row.id]):
        result = conn.execute(
            update(sends_t).where(s.id == row.id, s.status.in_(STATUS_MOVES.get(status, ()))).values(**values)
        )
    return StatusChange(row.id, row.channel, row.to_address, moved=result.rowcount == 1, previous=row.status)
