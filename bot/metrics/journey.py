"""The journey by period: each stage's surveys' metric per week, month or quarter with its
interval and n, and the CX index per period beside its parts. What `surveybot stats --by` and
the dashboard's journey page show.

One read: `storage.metrics.daily_series` with the periods' local-midnight starts as its
bounds, so whole UTC hours come from the rollups and only the partial hours at the periods'
edges (zones like +05:30, the end) from the rows, exactly the raw rows' numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.config import Config
from bot.metrics.cx_index import IndexValue, PartCounts, cx_index
from bot.metrics.periods import Period, PeriodKind, periods
from bot.metrics.statistics import Estimate, nps_estimate, share_estimate
from storage.db import Connection
from storage.metrics import DayRow, daily_series


@dataclass(frozen=True)
class JourneyRow:
    """One survey of a stage: its estimate per period (None: no counted answer then)."""

    stage: str
    survey: str
    metric: str
    estimates: list[Estimate | None]


@dataclass(frozen=True)
class JourneyReport:
    kind: PeriodKind
    timezone: str
    end: datetime
    min_sample: int
    periods: list[Period]
    rows: list[JourneyRow]
    weights: dict[str, float] | None  # None: no index (not configured, or a part not shown)
    index: list[IndexValue]


def journey_stages(config: Config) -> list[tuple[str, list[str]]]:
    """(stage, surveys) in journey order; without `journey:`, each survey is a stage of its own."""
    if config.journey:
        return [(s.stage, list(s.surveys)) for s in config.journey]
    return [(name, [name]) for name in config.surveys]


def build_journey(
    conn: Connection,
    *,
    config: Config,
    kind: PeriodKind,
    end: datetime,
    timezone: str,
    count: int | None = None,
    since: date | None = None,
    surveys: Sequence[str] = (),
) -> JourneyReport:
    """The journey's periods up to `end` (see `bot.metrics.periods.periods`); `surveys` narrows
    the rows (the index is then left out unless all its parts are shown)."""
    cut = periods(kind, end=end, zone=ZoneInfo(timezone), count=count, since=since)
    stages = [
        (stage, [s for s in names if not surveys or s in surveys]) for stage, names in journey_stages(config)
    ]
    shown = [s for _, names in stages for s in names]
    weights = dict(config.index.weights) if config.index and set(config.index.weights) <= set(shown) else None
    counts = _counts(conn, shown, cut, end)
    min_sample = config.metrics.min_sample
    rows = [
        JourneyRow(stage, survey, config.surveys[survey].metric,
                   [_estimate(counts.get((survey, i)), min_sample) for i in range(len(cut))])
        for stage, names in stages for survey in names
    ]  # fmt: skip
    index = [_index_at(weights, counts, i, min_sample) for i in range(len(cut))] if weights else []
    return JourneyReport(kind, timezone, end, min_sample, cut, rows, weights, index)


def _counts(
    conn: Connection, surveys: list[str], cut: list[Period], end: datetime
) -> dict[tuple[str, int], DayRow]:
    if not surveys or not cut:
        return {}
    starts = [p.start for p in cut]
    position = {start: i for i, start in enumerate(starts)}
    return {(r.survey, position[r.day]): r for r in daily_series(conn, surveys=surveys, days=starts, end=end)}


def _estimate(row: DayRow | None, min_sample: int) -> Estimate | None:
    if row is None:
        return None
    if row.metric == "nps":
        return nps_estimate(row.top, row.middle, row.bottom, min_sample)
    return share_estimate(row.top, row.n, min_sample)


def _index_at(
    weights: dict[str, float], counts: dict[tuple[str, int], DayRow], i: int, min_sample: int
) -> IndexValue:
    parts = {
        survey: PartCounts(row.metric, row.n, row.top, row.bottom)
        for survey in weights
        if (row := counts.get((survey, i))) is not None
    }
    return cx_index(weights, parts, min_sample)
