"""A digest in Slack (Block Kit), and the one-line fallback text for notifications.

`render_digest_blocks` keeps within Slack's limits: at most 50 blocks, at most 3,000 characters
in a section's text, long lists cut with "and N more"; surveys that do not fit are named by
count in a last line. Rendering is pure: no I/O, no Slack SDK.
"""

from __future__ import annotations

from typing import Any

from bot.metrics.digest import (
    MAX_LIST_LINES,
    DigestReport,
    SurveySection,
    alerts_text,
    comment_text,
    group_text,
    headline_lines,
    theme_text,
)
from bot.texts import digest as texts

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_HEADER_CHARS = 150


# --- Block Kit -------------------------------------------------------------------------------


def render_digest_blocks(report: DigestReport) -> list[dict[str, Any]]:
    """Block Kit for the digest, within Slack's limits (see the module docstring)."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": _plain(report.heading[:MAX_HEADER_CHARS])},
        _context(texts.window_line(report.start, report.end, report.timezone)),
    ]
    tail = [_section(alerts_text(report.alerts))] if report.alerts else []
    for shown, section in enumerate(report.sections):
        part = _survey_blocks(report, section)
        reserve = len(tail) + (1 if shown < len(report.sections) - 1 else 0)
        if len(blocks) + len(part) + reserve > MAX_BLOCKS:
            blocks.append(_context(texts.more_surveys(len(report.sections) - shown)))
            break
        blocks.extend(part)
    return blocks + tail


def _survey_blocks(report: DigestReport, s: SurveySection) -> list[dict[str, Any]]:
    blocks = [{"type": "divider"}, _section("\n".join(headline_lines(report, s, mrkdwn=True)))]
    for breakdown in s.breakdowns:
        lines = [texts.escape(group_text(s.metric, g)) for g in breakdown.lines]
        blocks.append(_section(_list_text(texts.breakdown_heading(breakdown.path), lines)))
    if s.comments:
        lines = [texts.escape(comment_text(c)) for c in s.comments]
        hidden = s.comments_total - len(s.comments)
        heading = texts.comments_heading(s.comments_total)
        blocks.append(_section(_list_text(heading, lines, hidden=hidden)))
    if s.themes:
        lines = [texts.escape(theme_text(t)) for t in s.themes]
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


def render_fallback_text(report: DigestReport) -> str:
    """One line for notifications: each survey's metric and n, escaped for mrkdwn."""
    parts = []
    for s in report.sections:
        e = s.estimate
        shown = texts.metric_value(s.metric, e.value) if e else texts.no_responses()
        parts.append(f"{texts.survey_heading(s.survey, s.metric)} {shown}")
    return texts.escape(texts.fallback_text(report.heading, parts))
