"""Named queries for responses: one per send, kept even when late, counted only while open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, select, update

from storage.bulk import bulk_insert
from storage.models import Contact, Event, Response, Send
from storage.rollups import shift_rollups
from storage.send_rollups import sends_changing
from storage.theme_rollups import shift_themes

responses_t = Response.__table__  # type: ignore[attr-defined]
sends_t = Send.__table__  # type: ignore[attr-defined]
contacts_t = Contact.__table__  # type: ignore[attr-defined]
events_t = Event.__table__  # type: ignore[attr-defined]
RecordResult = Literal["recorded", "updated", "closed"]


@dataclass(frozen=True)
class SendAnswer:
    send_id: str
    survey: str
    metric: str
    channel: str
    contact_id: str
    to_address: str | None
    address_key: str | None  # set once the address was erased (see storage.erasure)
    status: str
    expires_at: datetime | None
    score: int | None
    comment: str | None
    test: bool = False  # a `send-test` send: its response is kept, never counted

    def is_open(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at


def load_send_answer(conn: Connection, send_id: str) -> SendAnswer | None:
    s, r = sends_t.c, responses_t.c
    row = conn.execute(
        select(
            s.id.label("send_id"),
            s.survey,
            s.metric,
            s.channel,
            s.contact_id,
            s.to_address,
            s.address_key,
            s.status,
            s.expires_at,
            r.score,
            r.comment,
            s.test,
        )
        .outerjoin(responses_t, r.send_id == s.id)
        .where(s.id == send_id)
    ).first()
    return SendAnswer(**row._mapping) if row else None


def record_response(
    conn: Connection, answer: SendAnswer, *, score: int, comment: str | None, now: datetime
) -> RecordResult:
    """The send's one response: the first is always kept (counted only while the survey is
    open, and never for a test send); a later one replaces it while open; after expiry nothing
    changes. A None comment leaves the stored comment alone. The rollups follow in the same
    transaction."""
    with sends_changing(conn, [answer.send_id]):
        return _record(conn, answer, score=score, comment=comment, now=now)


def _record(
    conn: Connection, answer: SendAnswer, *, score: int, comment: str | None, now: datetime
) -> RecordResult:
    is_open = answer.is_open(now)
    this_send = responses_t.c.send_id == answer.send_id
    if answer.score is None:
        bulk_insert(
            conn,
            responses_t,
            [
                {
                    "send_id": answer.send_id,
                    "contact_id": answer.contact_id,
                    "survey": answer.survey,
                    "metric": answer.metric,
                    "channel": answer.channel,
                    "score": score,
                    "comment": comment,
                    "counted": is_open and not answer.test,
                    "received_at": now,
                    "updated_at": now,
                }
            ],
        )
        if is_open and not answer.test:
            shift_rollups(conn, this_send, sign=1)
            shift_themes(conn, this_send, sign=1)
        return "recorded"
    if not is_open:
        return "closed"
    values: dict[str, object] = {"score": score, "updated_at": now}
    if comment is not None:
        values["comment"] = comment or None
    shift_rollups(conn, this_send, sign=-1)
    shift_themes(conn, this_send, sign=-1)
    conn.execute(update(responses_t).where(this_send).values(**values))
    shift_rollups(conn, this_send, sign=1)
    shift_themes(conn, this_send, sign=1)
    return "updated"


@dataclass(frozen=True)
class SendContext:
    """What a send's texts are rendered with again (the rating page's question): its language,
    the contact and the event's properties (empty once retention purged the event)."""

    locale: str | None
    contact: dict[str, Any]
    properties: dict[str, Any]


def load_send_context(conn: Connection, send_id: str) -> SendContext | None:
    s, c, e = sends_t.c, contacts_t.c, events_t.c
    row = conn.execute(
        select(s.locale, s.contact_id, c.name, c.email, c.phone, c.locale.label("contact_locale"),
               c.timezone, e.properties)
        .outerjoin(contacts_t, c.id == s.contact_id)
        .outerjoin(events_t, e.pk == s.event_pk)
        .where(s.id == send_id)
    ).first()  # fmt: skip
    if row is None:
        return None
    contact = {"id": row.contact_id, "name": row.name, "email": row.email, "phone": row.phone,
               "locale": row.contact_locale, "timezone": row.timezone}  # fmt: skip
    return SendContext(row.locale, contact, dict(row.properties or {}))
