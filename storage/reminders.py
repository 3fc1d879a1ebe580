"""Named queries for reminders: plan, claim, mark, record, recover; and their response rates.

A reminder is its own row keyed by its send (`storage.models.Reminder`), so a send has at most
one. It takes the way out a send takes (`storage.sends`): claim (scheduled -> claimed, one worker
wins), `mark_reminder_sending` (claimed -> sending, only by the claimer), then the outcome; a
crash while `sending` leaves it `unknown`, never repeated. Reminders live apart from `sends`, so
no cooldown, cap, sampling or daily-cap query ever sees them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, false, func, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite

from storage.hold_rollups import count_holds
from storage.models import (
    SEND_LEFT,
    Contact,
    Decision,
    Event,
    Reminder,
    Response,
    Send,
    SendStatus,
)
from storage.send_rollups import send_parts, sends_changing
from storage.sends import expire_in_flight, release_claims

reminders_t = Reminder.__table__  # type: ignore[attr-defined]
sends_t = Send.__table__  # type: ignore[attr-defined]
contacts_t = Contact.__table__  # type: ignore[attr-defined]
events_t = Event.__table__  # type: ignore[attr-defined]
responses_t = Response.__table__  # type: ignore[attr-defined]
decisions_t = Decision.__table__  # type: ignore[attr-defined]

# The first ask reached the contact (or nothing says it did not): a reminder may follow it.
FIRST_ASK_DELIVERED = (SendStatus.SENT, SendStatus.DELIVERED)


@dataclass(frozen=True)
class DueReminder:
    """A claimed reminder with its send, as the re-check and the message need them."""

    send_id: str
    attempts: int
    due_at: datetime
    survey: str
    metric: str
    trigger: str
    channel: str
    to_address: str
    send_status: str
    sent_at: datetime | None
    expires_at: datetime | None
    responded: bool
    forgotten: bool
    event_pk: str
    event_received_at: datetime | None
    contact: dict[str, Any]
    properties: dict[str, Any]
    locale: str | None = None  # the language the first ask went out in


def schedule_reminder(conn: Connection, *, send_id: str, due_at: datetime, now: datetime) -> bool:
    """Plan the send's reminder; False when it already has one (it never gets a second)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    result = conn.execute(
        dialect.insert(reminders_t)
        .values(send_id=send_id, status=SendStatus.SCHEDULED, attempts=0, due_at=due_at,
                created_at=now, updated_at=now)
        .on_conflict_do_nothing()
    )  # fmt: skip
    return bool(result.rowcount)


def plan_reminder(conn: Connection, *, send_id: str, due_at: datetime, now: datetime) -> None:
    """Plan the reminder of a send just recorded as sent, with the decision `explain` shows."""
    if schedule_reminder(conn, send_id=send_id, due_at=due_at, now=now):
        record_reminder_decision(
            conn, send_id=send_id, outcome="reminder_scheduled", reason=None, due_at=due_at, now=now
        )


def claim_due_reminders(conn: Connection, *, now: datetime, worker: str, limit: int) -> list[str]:
    """Claim up to `limit` due reminders (by send id) for `worker`; each is claimed once."""
    m = reminders_t.c
    due = (
        select(m.send_id)
        .where(m.status == SendStatus.SCHEDULED, m.due_at <= now)
        .order_by(m.due_at)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    rows = conn.execute(
        update(reminders_t)
        .where(m.send_id.in_(due.scalar_subquery()), m.status == SendStatus.SCHEDULED)
        .values(status=SendStatus.CLAIMED, claimed_by=worker, claimed_at=now, updated_at=now)
        .returning(m.send_id)
    )
    return [row[0] for row in rows]


def load_due_reminders(conn: Connection, send_ids: Sequence[str]) -> list[DueReminder]:
    """The reminders of `send_ids` with their sends, contacts, events and whether answered."""
    m, s, c, e, r = reminders_t.c, sends_t.c, contacts_t.c, events_t.c, responses_t.c
    rows = conn.execute(
        select(
            m.send_id, m.attempts, m.due_at, s.survey, s.metric, s.trigger, s.channel, s.to_address,
            s.status.label("send_status"), s.sent_at, s.expires_at, r.id.label("response_id"),
            c.forgotten_at, s.event_pk, e.received_at.label("event_received_at"), c.id.label("contact_id"),
            c.name, c.email, c.phone, c.locale, c.timezone, e.properties, s.locale.label("send_locale"),
        )
        .join(sends_t, s.id == m.send_id)
        .join(contacts_t, c.id == s.contact_id)
        .outerjoin(events_t, e.pk == s.event_pk)  # the event may be purged by retention
        .outerjoin(responses_t, r.send_id == s.id)
        .where(m.send_id.in_(send_ids))
        .order_by(m.due_at)
    )  # fmt: skip
    return [
        DueReminder(
            r.send_id, r.attempts, r.due_at, r.survey, r.metric, r.trigger, r.channel, r.to_address or "",
            r.send_status, r.sent_at, r.expires_at, r.response_id is not None, r.forgotten_at is not None,
            r.event_pk, r.event_received_at,
            {"id": r.contact_id, "name": r.name, "email": r.email, "phone": r.phone, "locale": r.locale,
             "timezone": r.timezone},
            dict(r.properties or {}), r.send_locale,
        )
        for r in rows
    ]  # fmt: skip


def drop_reminders(conn: Connection, send_ids: Iterable[str], *, reason: str, now: datetime) -> None:
    """Suppress claimed reminders that cannot be judged (their send is gone), with `reason`."""
    m = reminders_t.c
    conn.execute(
        update(reminders_t)
        .where(m.send_id.in_(list(send_ids)), m.status == SendStatus.CLAIMED)
        .values(status=SendStatus.SUPPRESSED, reason=reason, updated_at=now)
    )


def later_events(
    conn: Connection, *, contact_id: str, types: Sequence[str], after: datetime
) -> list[dict[str, Any]]:
    """The contact's events of `types` received after `after`, as documents the rules read."""
    if not types:
        return []
    e = events_t.c
    rows = conn.execute(
        select(e.event_id, e.type, e.properties).where(
            e.contact_id == contact_id, e.type.in_(types), e.received_at > after
        )
    )
    return [
        {"id": r.event_id, "type": r.type, "contact": {"id": contact_id}, "properties": r.properties or {}}
        for r in rows
    ]


def newer_send_left(conn: Connection, *, contact_id: str, send_id: str, since: datetime) -> bool:
    """Whether another survey reached the contact after `since` (a send that left, not a test)."""
    s = sends_t.c
    query = select(s.id).where(
        s.contact_id == contact_id,
        s.id != send_id,
        s.status.in_((*SEND_LEFT, SendStatus.UNKNOWN)),
        s.sent_at > since,
        s.test == false(),
    )
    return conn.execute(query.limit(1)).first() is not None


def mark_reminder_sending(conn: Connection, *, send_id: str, worker: str, now: datetime) -> bool:
    """claimed -> sending, only if still ours; False when it was taken back meanwhile."""
    m = reminders_t.c
    result = conn.execute(
        update(reminders_t)
        .where(m.send_id == send_id, m.status == SendStatus.CLAIMED, m.claimed_by == worker)
        .values(status=SendStatus.SENDING, updated_at=now, attempts=m.attempts + 1)
    )
    return result.rowcount == 1


def set_reminder_status(
    conn: Connection, *, send_id: str, status: SendStatus, now: datetime, from_status: tuple[SendStatus, ...],
    **values: Any,
) -> bool:  # fmt: skip
    """Move the reminder to `status` (and set `values`) only from one of `from_status`; the
    send rollups follow when the reminder may leave or have left."""
    m = reminders_t.c
    update_it = (
        update(reminders_t)
        .where(m.send_id == send_id, m.status.in_(from_status))
        .values(status=status, updated_at=now, **values)
    )
    if status not in SEND_LEFT and not set(from_status) & set(SEND_LEFT):
        return conn.execute(update_it).rowcount == 1
    with sends_changing(conn, [send_id]):
        return conn.execute(update_it).rowcount == 1


def release_reminder_claims(
    conn: Connection, *, worker: str | None, now: datetime, older_than: datetime | None = None
) -> int:
    """Give claimed (never started) reminders back: a worker's own, or stale ones."""
    return release_claims(conn, worker=worker, now=now, older_than=older_than, table=reminders_t)


def expire_reminders_in_flight(conn: Connection, *, now: datetime, older_than: datetime) -> int:
    """Reminders left `sending` by a worker that died: they may have left, so `unknown`."""
    return expire_in_flight(conn, now=now, older_than=older_than, table=reminders_t)


def record_reminder_decision(
    conn: Connection,
    *,
    send_id: str,
    outcome: str,
    reason: str | None,
    due_at: datetime | None,
    now: datetime,
    detail: str | None = None,
) -> None:
    """A reminder decision beside the send's own ones, so `explain` shows it in its history."""
    s = sends_t.c
    send = conn.execute(select(s.event_pk, s.contact_id, s.trigger, s.survey).where(s.id == send_id)).one()
    row = {"event_pk": send.event_pk, "contact_id": send.contact_id, "trigger": send.trigger,
           "survey": send.survey, "outcome": outcome, "reason": reason, "detail": detail,
           "send_id": send_id, "due_at": due_at, "decided_at": now}  # fmt: skip
    conn.execute(decisions_t.insert().values(**row))
    count_holds(conn, [row])


def contact_reminders(conn: Connection, contact_id: str) -> list[Any]:
    """The contact's reminders, by due time: what `explain` lists beside the sends."""
    m, s = reminders_t.c, sends_t.c
    return list(
        conn.execute(
            select(m.send_id, s.survey, s.channel, m.status, m.reason, m.due_at, m.sent_at)
            .join(sends_t, s.id == m.send_id)
            .where(s.contact_id == contact_id)
            .order_by(m.due_at, m.send_id)
        )
    )


@dataclass(frozen=True)
class ReminderRateRow:
    """Of a survey's first asks that left in the window: how many were answered before any
    reminder left, how many reminders left, and how many were answered after their reminder."""

    survey: str
    first_asks: int
    first_responses: int
    reminders: int
    reminder_responses: int


def reminder_rates(
    conn: Connection, *, surveys: Sequence[str], start: datetime, end: datetime
) -> list[ReminderRateRow]:
    """Per survey, the response rates' parts of first asks and of reminders, for the sends that
    left (sent, delivered, undelivered) with `sent_at` in `[start, end)`; only counted responses.
    Whole UTC hours come from `storage.send_rollups`: the same numbers as `raw_reminder_rates`."""
    return [
        ReminderRateRow(p.survey, p.first_asks, p.first_responses, p.reminders, p.reminder_responses)
        for p in send_parts(conn, surveys=surveys, start=start, end=end)
    ]


def raw_reminder_rates(
    conn: Connection, *, surveys: Sequence[str], start: datetime, end: datetime
) -> list[ReminderRateRow]:
    """`reminder_rates` from the rows alone (the reference)."""
    s, r, m = sends_t.c, responses_t.c, reminders_t.c
    reminder_left = and_(m.status.in_(SEND_LEFT), m.sent_at.is_not(None))
    answered = r.id.is_not(None)
    no_reminder_left = or_(m.send_id.is_(None), m.sent_at.is_(None), m.status.not_in(SEND_LEFT))
    after_reminder = and_(answered, reminder_left, r.received_at >= m.sent_at)
    query = (
        select(
            s.survey,
            func.count().label("first_asks"),
            func.count(r.id).filter(and_(answered, or_(no_reminder_left, r.received_at < m.sent_at))),
            func.count(m.send_id).filter(reminder_left),
            func.count(r.id).filter(after_reminder),
        )
        .select_from(
            sends_t.outerjoin(responses_t, and_(r.send_id == s.id, r.counted == true())).outerjoin(
                reminders_t, m.send_id == s.id
            )
        )
        .where(
            s.survey.in_(surveys),
            s.status.in_(SEND_LEFT),
            s.sent_at >= start,
            s.sent_at < end,
            s.test == false(),
        )
        .group_by(s.survey)
    )
    return [ReminderRateRow(*row) for row in conn.execute(query)]
