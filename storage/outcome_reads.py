"""Reading outcomes: follow-ups counted per survey and score, and churn's customers per period.

A cohort is the follow-ups whose `since` (the answer's time, or when an unanswered send left)
is in `[start, end)` and whose horizon has passed by `end` (`since + within <= end`), so every
one of them had its whole `within` to show the outcome. Whole UTC hours come from
`outcome_rollups`, the partial hours at the edges from `outcome_links` (as `storage.metrics`
does for the metric rollups).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, func, or_, select

from storage.outcomes import CHURN_CONTACTS, LINKS, ROLLUPS
from storage.rollups import Span, split_spans

TICK = timedelta(microseconds=1)  # the finest time stored: `since <= x` is `since < x + TICK`


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
    whole, edges = split_spans([Span(span[0], span[1], "cohort")])
    totals: Counter[tuple[str, int]] = Counter()
    dones: Counter[tuple[str, int]] = Counter()
    r, l_ = ROLLUPS.c, LINKS.c
    queries = []
    if whole:
        in_hours = or_(*[and_(r.hour >= s.start, r.hour < s.end) for s in whole])
        queries.append(
            select(r.survey, r.score, func.sum(r.n), func.sum(r.done))
            .where(r.outcome == outcome, r.survey.in_(surveys), in_hours)
            .group_by(r.survey, r.score)
        )
    if edges:
        in_edges = or_(*[and_(l_.since >= s.start, l_.since < s.end) for s in edges])
        queries.append(
            select(l_.survey, l_.score, func.count(), func.count(l_.first_at))
            .where(l_.outcome == outcome, l_.survey.in_(surveys), in_edges)
            .group_by(l_.survey, l_.score)
        )
    for query in queries:
        for survey, score, n, done in conn.execute(query):
            totals[(survey, score)] += int(n or 0)
            dones[(survey, score)] += int(done or 0)
    return [ScoreCount(s, k, n, dones[(s, k)]) for (s, k), n in sorted(totals.items()) if n]


def churn_periods(conn: Connection, periods: Sequence[tuple[datetime, datetime]]) -> list[ChurnPeriod]:
    """Customers at each period's start and those lost in it: one pass over `churn_contacts`."""
    if not periods:
        return []
    c = CHURN_CONTACTS.c
    columns = []
    for start, end in periods:
        customer = and_(c.started_at < start, or_(c.churned_at.is_(None), c.churned_at >= start))
        columns.append(func.count().filter(customer))
        columns.append(
            func.count().filter(and_(c.started_at < start, c.churned_at >= start, c.churned_at < end))
        )
    row = conn.execute(select(*columns).where(c.started_at.is_not(None))).one()
    return [
        ChurnPeriod(start, end, int(row[2 * i] or 0), int(row[2 * i + 1] or 0))
        for i, (start, end) in enumerate(periods)
    ]
