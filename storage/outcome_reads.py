"""Reading outcomes: follow-ups counted per survey and score, and churn's customers per period.

A cohort is the follow-ups whose `since` (the answer's time, or when an unanswered send left)
is in `[start, end)` and whose horizon has passed by `end` (`since + within <= end`), so every
one of them had its whole `within` to show the outcome. Whole UTC days come from
`outcome_rollups`, the partial days at the edges from `outcome_links` (as `storage.metrics`
does with hours for the metric rollups).

Churn per period reads `churn_contacts` once: each contact's first start and first churn event
placed between the periods' boundaries by one CASE each, counted per pair of places; the
periods' numbers are then sums over that small table.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Connection, case, func, literal, select

from storage.outcomes import CHURN_CONTACTS, LINKS, ROLLUPS

TICK = timedelta(microseconds=1)  # the finest time stored: `since <= x` is `since < x + TICK`
DAY = timedelta(days=1)


@dataclass(frozen=True)
class ScoreCount:
    """Follow-ups of one survey and score (-1: not answered): `n`, and `done` had the outcome."""

    survey: str
    score: int
    n: int
    done: int


@dataclass(frozen=True)
class ChurnPeriod:
    start: datetime
    end: datetime
    customers: int  # at its start: started before it, no churn event before it
    lost: int  # of those, churned within it


def cohort_span(start: datetime, end: datetime, within: timedelta) -> tuple[datetime, datetime] | None:
    """The `since` range whose follow-ups are complete by `end`; None when there is none."""
    stop = min(end, end - within + TICK)
    return (start, stop) if start < stop else None


def outcome_counts(
    conn: Connection,
    *,
    outcome: str,
    within: timedelta,
    surveys: Sequence[str],
    start: datetime,
    end: datetime,
) -> list[ScoreCount]:
    """The cohort `[start, end)` of `outcome` per survey and score (see the module docstring)."""
    span = cohort_span(start, end, within)
    if span is None or not surveys:
        return []
    whole, edges = split_days(*span)
    totals: Counter[tuple[str, int]] = Counter()
    dones: Counter[tuple[str, int]] = Counter()
    r, l_ = ROLLUPS.c, LINKS.c
    queries = []
    # One plain range per statement: each is an index range scan (an OR of ranges is not).
    for a, b in whole:
        queries.append(
            select(r.survey, r.score, func.sum(r.n), func.sum(r.done))
            .where(r.outcome == outcome, r.survey.in_(surveys), r.day >= a, r.day < b)
            .group_by(r.survey, r.score)
        )
    for a, b in edges:
        queries.append(
            select(l_.survey, l_.score, func.count(), func.count(l_.first_at))
            .where(l_.outcome == outcome, l_.survey.in_(surveys), l_.since >= a, l_.since < b)
            .group_by(l_.survey, l_.score)
        )
    for query in queries:
        for survey, score, n, done in conn.execute(query):
            totals[(survey, score)] += int(n or 0)
            dones[(survey, score)] += int(done or 0)
    return [ScoreCount(s, k, n, dones[(s, k)]) for (s, k), n in sorted(totals.items()) if n]


def split_days(
    start: datetime, end: datetime
) -> tuple[list[tuple[datetime, datetime]], list[tuple[datetime, datetime]]]:
    """(whole UTC days, partial-day edges) covering exactly `[start, end)`."""
    first, last = _ceil_day(start), _floor_day(end)
    if first >= last:
        return [], [(start, end)]
    edges = [(a, b) for a, b in ((start, first), (last, end)) if a < b]
    return [(first, last)], edges


def _floor_day(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _ceil_day(moment: datetime) -> datetime:
    floor = _floor_day(moment)
    return floor if floor == moment else floor + DAY


def churn_periods(conn: Connection, periods: Sequence[tuple[datetime, datetime]]) -> list[ChurnPeriod]:
    """Customers at each period's start (a start event before it, no churn event before it) and
    those of them lost in it (a churn event within it)."""
    if not periods:
        return []
    bounds = sorted({t for period in periods for t in period})
    c = CHURN_CONTACTS.c
    placed = (
        select(_place(c.started_at, bounds).label("s"), _place(c.churned_at, bounds).label("k"))
        .where(c.started_at.is_not(None))
        .subquery()
    )
    pairs = conn.execute(select(placed.c.s, placed.c.k, func.count()).group_by(placed.c.s, placed.c.k)).all()
    found = []
    for start, end in periods:
        a, b = bisect_right(bounds, start), bisect_right(bounds, end)
        customers = sum(n for s, k, n in pairs if s < a and k >= a)
        lost = sum(n for s, k, n in pairs if s < a and a <= k < b)
        found.append(ChurnPeriod(start, end, customers, lost))
    return found


def _place(column: ColumnElement[datetime], bounds: list[datetime]) -> ColumnElement[int]:
    """How many of `bounds` are at or before the time (a time never set: after them all)."""
    whens = [(column.is_(None), len(bounds) + 1)] + [(column < bound, i) for i, bound in enumerate(bounds)]
    return case(*whens, else_=literal(len(bounds)))
