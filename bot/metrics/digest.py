"""What a digest says (`DigestReport`), and how it reads in Slack (Block Kit) and on a terminal.

`render_digest_blocks` keeps within Slack's limits: at most 50 blocks, at most 3,000 characters
in a section's text, long lists cut with "and N more"; surveys that do not fit are named by
count in a last line. Rendering is pure: no I/O, no Slack SDK.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.metrics.statistics import Change, Estimate
from bot.texts import digest as texts

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_LIST_LINES = 15  # a list longer than this is cut, even when it would fit
MAX_HEADER_CHARS = 150


@dataclass(frozen=True)
class GroupLine:
    value: str | None
    estimate: Estimate


@dataclass(frozen=True)
class Breakdown:
    path: str
    lines: list[GroupLine]


@dataclass(frozen=True)
class CommentLine:
    score: int
    text: str
    channel: str
    received_at: datetime


@dataclass(frozen=True)
class ThemeLine:
    theme: str
    count: int
    low_total: int

    @property
    def share(self) -> float | None:
        """Percent of the survey's low scores whose comment names the theme."""
        return 100 * self.count / self.low_total if self.low_total else None


@dataclass(frozen=True)
class SurveySection:
    """One survey's numbers; `estimate` is None when nobody answered in the window."""

    survey: str
    metric: str
    estimate: Estimate | None
    previous: Estimate | None = None
    change: Change | None = None
    mean_score: float | None = None
    sends_left: int = 0
    responded: int = 0
    holds: list[tuple[str, int]] = field(default_factory=list)
    breakdowns: list[Breakdown] = field(default_factory=list)
    comments: list[CommentLine] = field(default_factory=list)
    comments_total: int = 0
    themes: list[ThemeLine] = field(default_factory=list)

    @property
    def response_rate(self) -> float | None:
        return 100 * self.responded / self.sends_left if self.sends_left else None


@dataclass(frozen=True)
class AlertSummary:
    posted: int
    claimed: int
    resolved: int
    median_time_to_claim: timedelta | None


@dataclass(frozen=True)
class DigestReport:
    name: str
    start: datetime  # aware, in the digest's time zone
    end: datetime
    timezone: str
    window: timedelta
    min_sample: int
    sections: list[SurveySection]
    alerts: AlertSummary | None = None
    title: str | None = None  # default: "Survey digest: <name>"

    @property
    def heading(self) -> str:
        return self.title or texts.digest_title(self.name)


# --- Block Kit -------------------------------------------------------------------------------


def render_digest_blocks(report: DigestReport) -> list[dict[str, Any]]:
    """Block Kit for the digest, within Slack's limits (see the module docstring)."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": _plain(report.heading[:MAX_HEADER_CHARS])},
        _context(texts.window_line(report.start, report.end, report.timezone)),
    ]
    tail = [_section(_alerts_text(report.alerts))] if report.alerts else []
    for shown, section in enumerate(report.sections):
        part = _survey_blocks(report, section)
        reserve = len(tail) + (1 if shown < len(report.sections) - 1 else 0)
        if len(blocks) + len(part) + reserve > MAX_BLOCKS:
            blocks.append(_context(texts.more_surveys(len(report.sections) - shown)))
            break
        blocks.extend(part)
    return blocks + tail


def _survey_blocks(report: DigestReport, s: SurveySection) -> list[dict[str, Any]]:
    blocks = [{"type": "divider"}, _section("\n".join(_headline(report, s, mrkdwn=True)))]
    for breakdown in s.breakdowns:
        lines = [texts.escape(_group_text(s.metric, g)) for g in breakdown.lines]
        blocks.append(_section(_list_text(texts.breakdown_heading(breakdown.path), lines)))
    if s.comments:
        lines = [texts.escape(_comment_text(c)) for c in s.comments]
        hidden = s.comments_total - len(s.comments)
        heading = texts.comments_heading(s.comments_total)
        blocks.append(_section(_list_text(heading, lines, hidden=hidden)))
    if s.themes:
        lines = [texts.escape(_theme_text(t)) for t in s.themes]
        blocks.append(_section(_list_text(texts.themes_heading(), lines)))
    return blocks


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:MAX_SECTION_CHARS]}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:MAX_SECTION_CHARS]}]}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _list_text(heading: str, lines: list[str], hidden: int = 0) -> str:
    """`*heading*` and bullet lines, cut to fit a section, the cut named as "and N more"."""
    head = f"*{texts.escape(heading)}*"
    kept: list[str] = []
    for i, line in enumerate(lines):
        rest = len(lines) - i + hidden
        candidate = "\n".join([head, *kept, f"• {line}", f"_{texts.and_more(rest)}_"])
        if i >= MAX_LIST_LINES or len(candidate) > MAX_SECTION_CHARS:
            break
        kept.append(f"• {line}")
    hidden += len(lines) - len(kept)
    more = [f"_{texts.and_more(hidden)}_"] if hidden > 0 else []
    return "\n".join([head, *kept, *more])


# --- shared wording --------------------------------------------------------------------------


def _headline(report: DigestReport, s: SurveySection, mrkdwn: bool) -> list[str]:
    """The survey's lines: metric with interval, change, response rate, holds."""
    title = texts.escape(texts.survey_heading(s.survey, s.metric)) if mrkdwn else s.survey
    lines = [f"*{title}*" if mrkdwn else texts.survey_heading(s.survey, s.metric)]
    e = s.estimate
    if e is None:
        lines.append(texts.no_responses())
    else:
        value = texts.metric_value(s.metric, e.value)
        lines.append(
            f"{f'*{value}*' if mrkdwn else value}  "
            f"{texts.interval(s.metric, e.low, e.high)}, {texts.sample_size(e.n)}"
        )
        if e.small:
            lines.append(("⚠️ " if mrkdwn else "! ") + texts.small_sample(report.min_sample))
    if s.change is not None:
        lines.append(
            texts.change(s.metric, s.change.delta, s.change.significant, texts.window_name(report.window))
        )
    elif e is not None:
        lines.append(texts.no_previous(texts.window_name(report.window)))
    if s.mean_score is not None:
        lines.append(texts.ces_mean(s.mean_score))
    lines.append(texts.response_rate(s.response_rate, s.responded, s.sends_left))
    lines.append(texts.holds(s.holds))
    return lines


def _group_text(metric: str, g: GroupLine) -> str:
    value = texts.metric_value(metric, g.estimate.value)
    return texts.group_line(g.value, value, g.estimate.n, g.estimate.small)


def _comment_text(c: CommentLine) -> str:
    return texts.comment_line(c.score, c.text, c.channel, c.received_at)


def _theme_text(t: ThemeLine) -> str:
    return texts.theme_line(t.theme, t.count, t.share, t.low_total)


def _alerts_text(a: AlertSummary | None) -> str:
    assert a is not None
    return texts.alerts_line(a.posted, a.claimed, a.resolved, a.median_time_to_claim)


def render_fallback_text(report: DigestReport) -> str:
    """One line for notifications: each survey's metric and n."""
    parts = []
    for s in report.sections:
        e = s.estimate
        shown = texts.metric_value(s.metric, e.value) if e else texts.no_responses()
        parts.append(f"{texts.survey_heading(s.survey, s.metric)} {shown}")
    return texts.fallback_text(report.heading, parts)


# --- terminal --------------------------------------------------------------------------------


def render_digest_text(report: DigestReport, list_lines: int = MAX_LIST_LINES) -> str:
    """The digest as plain text for `surveybot digest NAME --print`."""
    out = [
        report.heading,
        texts.window_line(report.start, report.end, report.timezone),
    ]
    for s in report.sections:
        out += ["", *_headline(report, s, mrkdwn=False)]
        for b in s.breakdowns:
            out += _text_list(
                texts.breakdown_heading(b.path),
                [_group_text(s.metric, g) for g in b.lines],
                list_lines,
            )
        if s.comments:
            hidden = s.comments_total - len(s.comments)
            lines = [_comment_text(c) for c in s.comments]
            out += _text_list(texts.comments_heading(s.comments_total), lines, list_lines, hidden)
        if s.themes:
            out += _text_list(texts.themes_heading(), [_theme_text(t) for t in s.themes], list_lines)
    if report.alerts:
        out += ["", _alerts_text(report.alerts)]
    return "\n".join(out) + "\n"


def _text_list(heading: str, lines: list[str], limit: int, hidden: int = 0) -> list[str]:
    hidden += max(0, len(lines) - limit)
    more = [f"  {texts.and_more(hidden)}"] if hidden > 0 else []
    return [f"  {heading}:", *[f"  - {line}" for line in lines[:limit]], *more]
