"""Hold rollups: decisions that held a survey back, per survey, UTC hour of `decided_at` and reason.

Decisions are only ever inserted (never changed or deleted), so each writer that inserts them
calls `count_holds` with the rows it inserted, in the same transaction: the intake's batch
(`storage.intake`), the send-time re-check (`storage.sends.record_send_time_decision`), erasure's
cancellations, fallbacks and reminders. `holds` reads whole UTC hours from the rollups and the
partial hours at the window's edges from the rows; `raw_holds` is the rows alone (the reference).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, case, delete, func, select

from storage.group_paths import DECISIONS
from storage.models import HoldRollup
from storage.rollups import Span, adding_upsert, floor_hour, hour_of, in_spans, split_spans

HOLD_ROLLUPS = HoldRollup.__table__  # type: ignore[attr-defined]
HOLD_OUTCOMES = ("suppressed", "cancelled")


@dataclass(frozen=True)
class HoldRow:
    survey: str
    reason: str
    count: int


def hold_reason(outcome: str, reason: str | None) -> str:
    """The reason a hold is counted under: `cancelled` for a cancellation, else its reason."""
    return "cancelled" if outcome == "cancelled" else "unknown" if reason is None else str(reason)


def holds(conn: Connection, *, surveys: Sequence[str], start: datetime, end: datetime) -> list[HoldRow]:
    """`raw_holds`, whole UTC hours read from the rollups."""
    whole, edges = split_spans([Span(start, end, "current")])
    return _merge([*_raw(conn, surveys, edges), *_rolled(conn, surveys, whole)])


def raw_holds(conn: Connection, *, surveys: Sequence[str], start: datetime, end: datetime) -> list[HoldRow]:
    """Decisions that held a survey back in `[start, end)`, per survey and reason, most frequent
    first, from the rows alone."""
    return _merge(_raw(conn, surveys, [Span(start, end, "current")]))


def _reason() -> ColumnElement[str]:
    d = DECISIONS.c
    return case((d.outcome == "cancelled", "cancelled"), else_=func.coalesce(d.reason, "unknown"))


def _raw(conn: Connection, surveys: Sequence[str], spans: Sequence[Span]) -> list[HoldRow]:
    if not spans:
        return []
    d = DECISIONS.c
    within, _ = in_spans(d.decided_at, spans)
    reason = _reason()
    query = (
        select(d.survey, reason.label("reason"), func.count().label("count"))
        .where(d.outcome.in_(HOLD_OUTCOMES), d.survey.in_(surveys), within)
        .group_by(d.survey, reason)
    )
    return [HoldRow(**row._mapping) for row in conn.execute(query)]


def _rolled(conn: Connection, surveys: Sequence[str], spans: Sequence[Span]) -> list[HoldRow]:
    if not spans:
        return []
    t = HOLD_ROLLUPS.c
    within, _ = in_spans(t.hour, spans)
    query = (
        select(t.survey, t.reason, func.sum(t.n).label("count"))
        .where(t.survey.in_(surveys), within)
        .group_by(t.survey, t.reason)
    )
    return [HoldRow(row.survey, row.reason, int(row._mapping["count"])) for row in conn.execute(query)]


def _merge(rows: Iterable[HoldRow]) -> list[HoldRow]:
    """Counts of one survey and reason added up, most frequent first (then by reason)."""
    counts: Counter[tuple[str, str]] = Counter()
    for row in rows:
        counts[(row.survey, row.reason)] += row.count
    merged = [HoldRow(survey, reason, n) for (survey, reason), n in counts.items() if n > 0]
    return sorted(merged, key=lambda h: (-h.count, h.reason, h.survey))


# --- keeping them in step --------------------------------------------------------------------


def count_holds(conn: Connection, decisions: Iterable[Mapping[str, Any]]) -> None:
    """Add the decisions just inserted (as the row dicts they were inserted from)."""
    counts: Counter[tuple[str, datetime, str]] = Counter()
    for d in decisions:
        if d["outcome"] in HOLD_OUTCOMES:
            counts[
                (d["survey"], floor_hour(d["decided_at"]), hold_reason(d["outcome"], d.get("reason")))
            ] += 1
    if counts:
        rows = [{"survey": s, "hour": h, "reason": r, "n": n} for (s, h, r), n in counts.items()]
        conn.execute(_upsert(conn.dialect.name, None), rows)


def rebuild_hold_rollups(conn: Connection) -> int:
    """Recompute the hold rollups from every decision; the rollup rows written."""
    conn.execute(delete(HOLD_ROLLUPS))
    d = DECISIONS.c
    hour, reason = hour_of(d.decided_at, conn.dialect.name), _reason()
    rows = (
        select(d.survey, hour.label("hour"), reason.label("reason"), func.count().label("n"))
        .where(d.outcome.in_(HOLD_OUTCOMES))
        .group_by(d.survey, hour, reason)
    )
    conn.execute(_upsert(conn.dialect.name, rows))
    return int(conn.execute(select(func.count()).select_from(HOLD_ROLLUPS)).scalar_one())


def _upsert(dialect: str, rows: Select[Any] | None) -> Any:
    """Adds into the hold rollups: `rows` selected, or (None) the parameters given at execution."""
    return adding_upsert(dialect, HOLD_ROLLUPS, ["survey", "hour", "reason"], ["n"], rows, ["n"])
