"""Build a `DigestReport` from storage: the SQL aggregates in, the statistics on top.

`build_digest_report` is what a scheduled digest, `surveybot digest NAME --print` and
`/surveybot stats` call; `daily_points` feeds the trend chart. Both only read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from bot.config import Config, DigestConfig
from bot.metrics.digest import (
    AlertSummary,
    Breakdown,
    CommentLine,
    DigestReport,
    GroupLine,
    SurveySection,
    ThemeLine,
)
from bot.metrics.outcomes import with_outcomes
from bot.metrics.reminders import with_reminder_rates
from bot.metrics.statistics import Change, Estimate, nps_change, nps_estimate, share_change, share_estimate
from storage.db import Connection
from storage.metrics import (
    HoldRow,
    MetricRow,
    SendRow,
    ThemeCounts,
    comment_themes,
    daily_series,
    digest_metrics,
    holds_by_reason,
    low_score_comments,
    send_counts,
)


class DayPoint(NamedTuple):
    """One day of the trend chart; `estimate` is None when nobody answered that day."""

    day: date
    estimate: Estimate | None


@dataclass(frozen=True)
class _Window:
    """The read-only aggregates of one digest window, fetched once for all surveys."""

    rows: list[MetricRow]
    sends: dict[str, SendRow]
    themes: dict[str, ThemeCounts]
    holds: list[HoldRow]


def build_digest_report(
    conn: Connection,
    *,
    config: Config,
    digest: DigestConfig,
    end: datetime,
    alerts: AlertSummary | None = None,
    comment_limit: int = 5,
) -> DigestReport:
    """The digest for the window `[end - window, end)`, compared with the window before it.
    Issues a fixed number of queries plus one per survey (its latest comments)."""
    surveys = digest.surveys or list(config.surveys)
    lows = {name: config.surveys[name].low_score_threshold for name in surveys}
    start = end - digest.window
    fetched = _Window(
        rows=digest_metrics(
            conn, surveys=surveys, start=start, end=end, group_bys=[None, *digest.group_by],
            low_thresholds=lows, previous_start=start - digest.window,
        ),
        sends={r.survey: r for r in send_counts(conn, surveys=surveys, start=start, end=end)},
        themes={
            r.survey: r for r in comment_themes(
                conn, surveys=surveys, start=start, end=end, themes=config.themes,
                low_thresholds=lows,
            )
        },
        holds=holds_by_reason(conn, surveys=surveys, start=start, end=end),
    )  # fmt: skip
    sections = []
    for name in surveys:
        comments = low_score_comments(
            conn, surveys=[name], start=start, end=end, low_thresholds=lows, limit=comment_limit
        )
        section = _section(name, config.surveys[name].metric, fetched, digest.group_by, config)
        sections.append(
            replace(
                section,
                comments=[CommentLine(c.score, c.comment, c.channel, c.received_at) for c in comments],
            )
        )
    sections = with_reminder_rates(conn, sections, config=config, start=start, end=end)
    sections = with_outcomes(conn, sections, config=config, end=end)
    zone = ZoneInfo(digest.timezone)
    return DigestReport(
        name=digest.name,
        start=start.astimezone(zone),
        end=end.astimezone(zone),
        timezone=digest.timezone,
        window=digest.window,
        min_sample=config.metrics.min_sample,
        sections=sections,
        alerts=alerts,
    )


def stats_report(
    conn: Connection,
    *,
    config: Config,
    end: datetime,
    window: timedelta,
    surveys: Sequence[str] | None = None,
    group_by: Sequence[str] = (),
    title: str | None = None,
) -> DigestReport:
    """The numbers of `surveys` (default: all) for `[end - window, end)`, as a digest would show
    them: what `/surveybot stats` and `surveybot stats` answer."""
    adhoc = DigestConfig(
        name="stats", channel="-", schedule="0 0 * * *", timezone="UTC", window=window,
        surveys=list(surveys) if surveys else None, group_by=list(group_by),
    )  # fmt: skip
    report = build_digest_report(conn, config=config, digest=adhoc, end=end)
    return replace(report, title=title)


def _section(
    name: str, metric: str, fetched: _Window, group_by: Sequence[str], config: Config
) -> SurveySection:
    mine = [r for r in fetched.rows if r.survey == name]
    min_sample = config.metrics.min_sample
    current, previous = _find(mine, "current"), _find(mine, "previous")
    sends, theme = fetched.sends.get(name), fetched.themes.get(name)
    return SurveySection(
        survey=name,
        metric=metric,
        estimate=_estimate(current, min_sample),
        previous=_estimate(previous, min_sample),
        change=_change(current, previous),
        mean_score=current.score_sum / current.n if current and metric == "ces" else None,
        sends_left=sends.left if sends else 0,
        responded=sends.responded if sends else 0,
        holds=[(h.reason, h.count) for h in fetched.holds if h.survey == name],
        breakdowns=[_breakdown(mine, path, min_sample) for path in group_by],
        comments_total=theme.low_commented if theme else 0,
        themes=[ThemeLine(t, n, theme.low_total) for t, n in theme.themes.items()] if theme else [],
    )


def daily_points(
    conn: Connection,
    *,
    survey: str,
    start: datetime,
    end: datetime,
    timezone: str,
    min_sample: int = 30,
) -> list[DayPoint]:
    """The survey's metric per local day of `[start, end)`, each with its interval (None: no
    response that day). Days are cut at midnight in `timezone`, DST included."""
    days = day_starts(start, end, ZoneInfo(timezone))
    counts = {r.day: r for r in daily_series(conn, surveys=[survey], days=days, end=end)}
    points = []
    for day in days:
        row = counts.get(day)
        estimate = None
        if row is not None and row.metric == "nps":
            estimate = nps_estimate(row.top, row.middle, row.bottom, min_sample)
        elif row is not None:
            estimate = share_estimate(row.top, row.n, min_sample)
        points.append(DayPoint(day.astimezone(ZoneInfo(timezone)).date(), estimate))
    return points


def day_starts(start: datetime, end: datetime, zone: ZoneInfo) -> list[datetime]:
    """`start`, then every local midnight after it and before `end`, as aware datetimes."""
    local = start.astimezone(zone)
    days = [start]
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), zone)
    while midnight < end:
        days.append(midnight)
        midnight = datetime.combine(midnight.date() + timedelta(days=1), datetime.min.time(), zone)
    return days


def _find(rows: Sequence[MetricRow], period: str) -> MetricRow | None:
    return next((r for r in rows if r.group_by is None and r.period == period), None)


def _estimate(row: MetricRow | None, min_sample: int) -> Estimate | None:
    if row is None:
        return None
    if row.metric == "nps":
        return nps_estimate(row.top, row.middle, row.bottom, min_sample)
    return share_estimate(row.top, row.n, min_sample)


def _change(current: MetricRow | None, previous: MetricRow | None) -> Change | None:
    if current is None or previous is None:
        return None
    if current.metric == "nps":
        return nps_change(
            (current.top, current.middle, current.bottom),
            (previous.top, previous.middle, previous.bottom),
        )
    return share_change(current.top, current.n, previous.top, previous.n)


def _breakdown(rows: Sequence[MetricRow], path: str, min_sample: int) -> Breakdown:
    """The groups of one path, largest first."""
    lines = [
        GroupLine(r.group, estimate)
        for r in sorted(rows, key=lambda r: (-r.n, r.group or ""))
        if r.group_by == path and r.period == "current"
        and (estimate := _estimate(r, min_sample)) is not None
    ]  # fmt: skip
    return Breakdown(path, lines)
