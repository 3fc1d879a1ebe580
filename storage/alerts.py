"""Named queries for low-score alerts: post once per send, then claim and resolve the follow-up.

An alert row is inserted (send_id unique) by the process about to post it; a row never marked
posted is taken over after the lease (that process died), so a crash between Slack's answer and
`mark_posted` may post twice, never zero times.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from storage.metrics import is_low_score
from storage.models import Alert, Contact, Event, Response, Send

alerts_t = Alert.__table__  # type: ignore[attr-defined]
responses_t = Response.__table__  # type: ignore[attr-defined]
sends_t = Send.__table__  # type: ignore[attr-defined]
events_t = Event.__table__  # type: ignore[attr-defined]
contacts_t = Contact.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class AlertContext:
    """What an alert shows: the response, its contact and the event that led to the survey."""

    send_id: str
    survey: str
    metric: str
    score: int
    comment: str | None
    channel: str
    received_at: datetime
    contact_id: str
    contact_name: str | None
    event_type: str | None
    properties: dict[str, Any]


@dataclass(frozen=True)
class AlertRow:
    send_id: str
    channel: str | None
    ts: str | None
    posted_at: datetime | None
    claimed_by: str | None
    claimed_at: datetime | None
    resolved_by: str | None
    resolved_at: datetime | None


def claim_post(
    conn: Connection,
    *,
    send_id: str,
    survey: str,
    score: int,
    worker: str,
    now: datetime,
    stale_before: datetime,
) -> bool:
    """True when `worker` is to post this send's alert: first to ask, or the first poster died."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    inserted = conn.execute(
        dialect.insert(alerts_t)
        .values(send_id=send_id, survey=survey, score=score, posting_by=worker, created_at=now)
        .on_conflict_do_nothing()
        .returning(alerts_t.c.id)  # rowcount is not reliable for an INSERT that returns (PostgreSQL)
    )
    if inserted.first() is not None:
        return True
    a = alerts_t.c
    taken = conn.execute(
        update(alerts_t)
        .where(a.send_id == send_id, a.posted_at.is_(None), a.created_at < stale_before)
        .values(posting_by=worker, created_at=now)
    )
    return taken.rowcount == 1


def mark_posted(conn: Connection, *, send_id: str, channel: str, ts: str, now: datetime) -> None:
    conn.execute(
        update(alerts_t).where(alerts_t.c.send_id == send_id).values(channel=channel, ts=ts, posted_at=now)
    )


def load_context(conn: Connection, send_id: str) -> AlertContext | None:
    r, s, e, c = responses_t.c, sends_t.c, events_t.c, contacts_t.c
    row = conn.execute(
        select(
            r.send_id, r.survey, r.metric, r.score, r.comment, r.channel, r.received_at,
            r.contact_id, c.name.label("contact_name"), e.type.label("event_type"), e.properties,
        )
        .select_from(
            responses_t.outerjoin(sends_t, s.id == r.send_id)
            .outerjoin(events_t, e.pk == s.event_pk)
            .outerjoin(contacts_t, c.id == r.contact_id)
        )
        .where(r.send_id == send_id)
    ).first()  # fmt: skip
    if row is None:
        return None
    return AlertContext(**{**row._mapping, "properties": dict(row.properties or {})})


def load_alert(conn: Connection, send_id: str) -> AlertRow | None:
    a = alerts_t.c
    row = conn.execute(
        select(a.send_id, a.channel, a.ts, a.posted_at, a.claimed_by, a.claimed_at, a.resolved_by,
               a.resolved_at).where(a.send_id == send_id)
    ).first()  # fmt: skip
    return AlertRow(**row._mapping) if row else None


def claim_follow_up(conn: Connection, *, send_id: str, user: str, now: datetime) -> bool:
    """The first person to claim it keeps it; True when `user` is that person now."""
    a = alerts_t.c
    result = conn.execute(
        update(alerts_t)
        .where(a.send_id == send_id, a.claimed_by.is_(None))
        .values(claimed_by=user, claimed_at=now)
    )
    return result.rowcount == 1


def resolve(conn: Connection, *, send_id: str, user: str, now: datetime) -> bool:
    """Mark resolved (once); an unclaimed alert counts as claimed by whoever resolved it."""
    claim_follow_up(conn, send_id=send_id, user=user, now=now)
    a = alerts_t.c
    result = conn.execute(
        update(alerts_t)
        .where(a.send_id == send_id, a.resolved_by.is_(None))
        .values(resolved_by=user, resolved_at=now)
    )
    return result.rowcount == 1


def posted_between(conn: Connection, *, start: datetime, end: datetime) -> list[AlertRow]:
    """Alerts posted in `[start, end)`, with their follow-up state."""
    a = alerts_t.c
    rows = conn.execute(
        select(a.send_id, a.channel, a.ts, a.posted_at, a.claimed_by, a.claimed_at, a.resolved_by,
               a.resolved_at).where(a.posted_at >= start, a.posted_at < end)
    )  # fmt: skip
    return [AlertRow(**row._mapping) for row in rows]


def unalerted_low_scores(
    conn: Connection,
    *,
    surveys: Sequence[str],
    low_thresholds: Mapping[str, int],
    since: datetime,
    stale_before: datetime,
) -> list[tuple[str, str, int]]:
    """(send_id, survey, score) of low scores since `since` with no posted alert and no live
    claim to post one: what the sweep catches up on."""
    r, a = responses_t.c, alerts_t.c
    live = and_(a.send_id == r.send_id, (a.posted_at.is_not(None)) | (a.created_at >= stale_before))
    query = (
        select(r.send_id, r.survey, r.score)
        .where(
            r.survey.in_(surveys),
            r.updated_at >= since,
            is_low_score(surveys, low_thresholds),
            ~select(a.send_id).where(live).exists(),
        )
        .order_by(r.updated_at)
    )
    return [(row.send_id, row.survey, row.score) for row in conn.execute(query)]


def posted_for_contacts(conn: Connection, contact_ids: list[str]) -> list[str]:
    """Send ids of the alerts posted about these contacts' answers."""
    if not contact_ids:
        return []
    rows = conn.execute(
        select(alerts_t.c.send_id)
        .join(responses_t, responses_t.c.send_id == alerts_t.c.send_id)
        .where(responses_t.c.contact_id.in_(contact_ids), alerts_t.c.ts.is_not(None))
    )
    return [row[0] for row in rows]
