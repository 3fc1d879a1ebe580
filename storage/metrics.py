"""Metric aggregates, computed in SQL on SQLite and PostgreSQL: no response row reaches Python.

Every function takes an open `Connection` and keyword-only arguments, and returns small frozen
rows of counts; `bot.metrics.statistics` turns counts into percentages, intervals and change tests.

Conventions shared by all queries:
- A window is half-open, `start <= received_at < end`, on the response's `received_at`.
- Only responses with `counted = true` count (late replies after expiry are kept, not counted).
- `low_thresholds` maps a survey name to its "low score" threshold (score <= threshold is low);
  a survey missing from it uses its metric's default (`triggers.metrics`).
- `group_by` is `properties.<key>[.<key>...]` (the event's properties), `channel`, `survey`,
  `trigger`, `type` (the event type) or `contact.locale` / `contact.timezone`. Property values
  are compared as text (`5` and `"5"` fall in one group; booleans read 1/0 on SQLite and
  true/false on PostgreSQL). Responses without the property form the group None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    Select,
    and_,
    case,
    func,
    literal_column,
    or_,
    select,
    true,
    union_all,
)

from storage import rollups, theme_rollups
from storage.group_paths import RESPONSES, group_key, joined_source
from storage.hold_rollups import HoldRow, holds, raw_holds
from storage.send_rollups import SendParts, raw_send_parts, send_parts
from storage.theme_rollups import has_comment as _has_comment
from storage.theme_rollups import mentions as _mentions
from triggers.metrics import METRICS, NPS_PASSIVE

__all__ = ["HoldRow", "is_low_score"]

_COUNTS = ("n", "score_sum", "top", "middle", "bottom", "low")


@dataclass(frozen=True)
class MetricRow:
    """Counts for one survey (and group, and period) over a window.

    `top` is satisfied (CSAT 4-5), easy (CES 5-7) or promoters (NPS 9-10); `middle` and `bottom`
    are NPS passives (7-8) and detractors (0-6), zero for other metrics; `low` is low scores.
    `period` is "current", or "previous" for rows of the comparison window; `group_by` is the
    path the row breaks down by (None: the survey overall) and `group` the value.
    """

    survey: str
    metric: str
    group_by: str | None
    group: str | None
    period: str
    n: int
    score_sum: int
    top: int
    middle: int
    bottom: int
    low: int


@dataclass(frozen=True)
class SendRow:
    """Sends of a survey that left the system in the window, and how many of them were answered."""

    survey: str
    left: int
    responded: int


@dataclass(frozen=True)
class CommentRow:
    survey: str
    score: int
    comment: str
    channel: str
    received_at: datetime


@dataclass(frozen=True)
class ThemeCounts:
    """A survey's low scores in the window: how many, how many with a comment, and per theme
    how many comments name any of its keywords."""

    survey: str
    low_total: int
    low_commented: int
    themes: dict[str, int]


@dataclass(frozen=True)
class DayRow:
    survey: str
    metric: str
    day: datetime
    n: int
    top: int
    middle: int
    bottom: int


def survey_metrics(
    conn: Connection,
    *,
    surveys: Sequence[str],
    start: datetime,
    end: datetime,
    group_by: str | None = None,
    low_thresholds: Mapping[str, int] | None = None,
    previous_start: datetime | None = None,
) -> list[MetricRow]:
    """Counts per survey (and per `group_by` value) for `[start, end)`, in one query.

    With `previous_start`, the same query also returns rows for `[previous_start, start)`
    marked `period="previous"`, so the change against the previous window costs no second scan.
    """
    return digest_metrics(
        conn,
        surveys=surveys,
        start=start,
        end=end,
        group_bys=[group_by],
        low_thresholds=low_thresholds,
        previous_start=previous_start,
    )


def digest_metrics(
    conn: Connection,
    *,
    surveys: Sequence[str],
    start: datetime,
    end: datetime,
    group_bys: Sequence[str | None] = (None,),
    low_thresholds: Mapping[str, int] | None = None,
    previous_start: datetime | None = None,
) -> list[MetricRow]:
    """`survey_metrics` for several breakdowns at once (None is the survey overall); rows carry
    their `group_by` path. The same numbers as `raw_digest_metrics`, read mostly from rollups:
    whole UTC hours of the overall and of every path kept in `storage.rollups` come from there,
    the partial hours at the window's edges (and paths not kept) from the responses."""
    paths = list(dict.fromkeys(group_bys))
    return _metric_rows(conn, surveys, _spans(start, end, previous_start), paths, low_thresholds)


def raw_digest_metrics(
    conn: Connection,
    *,
    surveys: Sequence[str],
    start: datetime,
    end: datetime,
    group_bys: Sequence[str | None] = (None,),
    low_thresholds: Mapping[str, int] | None = None,
    previous_start: datetime | None = None,
) -> list[MetricRow]:
    """`digest_metrics` from the response rows alone: the reference the rollups must equal."""
    paths = list(dict.fromkeys(group_bys))
    return _raw_rows(conn, surveys, _spans(start, end, previous_start), paths, low_thresholds)


def _metric_rows(
    conn: Connection,
    surveys: Sequence[str],
    spans: Sequence[rollups.Span],
    paths: Sequence[str | None],
    low_thresholds: Mapping[str, int] | None,
) -> list[MetricRow]:
    """Counts per survey, path, group and span (its `period`): whole UTC hours of the paths kept
    in rollups from there, partial hours and the other paths from the rows."""
    ready = rollups.ready_paths(conn)
    rolled = [p for p in paths if p is None or p in ready]
    unrolled = [p for p in paths if p is not None and p not in ready]
    whole, edges = rollups.split_spans(spans)
    rows = _raw_rows(conn, surveys, spans, unrolled, low_thresholds) if unrolled else []
    if rolled and edges:
        rows += _raw_rows(conn, surveys, edges, rolled, low_thresholds)
    counts = rollups.read_rollups(conn, surveys=surveys, spans=whole, paths=rolled)
    rows += [_from_histogram(c, surveys, low_thresholds) for c in counts]
    return _merge(rows)


def _spans(start: datetime, end: datetime, previous_start: datetime | None) -> list[rollups.Span]:
    spans = [rollups.Span(start, end, "current")]
    if previous_start is not None and previous_start < start:
        spans.append(rollups.Span(previous_start, start, "previous"))
    return spans


def _raw_rows(
    conn: Connection,
    surveys: Sequence[str],
    spans: Sequence[rollups.Span],
    group_bys: Sequence[str | None],
    low_thresholds: Mapping[str, int] | None,
) -> list[MetricRow]:
    """One statement that reads the spans' responses once, joins only what the paths need,
    then aggregates each breakdown."""
    dialect = conn.dialect.name
    keys = [group_key(path, dialect) for path in group_bys]
    source = joined_source({need for _, needs in keys for need in needs})
    low_at = _low_threshold(surveys, low_thresholds).label("low_at")
    selects = [
        select(
            RESPONSES.c.survey, RESPONSES.c.metric, RESPONSES.c.score,
            literal_column(f"'{span.period}'").label("period"), low_at,
            *[key.label(f"k{i}") for i, (key, _) in enumerate(keys)],
        )
        .select_from(source)
        .where(_counted_in(surveys, span.start, span.end))
        for span in spans
    ]  # fmt: skip
    base = selects[0] if len(selects) == 1 else union_all(*selects)
    # Several breakdowns read the window once (materialised), then aggregate it each way.
    many = len(keys) > 1
    inner = base.cte("window_rows").prefix_with("MATERIALIZED") if many else base.subquery()
    parts = [
        _count_scores(
            inner,
            [inner.c[f"k{i}"].label("group"), inner.c.period],
            tags=[literal_column(str(i)).label("part")],
        )
        for i in range(len(keys))
    ]
    query = parts[0] if len(parts) == 1 else union_all(*parts)
    return [
        MetricRow(
            survey=row.survey,
            metric=row.metric,
            group_by=group_bys[row.part],
            group=None if row.group is None else str(row.group),
            period=row.period,
            **{name: int(row._mapping[name]) for name in _COUNTS},
        )
        for row in conn.execute(query)
    ]


def _from_histogram(
    counts: rollups.RollupCounts, surveys: Sequence[str], low_thresholds: Mapping[str, int] | None
) -> MetricRow:
    """The counts `_count_scores` would give, from a score histogram."""
    histogram, metric = counts.histogram, METRICS.get(counts.metric)
    low_at = _low_at(counts.survey, counts.metric, surveys, low_thresholds)
    nps = counts.metric == "nps"
    return MetricRow(
        survey=counts.survey,
        metric=counts.metric,
        group_by=counts.path,
        group=counts.group,
        period=counts.period,
        n=counts.n,
        score_sum=counts.score_sum,
        top=sum(histogram[metric.favourable_from :]) if metric else 0,
        middle=sum(histogram[NPS_PASSIVE[0] : NPS_PASSIVE[1] + 1]) if nps else 0,
        bottom=sum(histogram[: NPS_PASSIVE[0]]) if nps else 0,
        low=sum(histogram[: max(low_at + 1, 0)]),
    )


def _merge(rows: Sequence[MetricRow]) -> list[MetricRow]:
    """Rows of one survey, path, group and period added up."""
    merged: dict[tuple[str, str | None, str | None, str], MetricRow] = {}
    for row in rows:
        key = (row.survey, row.group_by, row.group, row.period)
        seen = merged.get(key)
        if seen is None:
            merged[key] = row
            continue
        sums = {name: getattr(seen, name) + getattr(row, name) for name in _COUNTS}
        merged[key] = replace(seen, metric=min(seen.metric, row.metric), **sums)
    return list(merged.values())


def daily_series(
    conn: Connection,
    *,
    surveys: Sequence[str],
    days: Sequence[datetime],
    end: datetime,
) -> list[DayRow]:
    """Counts per survey and day, days given by their (aware) start instants, the last ending at
    `end`; days are cut by the caller so they can follow the digest's time zone and DST. Whole
    UTC hours come from the rollups: the same numbers as `raw_daily_series`."""
    bounds = [*days[1:], end]
    spans = [rollups.Span(a, b, str(i)) for i, (a, b) in enumerate(zip(days, bounds, strict=True)) if a < b]
    rows = _metric_rows(conn, surveys, spans, [None], None) if spans else []
    return [DayRow(r.survey, r.metric, days[int(r.period)], r.n, r.top, r.middle, r.bottom) for r in rows]


def raw_daily_series(
    conn: Connection,
    *,
    surveys: Sequence[str],
    days: Sequence[datetime],
    end: datetime,
) -> list[DayRow]:
    """`daily_series` from the response rows alone (the reference)."""
    if not days:
        return []
    bucket: ColumnElement[int] = literal_column("0")  # one day: CASE needs at least one WHEN
    if len(days) > 1:
        bucket = case(
            *[(RESPONSES.c.received_at < bound, i) for i, bound in enumerate(days[1:])],
            else_=len(days) - 1,
        )
    inner = (
        select(
            RESPONSES.c.survey,
            RESPONSES.c.metric,
            RESPONSES.c.score,
            bucket.label("day"),
            literal_column("0").label("low_at"),
        )
        .where(_counted_in(surveys, days[0], end))
        .subquery()
    )
    query = _count_scores(inner, [inner.c.day])
    return [
        DayRow(row.survey, row.metric, days[row.day], row.n, row.top, row.middle, row.bottom)
        for row in conn.execute(query)
    ]


def send_counts(conn: Connection, *, surveys: Sequence[str], start: datetime, end: datetime) -> list[SendRow]:
    """Sends that left (sent, delivered, undelivered) with `sent_at` in the window, per survey,
    and how many of those got a counted response (whenever it came): the response rate's parts.
    A send replaced by its fallback is left out (the survey was asked once, by the fallback).
    Whole UTC hours come from `storage.send_rollups`: the same numbers as `raw_send_counts`."""
    return _send_rows(send_parts(conn, surveys=surveys, start=start, end=end))


def raw_send_counts(
    conn: Connection, *, surveys: Sequence[str], start: datetime, end: datetime
) -> list[SendRow]:
    """`send_counts` from the rows alone (the reference)."""
    return _send_rows(raw_send_parts(conn, surveys=surveys, start=start, end=end))


def _send_rows(parts: Sequence[SendParts]) -> list[SendRow]:
    return [SendRow(p.survey, p.sends_left, p.responded) for p in parts if p.sends_left]


def holds_by_reason(
    conn: Connection, *, surveys: Sequence[str], start: datetime, end: datetime
) -> list[HoldRow]:
    """Decisions that held a survey back in the window, per survey and reason, most frequent
    first: `suppressed` by their reason (at scheduling, or at send time: the dispatcher records
    a decision too), and `cancelled` (a `cancel_on` event) under the reason "cancelled".
    Whole UTC hours come from `storage.hold_rollups`: the same numbers as `raw_holds_by_reason`."""
    return holds(conn, surveys=surveys, start=start, end=end)


def raw_holds_by_reason(
    conn: Connection, *, surveys: Sequence[str], start: datetime, end: datetime
) -> list[HoldRow]:
    """`holds_by_reason` from the rows alone (the reference)."""
    return raw_holds(conn, surveys=surveys, start=start, end=end)


def low_score_comments(
    conn: Connection,
    *,
    surveys: Sequence[str],
    start: datetime,
    end: datetime,
    low_thresholds: Mapping[str, int] | None = None,
    limit: int = 5,
) -> list[CommentRow]:
    """The latest non-empty comments left with a low score, newest first, at most `limit`."""
    r = RESPONSES.c
    query = (
        select(r.survey, r.score, r.comment, r.channel, r.received_at)
        .where(_counted_in(surveys, start, end), _is_low(surveys, low_thresholds), _has_comment())
        .order_by(r.received_at.desc(), r.id.desc())
        .limit(limit)
    )
    return [CommentRow(**row._mapping) for row in conn.execute(query)]


def comment_themes(
    conn: Connection,
    *,
    surveys: Sequence[str],
    start: datetime,
    end: datetime,
    themes: Mapping[str, Sequence[str]],
    low_thresholds: Mapping[str, int] | None = None,
) -> list[ThemeCounts]:
    """Per survey with low scores: their count, those with a comment, and per theme the comments
    holding any of its keywords (case-insensitive substring). Whole UTC hours come from
    `storage.theme_rollups` when every theme's keywords are kept there (else all from the rows):
    the same numbers as `raw_comment_themes`."""
    keys = {name: theme_rollups.theme_key(keywords) for name, keywords in themes.items()}
    spans = [rollups.Span(start, end, "current")]
    if not set(keys.values()) <= set(theme_rollups.ready_themes(conn)):
        return _theme_counts(conn, surveys, spans, themes, low_thresholds)
    whole, edges = rollups.split_spans(spans)
    counts = _theme_counts(conn, surveys, edges, themes, low_thresholds) if edges else []
    tallies = theme_rollups.read_themes(conn, surveys=surveys, spans=whole, themes=list(keys.values()))
    counts += _from_tallies(tallies, keys, surveys, low_thresholds)
    return _merge_themes(counts, list(themes))


def raw_comment_themes(
    conn: Connection,
    *,
    surveys: Sequence[str],
    start: datetime,
    end: datetime,
    themes: Mapping[str, Sequence[str]],
    low_thresholds: Mapping[str, int] | None = None,
) -> list[ThemeCounts]:
    """`comment_themes` from the rows alone (the reference). One query."""
    return _theme_counts(conn, surveys, [rollups.Span(start, end, "current")], themes, low_thresholds)


def _theme_counts(
    conn: Connection,
    surveys: Sequence[str],
    spans: Sequence[rollups.Span],
    themes: Mapping[str, Sequence[str]],
    low_thresholds: Mapping[str, int] | None,
) -> list[ThemeCounts]:
    names = list(themes)
    matches = [_count_if(_mentions(themes[name])).label(f"theme_{i}") for i, name in enumerate(names)]
    within, _ = rollups.in_spans(RESPONSES.c.received_at, spans)
    query = (
        select(
            RESPONSES.c.survey,
            func.count().label("low_total"),
            _count_if(_has_comment()).label("low_commented"),
            *matches,
        )
        .where(
            RESPONSES.c.survey.in_(surveys), within, RESPONSES.c.counted == true(),
            _is_low(surveys, low_thresholds),
        )
        .group_by(RESPONSES.c.survey)
    )  # fmt: skip
    return [
        ThemeCounts(
            row.survey,
            row.low_total,
            int(row.low_commented),
            {name: int(row._mapping[f"theme_{i}"]) for i, name in enumerate(names)},
        )
        for row in conn.execute(query)
    ]


def _from_tallies(
    tallies: Sequence[theme_rollups.ThemeTally],
    keys: Mapping[str, str],
    surveys: Sequence[str],
    low_thresholds: Mapping[str, int] | None,
) -> list[ThemeCounts]:
    """The counts `_theme_counts` would give, from per-score tallies: each survey's threshold
    (else its metric's default) picks the low scores."""
    counts: dict[str, ThemeCounts] = {}
    for t in tallies:
        if t.score > _low_at(t.survey, t.metric, surveys, low_thresholds):
            continue
        seen = counts.setdefault(t.survey, ThemeCounts(t.survey, 0, 0, {name: 0 for name in keys}))
        if t.theme == theme_rollups.EVERY:
            counts[t.survey] = replace(seen, low_total=seen.low_total + t.n)
        elif t.theme == theme_rollups.COMMENTED:
            counts[t.survey] = replace(seen, low_commented=seen.low_commented + t.n)
        for name, key in keys.items():
            if t.theme == key:
                seen.themes[name] += t.n
    return list(counts.values())


def _merge_themes(counts: Sequence[ThemeCounts], names: Sequence[str]) -> list[ThemeCounts]:
    """Counts of one survey added up; surveys with no low score dropped."""
    merged: dict[str, ThemeCounts] = {}
    for c in counts:
        seen = merged.setdefault(c.survey, ThemeCounts(c.survey, 0, 0, {name: 0 for name in names}))
        for name in names:
            seen.themes[name] += c.themes.get(name, 0)
        merged[c.survey] = replace(
            seen, low_total=seen.low_total + c.low_total, low_commented=seen.low_commented + c.low_commented
        )
    return [c for c in merged.values() if c.low_total > 0]


def _low_at(
    survey: str, metric: str, surveys: Sequence[str], low_thresholds: Mapping[str, int] | None
) -> int:
    """A response's low-score threshold, as `_low_threshold` computes it in SQL."""
    given = (low_thresholds or {}).get(survey) if survey in surveys else None
    if given is not None:
        return given
    known = METRICS.get(metric)
    return known.low_score if known else -1


# --- building blocks -------------------------------------------------------------------------


def _count_scores(
    inner: FromClause, keys: list[ColumnElement[Any]], tags: Sequence[ColumnElement[Any]] = ()
) -> Select[Any]:
    """Aggregate an inner select of (survey, metric, score, low_at, keys...) into count columns;
    `tags` are constant columns to carry along."""
    c = inner.c
    nps = c.metric == "nps"
    favourable = or_(*[and_(c.metric == m.name, c.score >= m.favourable_from) for m in METRICS.values()])
    # The metric follows from the survey: carried by min() rather than grouped by, as each
    # extra text key in GROUP BY costs a collation-aware comparison per row.
    return select(
        *tags,
        c.survey,
        func.min(c.metric).label("metric"),
        *keys,
        func.count().label("n"),
        func.coalesce(func.sum(c.score), 0).label("score_sum"),
        _count_if(favourable).label("top"),
        _count_if(and_(nps, c.score.between(*NPS_PASSIVE))).label("middle"),
        _count_if(and_(nps, c.score < NPS_PASSIVE[0])).label("bottom"),
        _count_if(c.score <= c.low_at).label("low"),
    ).group_by(c.survey, *keys)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _counted_in(surveys: Sequence[str], start: datetime, end: datetime) -> ColumnElement[bool]:
    r = RESPONSES.c
    return and_(r.survey.in_(surveys), r.received_at >= start, r.received_at < end, r.counted == true())


def _low_threshold(surveys: Sequence[str], low_thresholds: Mapping[str, int] | None) -> ColumnElement[int]:
    """Each response's low-score threshold: its survey's, else its metric's default."""
    given = {s: t for s, t in (low_thresholds or {}).items() if s in surveys}
    by_metric = case(*[(RESPONSES.c.metric == m.name, m.low_score) for m in METRICS.values()], else_=-1)
    if not given:
        return by_metric
    return case(*[(RESPONSES.c.survey == s, t) for s, t in given.items()], else_=by_metric)


def _is_low(surveys: Sequence[str], low_thresholds: Mapping[str, int] | None) -> ColumnElement[bool]:
    return RESPONSES.c.score <= _low_threshold(surveys, low_thresholds)


def is_low_score(surveys: Sequence[str], low_thresholds: Mapping[str, int] | None) -> ColumnElement[bool]:
    """The response's score is low for its survey (the public name of the condition above)."""
    return _is_low(surveys, low_thresholds)
