"""The rows `surveybot export` writes, streamed: responses, sends and decisions, in id order.

Each kind is a list of `ExportColumn`s: a name, its SQL, and whether it is personal data (the
columns storage.erasure empties). A personal column is selected only when asked for, and is
NULL for a contact who was forgotten, whatever the row still holds. Rows come through a
server-side cursor (`stream_results`), `BATCH` at a time, so memory does not grow with the table.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Connection,
    FromClause,
    Integer,
    Select,
    case,
    func,
    literal,
    select,
)

from storage.db import SQLITE_MMAP_BYTES
from storage.erasure import ERASED
from storage.models import Contact, Decision, Event, Response, Send, UTCDateTime

ExportKind = Literal["responses", "sends", "decisions"]
EXPORT_KINDS: tuple[ExportKind, ...] = ("responses", "sends", "decisions")
BATCH = 2000

responses_t = Response.__table__  # type: ignore[attr-defined]
sends_t = Send.__table__  # type: ignore[attr-defined]
events_t = Event.__table__  # type: ignore[attr-defined]
contacts_t = Contact.__table__  # type: ignore[attr-defined]
decisions_t = Decision.__table__  # type: ignore[attr-defined]
r, s, e, c, d = responses_t.c, sends_t.c, events_t.c, contacts_t.c, decisions_t.c


ValueKind = Literal["time", "bool", "json", "number", "text"]


@dataclass(frozen=True)
class ExportColumn:
    name: str
    sql: ColumnElement[Any]
    personal: bool = False

    @property
    def kind(self) -> ValueKind:
        """What its values are, so a writer can pick one conversion per column, not per value."""
        sql_type = self.sql.type
        if isinstance(sql_type, UTCDateTime):
            return "time"
        if isinstance(sql_type, Boolean):
            return "bool"
        if isinstance(sql_type, JSON):
            return "json"
        if isinstance(sql_type, Integer):
            return "number"
        return "text"


def _event_columns() -> list[ExportColumn]:
    # The event may be gone (retention purges events): then these are empty.
    return [ExportColumn("event_id", e.event_id), ExportColumn("event_type", e.type)]


# The send's address with any copy of it in the provider's error text cut out.
_reason = func.replace(s.reason, func.coalesce(s.to_address, ""), literal(ERASED))

COLUMNS: dict[ExportKind, list[ExportColumn]] = {
    "responses": [
        ExportColumn("response_id", r.id),
        ExportColumn("received_at", r.received_at),
        ExportColumn("updated_at", r.updated_at),
        ExportColumn("survey", r.survey),
        ExportColumn("metric", r.metric),
        ExportColumn("score", r.score),
        ExportColumn("counted", r.counted),
        ExportColumn("channel", r.channel),
        ExportColumn("send_id", r.send_id),
        ExportColumn("trigger", s.trigger),
        ExportColumn("contact_id", r.contact_id),
        *_event_columns(),
        ExportColumn("comment", r.comment, personal=True),
        ExportColumn("to_address", s.to_address, personal=True),
        ExportColumn("contact_name", c.name, personal=True),
        ExportColumn("properties", e.properties, personal=True),
    ],
    "sends": [
        ExportColumn("send_id", s.id),
        ExportColumn("created_at", s.created_at),
        ExportColumn("survey", s.survey),
        ExportColumn("metric", s.metric),
        ExportColumn("trigger", s.trigger),
        ExportColumn("channel", s.channel),
        ExportColumn("status", s.status),
        ExportColumn("reason", _reason),
        ExportColumn("attempts", s.attempts),
        ExportColumn("due_at", s.due_at),
        ExportColumn("sent_at", s.sent_at),
        ExportColumn("expires_at", s.expires_at),
        ExportColumn("updated_at", s.updated_at),
        ExportColumn("test", s.test),
        ExportColumn("contact_id", s.contact_id),
        *_event_columns(),
        ExportColumn("to_address", s.to_address, personal=True),
        ExportColumn("contact_name", c.name, personal=True),
        ExportColumn("properties", e.properties, personal=True),
    ],
    "decisions": [
        ExportColumn("decision_id", d.id),
        ExportColumn("decided_at", d.decided_at),
        ExportColumn("trigger", d.trigger),
        ExportColumn("survey", d.survey),
        ExportColumn("outcome", d.outcome),
        ExportColumn("reason", d.reason),
        ExportColumn("detail", d.detail),
        ExportColumn("send_id", d.send_id),
        ExportColumn("due_at", d.due_at),
        ExportColumn("contact_id", d.contact_id),
        *_event_columns(),
    ],
}


def export_columns(kind: ExportKind, *, personal: bool) -> list[ExportColumn]:
    return [col for col in COLUMNS[kind] if personal or not col.personal]


def stream_export(
    conn: Connection,
    kind: ExportKind,
    *,
    personal: bool,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Iterator[Sequence[Any]]:
    """The rows of `kind` whose time (received, created, decided) is in [since, until), by id;
    each a tuple in the order of `export_columns(kind, personal=personal)`."""
    columns = export_columns(kind, personal=personal)
    query = export_query(kind, columns, since, until)
    if conn.dialect.name == "sqlite":
        # Each page is read once: through storage.db's memory map it would stay mapped, and the
        # export's memory would grow with the database file.
        conn.exec_driver_sql("PRAGMA mmap_size=0")
    try:
        result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(query)
        for batch in result.partitions(BATCH):
            yield from batch
    finally:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")


def export_query(
    kind: ExportKind, columns: list[ExportColumn], since: datetime | None, until: datetime | None
) -> Select[Any]:
    when, order, joined = _SHAPES[kind]()
    picked = [_masked(col).label(col.name) for col in columns]
    query = select(*picked).select_from(joined).order_by(order)
    if since is not None:
        query = query.where(when >= since)
    if until is not None:
        query = query.where(when < until)
    return query


def _masked(col: ExportColumn) -> ColumnElement[Any]:
    """A personal column is NULL once its contact was forgotten."""
    if not col.personal:
        return col.sql
    return case((c.forgotten_at.is_(None), col.sql), else_=None)


def _responses_shape() -> tuple[ColumnElement[Any], ColumnElement[Any], FromClause]:
    joined = (
        responses_t.join(sends_t, s.id == r.send_id)
        .outerjoin(events_t, e.pk == s.event_pk)
        .outerjoin(contacts_t, c.id == r.contact_id)
    )
    return r.received_at, r.id, joined


def _sends_shape() -> tuple[ColumnElement[Any], ColumnElement[Any], FromClause]:
    joined = sends_t.outerjoin(events_t, e.pk == s.event_pk).outerjoin(contacts_t, c.id == s.contact_id)
    return s.created_at, s.id, joined


def _decisions_shape() -> tuple[ColumnElement[Any], ColumnElement[Any], FromClause]:
    return d.decided_at, d.id, decisions_t.outerjoin(events_t, e.pk == d.event_pk)


_SHAPES = {"responses": _responses_shape, "sends": _sends_shape, "decisions": _decisions_shape}
