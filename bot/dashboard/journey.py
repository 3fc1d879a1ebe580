"""The dashboard's journey page as values: stages x periods, and the CX index beside its parts.

Every number comes from `bot.metrics.journey.build_journey`, the report `surveybot stats --by`
prints, with the periods cut at midnight in `dashboard.timezone`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.config import Config
from bot.dashboard.views import Cell, Table
from bot.metrics.cx_index import IndexValue, Part
from bot.metrics.journey import JourneyReport, build_journey
from bot.metrics.periods import DEFAULT_COUNTS, KINDS, PeriodKind
from bot.metrics.statistics import Estimate
from bot.texts import dashboard as words
from bot.texts import digest as texts
from bot.texts import journey as journey_words
from storage.db import Connection

MAX_PAGE_PERIODS = 60


@dataclass(frozen=True)
class JourneyPage:
    report: JourneyReport
    stages: Table
    index: Table | None


def build_journey_page(
    conn: Connection, *, config: Config, kind: PeriodKind, count: int, end: datetime
) -> JourneyPage:
    report = build_journey(
        conn, config=config, kind=kind, end=end, timezone=config.dashboard.timezone, count=count
    )
    labels = [journey_words.period_name(p.label, p.partial) for p in report.periods]
    rows = [
        [Cell(row.stage), Cell(row.survey), Cell(texts.METRIC_NAMES[row.metric]),
         *[estimate_cell(row.metric, e) for e in row.estimates]]
        for row in report.rows
    ]  # fmt: skip
    stages = Table("journey", journey_words.JOURNEY_TABLE, ["stage", "survey", "metric", *labels], rows)
    return JourneyPage(report, stages, _index_table(report, labels))


def journey_choice(by: str | None, periods: str | None) -> tuple[PeriodKind, int] | str:
    """(kind, count) from the page's query (default: 12 months), or what is wrong with it."""
    kind = next((k for k in KINDS if k == (by or "month")), None)
    if kind is None:
        return journey_words.not_a_kind(by or "")
    if not periods:
        return kind, DEFAULT_COUNTS[kind]
    if not periods.isdigit() or not 1 <= int(periods) <= MAX_PAGE_PERIODS:
        return journey_words.not_a_count(periods, MAX_PAGE_PERIODS)
    return kind, int(periods)


def estimate_cell(metric: str, e: Estimate | None) -> Cell:
    """`80.0% (71.2% to 86.7%), n=100`, flagged when the sample is small; `no answers` without any."""
    if e is None:
        return Cell(journey_words.NO_ANSWERS)
    value, low, high = (texts.metric_value(metric, x) for x in (e.value, e.low, e.high))
    return Cell(f"{value} ({low} to {high}), n={e.n}", note=words.SMALL if e.small else None)


def _index_table(report: JourneyReport, labels: list[str]) -> Table | None:
    if report.weights is None:
        return None
    rows = [[Cell(journey_words.INDEX_NAME), Cell("1"), *[index_cell(v) for v in report.index]]]
    for i, (survey, weight) in enumerate(report.weights.items()):
        rows.append([Cell(survey), Cell(f"{weight:g}"), *[part_cell(v.parts[i]) for v in report.index]])
    return Table("index", journey_words.INDEX_TABLE, [journey_words.INDEX_COLUMN, "weight", *labels], rows)


def index_cell(v: IndexValue) -> Cell:
    if v.value is None or v.low is None or v.high is None:
        return Cell(journey_words.NO_INDEX_CELL, note=journey_words.missing_parts(v.missing))
    points = journey_words.index_points
    return Cell(
        f"{points(v.value)} ({points(v.low)} to {points(v.high)})", note=words.SMALL if v.small else None
    )


def part_cell(part: Part) -> Cell:
    """The part on the index's 0-100 scale, and its n."""
    if part.value is None:
        return Cell(journey_words.NO_ANSWERS)
    return Cell(f"{journey_words.index_points(part.value)}, n={part.n}")
