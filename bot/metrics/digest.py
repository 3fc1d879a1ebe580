"""What a digest says (`DigestReport`): the one report that Slack, the terminal and the dashboard read.

The report holds values only; `build_digest_report` in `bot.metrics.report` fills it from storage.
The line builders below are the wording every view shares (Slack's mrkdwn or plain text); each
view lays the lines out in its own way (`bot.slack.digest_blocks`, `bot.cli.digest_text`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.metrics.reminders import ReminderRates
from bot.metrics.statistics import Change, Estimate
from bot.texts import digest as texts
from bot.texts import outcomes as outcome_texts

if TYPE_CHECKING:
    from bot.metrics.outcomes import OutcomeSection

MAX_LIST_LINES = 15  # a list longer than this is cut, even when it would fit


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
    # first asks and reminders apart; None when the survey has no reminder and sent none
    reminders: ReminderRates | None = None
    # outcome contrasts by score band (bot.metrics.outcomes); empty without `outcomes:`
    outcomes: list[OutcomeSection] = field(default_factory=list)

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


# --- the lines every view shares --------------------------------------------------------------------------


def headline_lines(report: DigestReport, s: SurveySection, mrkdwn: bool) -> list[str]:
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
    if s.reminders is not None:
        lines.append(reminder_rates_text(s.reminders))
    lines.append(texts.holds(s.holds))
    lines.extend(outcome_lines(s))
    return lines


def outcome_lines(s: SurveySection) -> list[str]:
    """One line per outcome whose lowest and highest bands both have answers."""
    lines = []
    for o in s.outcomes:
        c = o.contrast
        if c is None or c.low.rate is None or c.high.rate is None:
            continue
        line = outcome_texts.contrast_line(
            o.metric, o.outcome, o.within, (c.low.rate, c.high.rate), (c.low.n, c.high.n), c.ratio,
            c.difference.beyond_noise,
        )  # fmt: skip
        lines.append(line + (f" ({outcome_texts.small_contrast_short()})" if c.small else ""))
    return lines


def reminder_rates_text(r: ReminderRates) -> str:
    first, again = r.first_asks, r.reminders
    return texts.reminder_rates(
        (first.rate, first.interval, first.responded, first.asked),
        (again.rate, again.interval, again.responded, again.asked),
    )


def group_text(metric: str, g: GroupLine) -> str:
    value = texts.metric_value(metric, g.estimate.value)
    return texts.group_line(g.value, value, g.estimate.n, g.estimate.small)


def comment_text(c: CommentLine) -> str:
    return texts.comment_line(c.score, c.text, c.channel, c.received_at)


def theme_text(t: ThemeLine) -> str:
    return texts.theme_line(t.theme, t.count, t.share, t.low_total)


def alerts_text(a: AlertSummary | None) -> str:
    assert a is not None
    return texts.alerts_line(a.posted, a.claimed, a.resolved, a.median_time_to_claim)
