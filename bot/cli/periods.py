"""`surveybot stats --by week|month|quarter`: the journey by period, as tables or one JSON document.

Both read a `JourneyReport` (`bot.metrics.journey`), the value the dashboard's journey page
renders, so the two agree on every number.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
import orjson
from rich.console import Console
from rich.table import Column, Table

from bot.cli.stats import estimate_cells
from bot.config import Config
from bot.metrics.cx_index import IndexValue
from bot.metrics.journey import JourneyReport, JourneyRow, build_journey
from bot.metrics.periods import Period, PeriodKind
from bot.metrics.statistics import Estimate
from bot.texts import digest as texts
from bot.texts import journey as words


def show_periods(
    config: Config,
    *,
    surveys: list[str],
    group_by: Sequence[str],
    end: datetime,
    as_json: bool,
    by: PeriodKind | None,
    count: int | None,
    since: str | None,
    timezone: str | None,
) -> None:
    """`stats --by`: check the options that go with it, read the journey, print it."""
    if by is None:
        raise click.UsageError("--periods, --since and --timezone go with --by week|month|quarter")
    if group_by:
        raise click.BadParameter(
            "breakdowns are per window: leave --group-by out with --by", param_hint="--group-by"
        )
    if count is not None and since is not None:
        raise click.UsageError("give --periods or --since, not both")
    zone = timezone or config.dashboard.timezone
    local = _zone(zone)
    first = _since(since, end, local) if since else None
    report = journey_numbers(
        config, kind=by, end=end, timezone=zone, count=count, since=first, surveys=surveys
    )
    if as_json:
        click.echo(orjson.dumps(journey_json(report), option=orjson.OPT_INDENT_2).decode())
        return
    print_journey(report, Console())


def journey_numbers(
    config: Config,
    *,
    kind: PeriodKind,
    end: datetime,
    timezone: str,
    count: int | None,
    since: date | None,
    surveys: list[str],
) -> JourneyReport:
    from bot.cli.commands import open_database

    db = open_database(config)
    try:
        with db.read() as conn:
            return build_journey(conn, config=config, kind=kind, end=end, timezone=timezone, count=count,
                                 since=since, surveys=surveys)  # fmt: skip
    finally:
        db.dispose()


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(
            f"{name!r} is not an IANA time zone like Europe/Paris", param_hint="--timezone"
        ) from None


def _since(text: str, end: datetime, zone: ZoneInfo) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date like 2026-01-31", param_hint="--since") from None
    if day > end.astimezone(zone).date():
        raise click.BadParameter(
            f"{text} is after the end ({end.astimezone(zone).date()})", param_hint="--since"
        )
    return day


def journey_json(report: JourneyReport) -> dict[str, Any]:
    """Every number: per stage and survey one entry per period; the index with its parts."""
    return {
        "by": report.kind,
        "timezone": report.timezone,
        "end": report.end.isoformat(),
        "min_sample": report.min_sample,
        "periods": [_period_json(p) for p in report.periods],
        "stages": _stages_json(report),
        "index": _index_json(report),
    }


def _period_json(p: Period) -> dict[str, Any]:
    return {"period": p.label, "start": p.start.isoformat(), "end": p.end.isoformat(), "partial": p.partial}


def _stages_json(report: JourneyReport) -> list[dict[str, Any]]:
    stages: dict[str, list[dict[str, Any]]] = {}
    for row in report.rows:
        stages.setdefault(row.stage, []).append(
            {
                "survey": row.survey,
                "metric": row.metric,
                "periods": _series_json(report.periods, row.estimates),
            }
        )
    return [{"stage": stage, "surveys": surveys} for stage, surveys in stages.items()]


def _series_json(periods: list[Period], estimates: list[Estimate | None]) -> list[dict[str, Any]]:
    return [{"period": p.label, **_estimate_json(e)} for p, e in zip(periods, estimates, strict=True)]


def _estimate_json(e: Estimate | None) -> dict[str, Any]:
    if e is None:
        return {"n": 0, "value": None, "low": None, "high": None, "small": True}
    return {"n": e.n, "value": e.value, "low": e.low, "high": e.high, "small": e.small}


def _index_json(report: JourneyReport) -> dict[str, Any] | None:
    if report.weights is None:
        return None
    return {
        "weights": report.weights,
        "scale": "0-100",
        "method": "delta",
        "periods": [_index_point_json(p, v) for p, v in zip(report.periods, report.index, strict=True)],
    }


def _index_point_json(period: Period, v: IndexValue) -> dict[str, Any]:
    return {
        "period": period.label, "value": v.value, "low": v.low, "high": v.high, "small": v.small,
        "missing": v.missing,
        "parts": {
            p.survey: {"weight": p.weight, "value": p.value, "standard_error": p.standard_error, "n": p.n}
            for p in v.parts
        },
    }  # fmt: skip


def print_journey(report: JourneyReport, console: Console) -> None:
    """One table per stage's survey (a row per period), then the index beside its parts."""
    console.print(f"[bold]{words.heading(report.kind, report.timezone, len(report.periods))}[/bold]")
    for row in report.rows:
        console.print(_survey_table(report, row))
    if report.weights is not None:
        console.print(_index_table(report))
        console.print(words.INDEX_METHOD)


def _survey_table(report: JourneyReport, row: JourneyRow) -> Table:
    title = words.stage_title(row.stage, row.survey, texts.METRIC_NAMES[row.metric])
    table = Table(
        Column("period", no_wrap=True), "value", Column("95% interval", no_wrap=True), "n", title=title
    )
    for period, e in zip(report.periods, row.estimates, strict=True):
        table.add_row(words.period_name(period.label, period.partial), *estimate_cells(row.metric, e))
    return table


def _index_table(report: JourneyReport) -> Table:
    weights = report.weights or {}
    parts = [words.part_title(s, w) for s, w in weights.items()]
    table = Table(
        Column("period", no_wrap=True), words.INDEX_NAME, Column("95% interval", no_wrap=True), *parts,
        title=words.INDEX_TABLE,
    )  # fmt: skip
    for period, v in zip(report.periods, report.index, strict=True):
        table.add_row(words.period_name(period.label, period.partial), *index_cells(v))
    return table


def index_cells(v: IndexValue) -> list[str]:
    """The index, its interval, then each part's 0-100 value and n; a part without answers reads
    '-' and so do the index and its interval (the note under the table says why)."""
    parts = [f"{words.index_points(p.value)} (n={p.n})" if p.value is not None else "-" for p in v.parts]
    if v.value is None or v.low is None or v.high is None:
        return [words.NO_INDEX, words.NO_INDEX, *parts]
    flag = " (small)" if v.small else ""
    return [
        f"{words.index_points(v.value)}{flag}",
        f"{words.index_points(v.low)} to {words.index_points(v.high)}",
        *parts,
    ]
