"""Send rollups: per survey and UTC hour of `sent_at`, the sends that left and the parts of the
response rates, kept in step with the sends, their responses and their reminders.

A send's share of its hour depends on its status and `sent_at`, on its counted response (and
when it came), on its reminder (whether it left, and when) and on whether a fallback replaced
it. Every writer that may change one of those wraps the change in `sends_changing`: the sends'
share is taken out before and put back after, in the same transaction. The writers:
`storage.sends.set_status` (the dispatcher's outcomes), `storage.inbound.record_provider_status`
(delivery reports), `storage.fallbacks.insert_fallback` (the origin is replaced),
`storage.reminders.set_reminder_status` and `storage.responses.record_response`. The other moves
(claims, releases, takeover's `sending -> unknown`, cancellations) stay outside the states that
left, so they change nothing here. Sends, responses and reminders are never deleted.

`send_parts` reads whole UTC hours from the rollups and the partial hours at the window's edges
from the rows; `raw_send_parts` is the same from the rows alone (the reference).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    Executable,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    delete,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
    true,
)

from storage.group_paths import RESPONSES, SENDS
from storage.models import SEND_LEFT, Reminder, SendRollup, SendStatus
from storage.rollups import Span, adding_upsert, hour_of, in_spans, split_spans

SEND_ROLLUPS = SendRollup.__table__  # type: ignore[attr-defined]
REMINDERS = Reminder.__table__  # type: ignore[attr-defined]
_SUMS = ("sends_left", "responded", "first_asks", "first_responses", "reminders", "reminder_responses")


@dataclass(frozen=True)
class SendParts:
    """Of a survey's sends that left in a window (`sent_at`), not test sends:

    - `sends_left`, `responded`: those not replaced by a fallback, and how many of them got a
      counted response (whenever it came): the response rate's parts;
    - `first_asks` (every one), `first_responses` (answered before their reminder left, or with
      no reminder left), `reminders` (whose reminder left) and `reminder_responses` (answered
      after it): the first asks' and the reminders' rates."""

    survey: str
    sends_left: int
    responded: int
    first_asks: int
    first_responses: int
    reminders: int
    reminder_responses: int


def send_parts(
    conn: Connection, *, surveys: Sequence[str], start: datetime, end: datetime
) -> list[SendParts]:
    """`raw_send_parts`, whole UTC hours read from the rollups."""
    whole, edges = split_spans([Span(start, end, "current")])
    parts = _raw(conn, surveys, edges) + _rolled(conn, surveys, whole)
    return _merge(parts)


def raw_send_parts(
    conn: Connection, *, surveys: Sequence[str], start: datetime, end: datetime
) -> list[SendParts]:
    """Per survey with a send that left in `[start, end)`, its parts, from the rows alone."""
    return _merge(_raw(conn, surveys, [Span(start, end, "current")]))


def _raw(conn: Connection, surveys: Sequence[str], spans: Sequence[Span]) -> list[SendParts]:
    if not spans:
        return []
    within, _ = in_spans(SENDS.c.sent_at, spans)
    query = (
        select(SENDS.c.survey, *[c.label(n) for c, n in zip(_counts(), _SUMS, strict=True)])
        .select_from(_source())
        .where(_left(), SENDS.c.survey.in_(surveys), within)
        .group_by(SENDS.c.survey)
    )
    return [SendParts(**row._mapping) for row in conn.execute(query)]


def _rolled(conn: Connection, surveys: Sequence[str], spans: Sequence[Span]) -> list[SendParts]:
    if not spans:
        return []
    t = SEND_ROLLUPS.c
    within, _ = in_spans(t.hour, spans)
    query = (
        select(t.survey, *[func.sum(t[n]).label(n) for n in _SUMS])
        .where(t.survey.in_(surveys), within)
        .group_by(t.survey)
    )
    return [SendParts(row.survey, *[int(row._mapping[n]) for n in _SUMS]) for row in conn.execute(query)]


def _merge(parts: Sequence[SendParts]) -> list[SendParts]:
    """Parts of one survey added up; surveys with no send that left dropped."""
    sums: dict[str, list[int]] = {}
    for part in parts:
        into = sums.setdefault(part.survey, [0] * len(_SUMS))
        for i, name in enumerate(_SUMS):
            into[i] += getattr(part, name)
    return [SendParts(survey, *counts) for survey, counts in sums.items() if counts[2] > 0]


# --- what each send counts for ---------------------------------------------------------------


def _source() -> Any:
    r, m, s = RESPONSES.c, REMINDERS.c, SENDS.c
    answered = and_(r.send_id == s.id, r.counted == true())
    return SENDS.outerjoin(RESPONSES, answered).outerjoin(REMINDERS, m.send_id == s.id)


def _left() -> ColumnElement[bool]:
    s = SENDS.c
    return and_(s.status.in_(SEND_LEFT), s.sent_at.is_not(None), s.test == false())


def _counts() -> list[ColumnElement[int]]:
    """The six sums, each over the joined (send, response, reminder) rows."""
    r, m = RESPONSES.c, REMINDERS.c
    kept = ~_replaced_by_fallback()
    answered = r.id.is_not(None)
    reminder_left = and_(m.status.in_(SEND_LEFT), m.sent_at.is_not(None))
    no_reminder_left = or_(m.send_id.is_(None), m.sent_at.is_(None), m.status.not_in(SEND_LEFT))
    conditions = [
        kept,
        and_(kept, answered),
        true(),
        and_(answered, or_(no_reminder_left, r.received_at < m.sent_at)),
        reminder_left,
        and_(answered, reminder_left, r.received_at >= m.sent_at),
    ]
    return [func.coalesce(func.sum(case((c, 1), else_=0)), 0) for c in conditions]


def _replaced_by_fallback() -> ColumnElement[bool]:
    """An undelivered send whose fallback took over: the survey was asked once, by the fallback."""
    fallback = SENDS.alias("fallback_send")
    replaced = exists().where(fallback.c.fallback_of == SENDS.c.id)
    return and_(SENDS.c.status == SendStatus.UNDELIVERED, replaced)


# --- keeping them in step --------------------------------------------------------------------


@contextmanager
def sends_changing(conn: Connection, send_ids: Sequence[str]) -> Iterator[None]:
    """Around a change to these sends (or their response, reminder or fallback): their share
    leaves the rollups before it and comes back, as it now is, after it."""
    statements = _changing(conn.dialect.name)
    parameters = {"send_ids": list(send_ids)}
    if statements.lock is not None:
        conn.execute(statements.lock, parameters)
    conn.execute(statements.take_out, parameters)
    yield
    conn.execute(statements.put_back, parameters)


class _Changing(NamedTuple):
    lock: Executable | None
    take_out: Executable
    put_back: Executable


@functools.cache
def _changing(dialect: str) -> _Changing:
    """`sends_changing`'s statements, for the sends named by the parameter `send_ids`, built
    once per dialect: building these (a join, six sums and an upsert) took longer than running
    them, a few milliseconds a send going out."""
    which = SENDS.c.id.in_(bindparam("send_ids", expanding=True))
    lock = None
    if dialect == "postgresql":
        # Two transactions changing one send would each take out the share they saw: the second
        # waits here for the first to commit, then sees its change (SQLite writes one at a time).
        lock = select(SENDS.c.id).where(which).order_by(SENDS.c.id).with_for_update()
    return _Changing(lock, _shift(dialect, which, sign=-1), _shift(dialect, which, sign=1))


def shift_sends(conn: Connection, sends: ColumnElement[bool], *, sign: int) -> None:
    """Add (`sign=1`) or take out (`sign=-1`) the share of the sends matching `sends`."""
    conn.execute(_shift(conn.dialect.name, sends, sign=sign))


def _shift(dialect: str, sends: ColumnElement[bool], *, sign: int) -> Executable:
    return adding_upsert(
        dialect, SEND_ROLLUPS, ["survey", "hour"], _SUMS, _aggregate(dialect, sends, sign), _SUMS
    )


def rebuild_send_rollups(conn: Connection) -> int:
    """Recompute the send rollups from every send; the rollup rows written."""
    conn.execute(delete(SEND_ROLLUPS))
    shift_sends(conn, true(), sign=1)
    return int(conn.execute(select(func.count()).select_from(SEND_ROLLUPS)).scalar_one())


def _aggregate(dialect: str, sends: ColumnElement[bool], sign: int) -> Select[Any]:
    hour = hour_of(SENDS.c.sent_at, dialect)
    times: ColumnElement[int] = literal_column(str(int(sign)), Integer())
    return (
        select(
            SENDS.c.survey,
            hour.label("hour"),
            *[(times * c).label(n) for c, n in zip(_counts(), _SUMS, strict=True)],
        )
        .select_from(_source())
        .where(_left(), sends)
        .group_by(SENDS.c.survey, hour)
        .order_by(SENDS.c.survey, hour)
    )


assert [f.name for f in fields(SendParts)][1:] == list(_SUMS)
