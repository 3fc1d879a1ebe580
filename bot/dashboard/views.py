"""What each dashboard page shows, as values: the metrics room's report (the numbers of
`surveybot stats`), and tables whose rows are exactly what the page and its CSV download hold.

Nothing here computes a metric: every number comes from `bot.metrics.report`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import quote

from bot.config import Config
from bot.metrics.digest import DigestReport, SurveySection
from bot.metrics.report import DayPoint, daily_points, stats_report
from bot.metrics.statistics import Estimate
from bot.texts import dashboard as words
from bot.texts import digest as texts
from storage import dashboard as stored
from storage.db import Connection
from storage.explain import ContactHistory, contact_history, timeline
from triggers.metrics import METRICS

COMMENT_LIMIT = 200


@dataclass(frozen=True)
class Cell:
    text: str
    href: str | None = None
    note: str | None = None  # a short flag shown beside the text (small sample, more than noise)


@dataclass(frozen=True)
class Table:
    """One table of a page; `key` names it in the download link (`?download=key`)."""

    key: str
    caption: str
    columns: list[str]
    rows: list[list[Cell]]


@dataclass(frozen=True)
class Overview:
    report: DigestReport
    surveys: Table


@dataclass(frozen=True)
class SurveyPage:
    report: DigestReport
    section: SurveySection
    points: list[DayPoint]
    low_threshold: int
    breakdown: Table | None
    comments: Table
    trend: Table
    themes: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True)
class ContactPage:
    contact_id: str
    history: ContactHistory
    moments: Table


def contact_href(contact_id: str) -> str:
    return f"/dashboard/contacts/{quote(contact_id, safe='')}"


def survey_href(survey: str) -> str:
    return f"/dashboard/surveys/{quote(survey, safe='')}"


# --- overview -----------------------------------------------------------------------------------


def build_overview(conn: Connection, *, config: Config, end: datetime, window: timedelta) -> Overview:
    report = stats_report(conn, config=config, end=end, window=window, title=words.OVERVIEW_TITLE)
    rows = [
        [
            Cell(s.survey, survey_href(s.survey)),
            Cell(texts.METRIC_NAMES[s.metric]),
            *estimate_cells(s.metric, s.estimate),
            change_cell(s),
            Cell(rate_text(s)),
            Cell(str(s.sends_left)),
            Cell(str(s.responded)),
            Cell(texts.holds(s.holds).removeprefix("Holds: ")),
        ]
        for s in report.sections
    ]
    columns = ["survey", "metric", "value", "95% interval", "n", "change", "response rate", "sent",
               "responded", "holds by reason"]  # fmt: skip
    return Overview(report, Table("surveys", words.OVERVIEW_TABLE, columns, rows))


def estimate_cells(metric: str, e: Estimate | None) -> list[Cell]:
    if e is None:
        return [Cell("-"), Cell("-"), Cell("0")]
    return [
        Cell(texts.metric_value(metric, e.value)),
        Cell(f"{texts.metric_value(metric, e.low)} to {texts.metric_value(metric, e.high)}"),
        Cell(str(e.n), note=words.SMALL if e.small else None),
    ]


def change_cell(s: SurveySection) -> Cell:
    if s.change is None:
        return Cell("-")
    verdict = words.REAL if s.change.significant else words.NOISE
    return Cell(f"{s.change.delta:+.1f}", note=verdict)


def rate_text(s: SurveySection) -> str:
    if s.response_rate is None:
        return words.NO_SENDS
    return f"{s.response_rate:.1f}% ({s.responded}/{s.sends_left})"


# --- one survey ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommentFilter:
    score: str = ""  # "" every score, "low" the survey's low scores, or one score "3"
    theme: str = ""  # a theme of `themes:`, or "" for any comment

    def scores(self, metric: str, low_threshold: int) -> list[int]:
        low, high = METRICS[metric].scale
        if self.score == "low":
            return list(range(low, low_threshold + 1))
        if self.score.isdigit() and low <= int(self.score) <= high:
            return [int(self.score)]
        return []


def build_survey_page(
    conn: Connection,
    *,
    config: Config,
    survey: str,
    end: datetime,
    window: timedelta,
    group_by: str | None,
    comments: CommentFilter,
    show_contacts: bool,
) -> SurveyPage:
    report = stats_report(
        conn, config=config, end=end, window=window, surveys=[survey], group_by=[group_by] if group_by else []
    )
    [section] = report.sections
    settings = config.surveys[survey]
    points = daily_points(
        conn, survey=survey, start=end - window, end=end, timezone=config.dashboard.timezone,
        min_sample=config.metrics.min_sample,
    )  # fmt: skip
    keywords = config.themes.get(comments.theme, []) if comments.theme else []
    items = stored.list_comments(
        conn, surveys=[survey], start=end - window, end=end,
        scores=comments.scores(section.metric, settings.low_score_threshold), keywords=keywords,
        limit=COMMENT_LIMIT,
    )  # fmt: skip
    return SurveyPage(
        report=report,
        section=section,
        points=points,
        low_threshold=settings.low_score_threshold,
        breakdown=_breakdown_table(section) if group_by else None,
        comments=_comments_table(items, config, show_contacts),
        trend=_trend_table(section.metric, points),
        themes=[(t.theme, t.count) for t in section.themes],
    )


def _breakdown_table(section: SurveySection) -> Table:
    [breakdown] = section.breakdowns
    rows = [
        [
            Cell(g.value if g.value is not None else texts.NO_GROUP),
            *estimate_cells(section.metric, g.estimate),
        ]
        for g in breakdown.lines
    ]
    caption = texts.breakdown_heading(breakdown.path)
    return Table("breakdown", caption, [breakdown.path, "value", "95% interval", "n"], rows)


def _comments_table(items: list[stored.CommentItem], config: Config, show_contacts: bool) -> Table:
    rows = []
    for item in items:
        themes = [
            name
            for name, keys in config.themes.items()
            if any(k.lower() in item.comment.lower() for k in keys)
        ]
        row = [
            Cell(words.when(item.received_at)),
            Cell(str(item.score)),
            Cell(item.comment),
            Cell(", ".join(themes)),
            Cell(item.channel),
        ]
        if show_contacts:
            row.append(Cell(item.contact_id, contact_href(item.contact_id)))
        rows.append(row)
    columns = ["received", "score", "comment", "themes", "channel"] + (["contact"] if show_contacts else [])
    return Table("comments", words.COMMENTS_TABLE, columns, rows)


def _trend_table(metric: str, points: list[DayPoint]) -> Table:
    rows = [[Cell(p.day.isoformat()), *estimate_cells(metric, p.estimate)] for p in points]
    return Table("trend", words.TREND_TABLE, ["day", "value", "95% interval", "n"], rows)


# --- alerts and contacts ------------------------------------------------------------------------


def build_alerts(conn: Connection, *, end: datetime, window: timedelta, state: str | None) -> Table:
    items = stored.list_alerts(conn, start=end - window, end=end, state=state)
    rows = [
        [
            Cell(words.when(a.created_at)),
            Cell(a.survey, survey_href(a.survey)),
            Cell(str(a.score)),
            Cell(a.comment or ""),
            Cell(a.contact_name or a.contact_id or "", contact_href(a.contact_id) if a.contact_id else None),
            Cell(words.ALERT_STATES[a.state]),
            Cell(_who_when(a.claimed_by, a.claimed_at)),
            Cell(_who_when(a.resolved_by, a.resolved_at)),
            Cell(a.send_id),
        ]
        for a in items
    ]
    columns = ["raised", "survey", "score", "comment", "contact", "state", "claimed", "resolved", "send"]
    return Table("alerts", words.ALERTS_TABLE, columns, rows)


def _who_when(who: str | None, at: datetime | None) -> str:
    if not who:
        return ""
    return f"{who}, {words.when(at)}" if at else who


def build_contact_page(conn: Connection, contact_id: str) -> ContactPage | None:
    history = contact_history(conn, contact_id)
    if not history.found:
        return None
    rows = [
        [Cell(m.at.replace("T", " ").removesuffix("Z")), Cell(m.kind), Cell(m.survey), Cell(m.what)]
        for m in timeline(history)
    ]
    table = Table("timeline", words.TIMELINE_TABLE, ["at (UTC)", "what", "survey", "detail"], rows)
    return ContactPage(contact_id, history, table)
