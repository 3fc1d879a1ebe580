"""Every word a digest shows, in Slack and on the terminal; one place to reword or translate.

Functions take plain values and return plain strings; `mrkdwn` escaping is the caller's job
(`escape`), so the same texts serve Block Kit and `surveybot digest NAME --print`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.texts.times import when

METRIC_NAMES = {"csat": "CSAT", "ces": "CES", "nps": "NPS"}
NO_GROUP = "(not set)"


def escape(text: str) -> str:
    """Slack mrkdwn needs only these three escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def digest_title(name: str) -> str:
    return f"Survey digest: {name}"


def window_line(start: datetime, end: datetime, timezone: str) -> str:
    last = end - timedelta(microseconds=1)
    return f"{when(start)} to {when(last)} ({timezone})"


def survey_heading(name: str, metric: str) -> str:
    return f"{name} ({METRIC_NAMES[metric]})"


def metric_value(metric: str, value: float) -> str:
    """CSAT and CES are shares (`80.0%`); NPS is a signed score (`+30.0`)."""
    return f"{value:+.1f}" if metric == "nps" else f"{value:.1f}%"


def interval(metric: str, low: float, high: float) -> str:
    return f"95% interval {metric_value(metric, low)} to {metric_value(metric, high)}"


def sample_size(n: int) -> str:
    return f"n={n}"


def small_sample(min_sample: int) -> str:
    return f"small sample (fewer than {min_sample} responses): read with care"


def no_responses() -> str:
    return "no responses in this window"


def change(metric: str, delta: float, significant: bool, window: str) -> str:
    unit = "points"
    arrow = "up" if delta > 0 else "down" if delta < 0 else "unchanged"
    verdict = "more than noise" if significant else "within noise"
    if arrow == "unchanged":
        return f"unchanged vs the previous {window} ({verdict})"
    return f"{arrow} {abs(delta):.1f} {unit} vs the previous {window} ({verdict}, 5% test)"


def no_previous(window: str) -> str:
    return f"no responses in the previous {window} to compare with"


def ces_mean(mean: float) -> str:
    return f"mean score {mean:.2f} of 7"


def response_rate(rate: float | None, responded: int, left: int) -> str:
    if rate is None:
        return "response rate: no surveys sent"
    return f"response rate {rate:.1f}% ({responded} of {left} surveys sent)"


Rate = tuple[float | None, tuple[float, float] | None, int, int]  # rate, interval, answered, asked


def reminder_rates(first: Rate, reminders: Rate) -> str:
    """`first asks 40.0% (95% interval ..., 40 of 100); reminders 20.0% (..., 12 of 60)`."""
    return f"answered: first asks {_rate(first, 'first asks')}; reminders {_rate(reminders, 'reminders')}"


def _rate(rate: Rate, what: str) -> str:
    value, interval, answered, asked = rate
    if value is None or interval is None:
        return "none sent"
    low, high = interval
    return f"{value:.1f}% (95% interval {low:.1f}% to {high:.1f}%, {answered} of {asked} {what})"


def holds(parts: list[tuple[str, int]]) -> str:
    if not parts:
        return "held back: none"
    return "held back: " + ", ".join(f"{reason.replace('_', ' ')} {count}" for reason, count in parts)


def breakdown_heading(path: str) -> str:
    return f"By {path.removeprefix('properties.')}"


def group_line(value: str | None, metric_text: str, n: int, small: bool) -> str:
    flag = " (small sample)" if small else ""
    return f"{value if value is not None else NO_GROUP}: {metric_text}, {sample_size(n)}{flag}"


def comments_heading(total: int) -> str:
    return f"Latest low-score comments ({total} in this window)"


def comment_line(score: int, text: str, channel: str, at: datetime) -> str:
    one_line = " ".join(text.split())
    return f"{score}: \u201c{one_line}\u201d ({channel}, {at:%d %b %H:%M})"


def themes_heading() -> str:
    return "Themes in low-score comments"


def theme_line(theme: str, count: int, share: float | None, low_total: int) -> str:
    if share is None:
        return f"{theme}: {count}"
    return f"{theme}: {count} ({share:.0f}% of {low_total} low scores)"


def and_more(count: int) -> str:
    return f"and {count} more"


def more_surveys(count: int) -> str:
    return f"and {count} more surveys; see `surveybot stats`"


def alerts_line(posted: int, claimed: int, resolved: int, median: timedelta | None) -> str:
    speed = f", median time to claim {duration(median)}" if median is not None else ""
    return f"Alerts: {posted} posted, {claimed} claimed, {resolved} resolved{speed}"


def duration(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m"]
    return " ".join(p for p in parts if p) if (days or hours) else f"{minutes}m"


def chart_title(survey: str, metric: str) -> str:
    return f"{survey}: {METRIC_NAMES[metric]} per day, with its 95% interval"


def window_name(window: timedelta) -> str:
    """`7 days`, `24 hours`, `1 day`: how a window reads in "vs the previous ..."."""
    seconds = int(window.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


CHART_AXES = {
    "csat": "CSAT: % of scores 4-5",
    "ces": "CES: % of scores 5-7",
    "nps": "NPS: % promoters (9-10) minus % detractors (0-6)",
}


def chart_axis(metric: str) -> str:
    return CHART_AXES[metric]


def chart_partial_day() -> str:
    return "so far"


def chart_small_sample(min_sample: int) -> str:
    return f"fewer than {min_sample} responses"


def chart_comment(name: str) -> str:
    return f"Trend for {name}"


def fallback_text(heading: str, headline: list[str]) -> str:
    """The notification text Slack shows where blocks cannot be."""
    return f"{heading}: " + "; ".join(headline)


# --- alerts ----------------------------------------------------------------------------------


def alert_title(survey: str, metric: str, score: int, high: int) -> str:
    return f"Low score: {score} of {high} on {survey} ({METRIC_NAMES[metric]})"


def alert_comment(comment: str | None) -> str:
    return f"\u201c{' '.join(comment.split())}\u201d" if comment and comment.strip() else "(no comment)"


def alert_contact(name: str | None, contact_id: str, channel: str, event_type: str | None) -> str:
    who = f"{name} ({contact_id})" if name else contact_id
    after = f", after {event_type}" if event_type else ""
    return f"Contact: {who}, answered by {channel}{after}"


def alert_properties(properties: dict[str, object]) -> str:
    if not properties:
        return "No event properties"
    return " · ".join(f"{key}: {value}" for key, value in sorted(properties.items()))


def alert_claimed(user_mention: str, at: datetime) -> str:
    return f"{user_mention} is following up (since {at:%d %b %H:%M} UTC)"


def alert_resolved(user_mention: str, at: datetime) -> str:
    return f"Resolved by {user_mention} on {at:%d %b %H:%M} UTC"


CLAIM_BUTTON = "I'll follow up"
RESOLVE_BUTTON = "Resolved"


# --- /surveybot ------------------------------------------------------------------------------


def stats_usage() -> str:
    return "Usage: `/surveybot stats [survey] [7d]`: the current numbers of one survey or all, over a window"


def unknown_survey(name: str, known: list[str]) -> str:
    return f"No survey named `{name}`. Known: {', '.join(f'`{k}`' for k in known) or 'none'}"


def stats_title(window: str) -> str:
    return f"Survey numbers, last {window}"
