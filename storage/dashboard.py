"""Named queries behind the dashboard: one-time sign-in links, and the lists its pages show
(comments with filters, alerts with their follow-up). The numbers themselves come from
`storage.metrics` through the metrics room's report, never from here.

Comments follow the conventions of `storage.metrics`: the window is half-open on `received_at`,
only counted responses appear, and a theme matches as `comment_themes` counts it (any keyword,
case-insensitively), so a theme's count in the report is the number of comments its filter shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, insert, select, update

from storage.metrics import _counted_in, _has_comment, _mentions
from storage.models import Alert, Contact, Response, SignInLink

links_t = SignInLink.__table__  # type: ignore[attr-defined]
alerts_t = Alert.__table__  # type: ignore[attr-defined]
responses_t = Response.__table__  # type: ignore[attr-defined]
contacts_t = Contact.__table__  # type: ignore[attr-defined]


# --- sign-in links ----------------------------------------------------------------------------


def store_sign_in_link(
    conn: Connection, *, token_hash: str, email: str, now: datetime, expires_at: datetime
) -> None:
    conn.execute(
        insert(links_t).values(token_hash=token_hash, email=email, created_at=now, expires_at=expires_at)
    )


def spend_sign_in_link(conn: Connection, *, token_hash: str, now: datetime) -> str | None:
    """Mark the link used and return its email, if it exists, is unused and has not expired;
    None otherwise. Of two requests racing for one link, exactly one gets the email."""
    k = links_t.c
    spent = conn.execute(
        update(links_t)
        .where(k.token_hash == token_hash, k.used_at.is_(None), k.expires_at > now)
        .values(used_at=now)
    )
    if spent.rowcount != 1:
        return None
    email: str = conn.execute(select(k.email).where(k.token_hash == token_hash)).scalar_one()
    return email


def forget_old_sign_in_links(conn: Connection, *, before: datetime) -> int:
    """Delete links that expired before `before` (used or not): nothing of them is needed."""
    result = conn.execute(links_t.delete().where(links_t.c.expires_at < before))
    return result.rowcount


# --- comments ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommentItem:
    send_id: str
    contact_id: str
    survey: str
    score: int
    comment: str
    channel: str
    received_at: datetime


def list_comments(
    conn: Connection,
    *,
    surveys: Sequence[str],
    start: datetime,
    end: datetime,
    scores: Sequence[int] = (),
    keywords: Sequence[str] = (),
    limit: int = 100,
) -> list[CommentItem]:
    """Non-empty comments of counted responses in `[start, end)`, newest first, at most `limit`;
    only those with a score in `scores` (if any given) and naming any of `keywords` (if given)."""
    r = responses_t.c
    conditions = [_counted_in(surveys, start, end), _has_comment()]
    if scores:
        conditions.append(r.score.in_(list(scores)))
    if keywords:
        conditions.append(_mentions(keywords))
    query = (
        select(r.send_id, r.contact_id, r.survey, r.score, r.comment, r.channel, r.received_at)
        .where(*conditions)
        .order_by(r.received_at.desc(), r.id.desc())
        .limit(limit)
    )
    return [CommentItem(**row._mapping) for row in conn.execute(query)]


# --- alerts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertItem:
    send_id: str
    survey: str
    score: int
    created_at: datetime
    posted_at: datetime | None
    claimed_by: str | None
    claimed_at: datetime | None
    resolved_by: str | None
    resolved_at: datetime | None
    comment: str | None
    contact_id: str | None
    contact_name: str | None

    @property
    def state(self) -> str:
        return "resolved" if self.resolved_by else "claimed" if self.claimed_by else "open"


def list_alerts(
    conn: Connection, *, start: datetime, end: datetime, state: str | None = None, limit: int = 200
) -> list[AlertItem]:
    """Alerts raised in `[start, end)`, newest first; `state` open, claimed (not resolved) or
    resolved narrows them."""
    a, r, c = alerts_t.c, responses_t.c, contacts_t.c
    conditions = [a.created_at >= start, a.created_at < end]
    if state == "open":
        conditions.append(a.claimed_by.is_(None))
    elif state == "claimed":
        conditions.append(and_(a.claimed_by.is_not(None), a.resolved_by.is_(None)))
    elif state == "resolved":
        conditions.append(a.resolved_by.is_not(None))
    query = (
        select(
            a.send_id, a.survey, a.score, a.created_at, a.posted_at, a.claimed_by, a.claimed_at,
            a.resolved_by, a.resolved_at, r.comment, r.contact_id, c.name.label("contact_name"),
        )
        .select_from(
            alerts_t.outerjoin(responses_t, r.send_id == a.send_id)
            .outerjoin(contacts_t, c.id == r.contact_id)
        )
        .where(*conditions)
        .order_by(a.created_at.desc(), a.id.desc())
        .limit(limit)
    )  # fmt: skip
    return [AlertItem(**row._mapping) for row in conn.execute(query)]


def alert_exists(conn: Connection, send_id: str) -> bool:
    return conn.execute(select(alerts_t.c.id).where(alerts_t.c.send_id == send_id)).first() is not None
