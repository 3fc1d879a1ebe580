"""`surveybot stats --outcomes` and `--churn PERIOD`: outcomes by score band, churn per period,
for people (rich tables) and for programs (`--json`). Both read an `OutcomeReport`, the value
the digest's line and /dashboard/outcomes read too."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from rich.console import Console
from rich.table import Table

from bot.config import Config
from bot.metrics.outcomes import BandRate, OutcomeReport, OutcomeSection, calendar_periods, outcome_report
from bot.texts import outcomes as texts
from triggers.durations import format_duration


def outcome_numbers(
    config: Config, *, surveys: list[str], cohort: timedelta, end: datetime, churn: str | None
) -> OutcomeReport:
    """The report for the cohort `[end - cohort, end)`; with `churn`, its periods over the same span."""
    from bot.cli.commands import open_database

    periods = calendar_periods(end, cohort, churn, config.dashboard.timezone) if churn else []
    db = open_database(config)
    try:
        with db.read() as conn:
            return outcome_report(
                conn, config=config, end=end, cohort=cohort, surveys=surveys or None, churn_periods_=periods
            )
    finally:
        db.dispose()


def outcomes_json(report: OutcomeReport, period: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "cohort": {"start": report.start.isoformat(), "end": report.end.isoformat()},
        "min_sample": report.min_sample,
        "outcomes": [_section_json(s) for s in report.sections],
    }
    if report.churn is not None:
        body["churn"] = {
            "period": period,
            "periods": [
                {"start": p.start.isoformat(), "end": p.end.isoformat(), "customers": p.customers,
                 "lost": p.lost, "rate": 100 * p.lost / p.customers if p.customers else None}
                for p in report.churn
            ],
        }  # fmt: skip
    return body


def _section_json(s: OutcomeSection) -> dict[str, Any]:
    c = s.contrast
    return {
        "outcome": s.outcome,
        "on": s.on,
        "within": format_duration(s.within),
        "survey": s.survey,
        "metric": s.metric,
        "bands": {b.band: _band_json(b) for b in s.bands},
        "no_answer": _band_json(s.no_answer),
        "response_rate": s.response_rate,
        "contrast": None
        if c is None
        else {
            "ratio": c.ratio,
            "test": c.difference.test,
            "p_value": c.difference.p_value,
            "beyond_noise": c.difference.beyond_noise,
            "small": c.small,
        },
    }


def _band_json(b: BandRate) -> dict[str, Any]:
    interval = b.interval
    return {
        "n": b.n, "done": b.done, "rate": b.rate, "low": interval[0] if interval else None,
        "high": interval[1] if interval else None, "small": b.small,
    }  # fmt: skip


def print_outcomes(report: OutcomeReport, console: Console, *, configured: bool, period: str | None) -> None:
    console.print(f"[bold]{texts.HEADING}[/bold]")
    console.print(texts.cohort_line(report.start, report.end))
    if not configured:
        console.print(texts.no_outcomes())
    for s in report.sections:
        table = Table(
            "band",
            "n",
            "had it",
            "rate",
            "95% interval",
            title=texts.section_heading(s.survey, s.outcome, s.on, s.within),
        )
        for b in [*s.bands, s.no_answer]:
            flag = " (small)" if b.small and b.n else ""
            name = texts.band_name(s.metric, b.band)
            table.add_row(
                name, f"{b.n}{flag}", str(b.done), texts.percent(b.rate), texts.percent_interval(b.interval)
            )
        console.print(table)
        console.print(texts.response_rate_line(s.response_rate, s.answered, s.answered + s.no_answer.n))
        c = s.contrast
        if c is not None and c.low.rate is not None and c.high.rate is not None:
            line = texts.contrast_line(s.metric, s.outcome, s.within, (c.low.rate, c.high.rate),
                                       (c.low.n, c.high.n), c.ratio, c.difference.beyond_noise)  # fmt: skip
            console.print(line + (f" ({texts.small_contrast(report.min_sample)})" if c.small else ""))
    if period is not None:
        _print_churn(report, console, period)


def _print_churn(report: OutcomeReport, console: Console, period: str) -> None:
    if report.churn is None:
        console.print(texts.no_churn())
        return
    table = Table("period", "customers at start", "lost", "churn rate", title=texts.CHURN_HEADING)
    for p in report.churn:
        table.add_row(
            texts.period_label(p.start, period),
            str(p.customers),
            str(p.lost),
            texts.churn_rate(p.lost, p.customers),
        )
    console.print(table)
