"""The outcomes page (`/dashboard/outcomes`) as values: one table per outcome and survey (the
score bands, then "no answer"), the sentence comparing lowest and highest, and churn per month.
Every number comes from `bot.metrics.outcomes`, as `surveybot stats --outcomes` prints it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import Config
from bot.dashboard.views import Cell, Table
from bot.metrics.outcomes import BandRate, OutcomeReport, OutcomeSection, calendar_periods, outcome_report
from bot.texts import dashboard as dashboard_words
from bot.texts import outcomes as texts
from storage.db import Connection

COLUMNS = ["band", "responses", "had the outcome", "rate", "95% interval"]


@dataclass(frozen=True)
class OutcomeBlock:
    section: OutcomeSection
    table: Table
    sentence: str | None  # lowest against highest, when both have answers
    small: bool
    response_rate: str


@dataclass(frozen=True)
class OutcomesPage:
    report: OutcomeReport
    blocks: list[OutcomeBlock]
    churn: Table | None

    @property
    def tables(self) -> list[Table]:
        return [b.table for b in self.blocks] + ([self.churn] if self.churn else [])


def build_outcomes_page(
    conn: Connection, *, config: Config, end: datetime, cohort: timedelta
) -> OutcomesPage:
    periods = calendar_periods(end, cohort, "month", config.dashboard.timezone)
    report = outcome_report(conn, config=config, end=end, cohort=cohort, churn_periods_=periods)
    churn = None
    if report.churn is not None:
        rows = [
            [Cell(texts.period_label(p.start, "month")), Cell(str(p.customers)), Cell(str(p.lost)),
             Cell(texts.churn_rate(p.lost, p.customers))]
            for p in report.churn
        ]  # fmt: skip
        churn = Table(
            "churn", texts.CHURN_HEADING, ["month", "customers at start", "lost", "churn rate"], rows
        )
    return OutcomesPage(report, [_block(s, report.min_sample) for s in report.sections], churn)


def _block(s: OutcomeSection, min_sample: int) -> OutcomeBlock:
    rows = [_row(s.metric, b) for b in [*s.bands, s.no_answer]]
    caption = texts.section_heading(s.survey, s.outcome, s.on, s.within)
    table = Table(f"{s.outcome}-{s.survey}", caption, COLUMNS, rows)
    c, sentence = s.contrast, None
    if c is not None and c.low.rate is not None and c.high.rate is not None:
        sentence = texts.contrast_line(
            s.metric, s.outcome, s.within, (c.low.rate, c.high.rate), (c.low.n, c.high.n), c.ratio,
            c.difference.beyond_noise,
        )  # fmt: skip
    rate = texts.response_rate_line(s.response_rate, s.answered, s.answered + s.no_answer.n)
    return OutcomeBlock(s, table, sentence, bool(c and c.small), rate)


def _row(metric: str, b: BandRate) -> list[Cell]:
    return [
        Cell(texts.band_name(metric, b.band)),
        Cell(str(b.n), note=dashboard_words.SMALL if b.small and b.n else None),
        Cell(str(b.done)),
        Cell(texts.percent(b.rate)),
        Cell(texts.percent_interval(b.interval)),
    ]
