"""`surveybot stats` for people (a rich table) and for programs (one JSON document).

Both read a `DigestReport`, the same value Slack digests and `/surveybot stats` render, so the
three always agree on the numbers.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Column, Table

from bot.metrics.digest import DigestReport, SurveySection, reminder_rates_text
from bot.metrics.statistics import Estimate
from bot.texts import digest as texts
from triggers.durations import format_duration


def report_json(report: DigestReport) -> dict[str, Any]:
    """Every number of the report; percentages as numbers, intervals as `low`/`high`."""
    return {
        "window": {
            "start": report.start.isoformat(),
            "end": report.end.isoformat(),
            "length": format_duration(report.window),
            "seconds": int(report.window.total_seconds()),
        },
        "min_sample": report.min_sample,
        "surveys": [_section_json(s) for s in report.sections],
    }


def _section_json(s: SurveySection) -> dict[str, Any]:
    return {
        "survey": s.survey,
        "metric": s.metric,
        **_estimate_json(s.estimate),
        "previous": _estimate_json(s.previous) if s.previous else None,
        "change": {"delta": s.change.delta, "p_value": s.change.p_value, "significant": s.change.significant}
        if s.change
        else None,
        "mean_score": s.mean_score,
        "sent": s.sends_left,
        "responded": s.responded,
        "response_rate": s.response_rate,
        "holds": dict(s.holds),
        "reminders": _reminders_json(s),
        "breakdowns": {
            b.path: [{"group": g.value, **_estimate_json(g.estimate)} for g in b.lines] for b in s.breakdowns
        },
    }


def _reminders_json(s: SurveySection) -> dict[str, Any] | None:
    """First asks and reminders apart: each `sent`, `responded`, `response_rate`, `low`, `high`."""
    if s.reminders is None:
        return None
    return {
        name: {
            "sent": rate.asked,
            "responded": rate.responded,
            "response_rate": rate.rate,
            "low": rate.interval[0] if rate.interval else None,
            "high": rate.interval[1] if rate.interval else None,
        }
        for name, rate in (("first_asks", s.reminders.first_asks), ("reminders", s.reminders.reminders))
    }


def _estimate_json(e: Estimate | None) -> dict[str, Any]:
    if e is None:
        return {"n": 0, "value": None, "low": None, "high": None, "small": True}
    return {"n": e.n, "value": e.value, "low": e.low, "high": e.high, "small": e.small}


def print_stats_table(report: DigestReport, console: Console) -> None:
    """One row per survey, then one table per breakdown."""
    console.print(f"[bold]{report.heading}[/bold]")
    console.print(texts.window_line(report.start, report.end, report.timezone))
    table = Table(
        Column("survey", no_wrap=True), "metric", "value", Column("95% interval", no_wrap=True), "n",
        "change", "responded",
    )  # fmt: skip
    for s in report.sections:
        table.add_row(
            s.survey,
            texts.METRIC_NAMES[s.metric],
            *estimate_cells(s.metric, s.estimate),
            _change(s),
            _rate(s),
        )
    console.print(table)
    for s in report.sections:
        console.print(f"{s.survey}: {texts.holds(s.holds)}")
        if s.reminders is not None:
            console.print(f"{s.survey}: {reminder_rates_text(s.reminders)}")
    for s in report.sections:
        for b in s.breakdowns:
            sub = Table(
                "group", "value", "95% interval", "n", title=f"{s.survey}: {texts.breakdown_heading(b.path)}"
            )
            for g in b.lines:
                sub.add_row(
                    g.value if g.value is not None else texts.NO_GROUP, *estimate_cells(s.metric, g.estimate)
                )
            console.print(sub)


def estimate_cells(metric: str, e: Estimate | None) -> list[str]:
    """The metric, its 95% interval and n (flagged when small), as table cells."""
    if e is None:
        return ["-", "-", "0"]
    flag = " (small)" if e.small else ""
    return [
        texts.metric_value(metric, e.value),
        f"{texts.metric_value(metric, e.low)} to {texts.metric_value(metric, e.high)}",
        f"{e.n}{flag}",
    ]


def _rate(s: SurveySection) -> str:
    if s.response_rate is None:
        return "no sends"
    return f"{s.response_rate:.1f}% ({s.responded}/{s.sends_left})"


def _change(s: SurveySection) -> str:
    if s.change is None:
        return "-"
    verdict = "real" if s.change.significant else "noise"
    return f"{s.change.delta:+.1f} ({verdict})"
