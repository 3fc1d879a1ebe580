"""Outcomes by score band and churn per period: the numbers `stats --outcomes`, the digest's
line and `/dashboard/outcomes` share (docs/outcomes.md says what each one means).

For every survey and outcome: of the responses in a cohort whose horizon has passed, the share
in each band (low, middle, high; NPS detractors, passives, promoters) whose contact had the
outcome within `within`, each with its 95% Wilson interval; beside them the sends of the same
cohort nobody answered ("no answer") and the response rate, so a reader sees who is missing;
and the lowest band against the highest: the ratio of their rates and a test of the difference.
An association, not a cause.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, cast
from zoneinfo import ZoneInfo

from bot.metrics.association import Difference, compare_shares
from bot.metrics.periods import PeriodKind, first_day, midnight, next_first_day
from bot.metrics.statistics import is_small_sample, wilson_interval
from storage.db import Connection
from storage.outcome_reads import ChurnPeriod, churn_periods, outcome_counts
from storage.outcomes import NO_ANSWER
from triggers.follow_ups import BANDS, CHURN, score_band

if TYPE_CHECKING:
    from bot.config import Config
    from bot.metrics.digest import SurveySection

COHORT = timedelta(days=365)  # the digest's and the dashboard's cohort: a year of answers
NO_ANSWER_BAND = "no_answer"


@dataclass(frozen=True)
class BandRate:
    """`done` of the `n` follow-ups of a band had the outcome; rate and interval in percent."""

    band: str
    n: int
    done: int
    small: bool

    @property
    def rate(self) -> float | None:
        return 100 * self.done / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float] | None:
        if not self.n:
            return None
        low, high = wilson_interval(self.done, self.n)
        return 100 * low, 100 * high


@dataclass(frozen=True)
class Contrast:
    """The lowest band against the highest: `ratio` of their rates (None when the highest is 0)."""

    low: BandRate
    high: BandRate
    ratio: float | None
    difference: Difference
    small: bool  # either band below `metrics.min_sample`


@dataclass(frozen=True)
class OutcomeSection:
    outcome: str
    on: str
    within: timedelta
    survey: str
    metric: str
    bands: list[BandRate]  # low, middle, high
    no_answer: BandRate
    contrast: Contrast | None

    @property
    def answered(self) -> int:
        return sum(b.n for b in self.bands)

    @property
    def response_rate(self) -> float | None:
        asked = self.answered + self.no_answer.n
        return 100 * self.answered / asked if asked else None


@dataclass(frozen=True)
class OutcomeReport:
    start: datetime  # the cohort: answers in [start, end) whose horizon passed by `end`
    end: datetime
    min_sample: int
    sections: list[OutcomeSection]
    churn: list[ChurnPeriod] | None = None  # None: no churn view asked for, or no `churn` outcome


def outcome_report(
    conn: Connection, *, config: Config, end: datetime, cohort: timedelta = COHORT,
    surveys: Sequence[str] | None = None, churn_periods_: Sequence[tuple[datetime, datetime]] = (),
) -> OutcomeReport:  # fmt: skip
    """Every configured outcome for every survey (or `surveys`), and churn per period when
    `churn_periods_` are given and a `churn` outcome is configured."""
    names = list(surveys or config.surveys)
    start = end - cohort
    sections = []
    for name, outcome in sorted(config.outcomes.items()):
        counts = outcome_counts(
            conn, outcome=name, within=outcome.within, surveys=names, start=start, end=end
        )
        for survey in names:
            mine = [(c.score, c.n, c.done) for c in counts if c.survey == survey]
            sections.append(_section(config, name, survey, mine))
    churn = None
    if churn_periods_ and CHURN in config.outcomes:
        churn = churn_periods(conn, churn_periods_)
    return OutcomeReport(start, end, config.metrics.min_sample, sections, churn)


def _section(config: Config, outcome: str, survey: str, counts: list[tuple[int, int, int]]) -> OutcomeSection:
    settings, defined = config.surveys[survey], config.outcomes[outcome]
    min_sample = config.metrics.min_sample
    totals = {band: [0, 0] for band in (*BANDS, NO_ANSWER_BAND)}
    for score, n, done in counts:
        band = (
            NO_ANSWER_BAND
            if score == NO_ANSWER
            else score_band(settings.metric, score, settings.low_score_threshold)
        )
        totals[band][0] += n
        totals[band][1] += done
    rates = {
        band: BandRate(band, n, done, is_small_sample(n, min_sample)) for band, (n, done) in totals.items()
    }
    bands = [rates[band] for band in BANDS]
    return OutcomeSection(
        outcome, defined.on, defined.within, survey, settings.metric, bands, rates[NO_ANSWER_BAND],
        _contrast(rates["low"], rates["high"]),
    )  # fmt: skip


def _contrast(low: BandRate, high: BandRate) -> Contrast | None:
    difference = compare_shares(low.done, low.n, high.done, high.n)
    if difference is None:
        return None
    ratio = (low.done / low.n) / (high.done / high.n) if high.done else None
    return Contrast(low, high, ratio, difference, low.small or high.small)


def with_outcomes(
    conn: Connection, sections: Sequence[SurveySection], *, config: Config, end: datetime
) -> list[SurveySection]:
    """The digest's hook: each survey section with its outcome contrasts (one per outcome that
    has answers in both the lowest and the highest band)."""
    if not config.outcomes:
        return list(sections)
    report = outcome_report(conn, config=config, end=end, surveys=[s.survey for s in sections])
    return [
        replace(s, outcomes=[o for o in report.sections if o.survey == s.survey and o.contrast is not None])
        for s in sections
    ]


PERIODS = ("week", "month", "quarter")


def calendar_periods(
    end: datetime, span: timedelta, period: str, timezone: str
) -> list[tuple[datetime, datetime]]:
    """The weeks (from Monday), months or quarters, cut at local midnight in `timezone`, that
    start in `[end - span, end)`; the last one is cut at `end`. Times are UTC."""
    zone, kind = ZoneInfo(timezone), cast(PeriodKind, period)
    begin = end - span
    first = first_day(kind, begin.astimezone(zone).date())
    if midnight(first, zone) < begin:
        first = next_first_day(kind, first)
    spans = []
    while (start := midnight(first, zone)) < end:
        first = next_first_day(kind, first)
        spans.append((start.astimezone(UTC), min(midnight(first, zone), end).astimezone(UTC)))
    return spans
