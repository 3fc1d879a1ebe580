"""A digest as plain text on a terminal, for `surveybot digest NAME --print`."""

from __future__ import annotations

from bot.metrics.digest import (
    MAX_LIST_LINES,
    DigestReport,
    alerts_text,
    comment_text,
    group_text,
    headline_lines,
    theme_text,
)
from bot.texts import digest as texts


def render_digest_text(report: DigestReport, list_lines: int = MAX_LIST_LINES) -> str:
    """The digest as plain text for `surveybot digest NAME --print`."""
    out = [
        report.heading,
        texts.window_line(report.start, report.end, report.timezone),
    ]
    for s in report.sections:
        out += ["", *headline_lines(report, s, mrkdwn=False)]
        for b in s.breakdowns:
            out += _text_list(
                texts.breakdown_heading(b.path),
                [group_text(s.metric, g) for g in b.lines],
                list_lines,
            )
        if s.comments:
            hidden = s.comments_total - len(s.comments)
            lines = [comment_text(c) for c in s.comments]
            out += _text_list(texts.comments_heading(s.comments_total), lines, list_lines, hidden)
        if s.themes:
            out += _text_list(texts.themes_heading(), [theme_text(t) for t in s.themes], list_lines)
    if report.alerts:
        out += ["", alerts_text(report.alerts)]
    return "\n".join(out) + "\n"


def _text_list(heading: str, lines: list[str], limit: int, hidden: int = 0) -> list[str]:
    hidden += max(0, len(lines) - limit)
    more = [f"  {texts.and_more(hidden)}"] if hidden > 0 else []
    return [f"  {heading}:", *[f"  - {line}" for line in lines[:limit]], *more]
