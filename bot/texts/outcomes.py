"""Every word the outcome views show (`stats --outcomes`, the digest line, /dashboard/outcomes).

Worded as an association: "had churn 3.1x as often as", never "because of".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.texts.digest import window_name
from bot.texts.times import when

BAND_NAMES = {
    "csat": {"low": "dissatisfied", "middle": "neutral", "high": "satisfied"},
    "ces": {"low": "high effort", "middle": "neutral", "high": "low effort"},
    "nps": {"low": "detractors", "middle": "passives", "high": "promoters"},
}
NO_ANSWER = "no answer"
TIMES = "\u00d7"  # the multiplication sign of "3.1x as often"
HEADING = "Outcomes by score band"
CHURN_HEADING = "Churn per period"


def band_name(metric: str, band: str) -> str:
    return NO_ANSWER if band == "no_answer" else BAND_NAMES[metric][band]


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def percent_interval(interval: tuple[float, float] | None) -> str:
    return "-" if interval is None else f"{interval[0]:.1f}% to {interval[1]:.1f}%"


def verdict(beyond_noise: bool) -> str:
    return "beyond noise" if beyond_noise else "within noise"


def contrast_line(
    metric: str, outcome: str, within: timedelta, rates: tuple[float, float], ns: tuple[int, int],
    ratio: float | None, beyond_noise: bool,
) -> str:  # fmt: skip
    """For example "detractors had churn within 90 days 3.1\u00d7 as often as promoters: 31% vs
    10%, n 412 / 388, beyond noise"."""
    low, high = BAND_NAMES[metric]["low"], BAND_NAMES[metric]["high"]
    how = f"{ratio:.1f}{TIMES} as often as {high}" if ratio is not None else f"while no {high} did"
    return (
        f"{low} had {outcome} within {window_name(within)} {how}: {percent(rates[0])} vs "
        f"{percent(rates[1])}, n {ns[0]} / {ns[1]}, {verdict(beyond_noise)}"
    )


def small_contrast(min_sample: int) -> str:
    return f"a band has fewer than {min_sample} responses: read with care"


def small_contrast_short() -> str:
    return "small sample"


def section_heading(survey: str, outcome: str, on: str, within: timedelta) -> str:
    return f"{survey}: {outcome} ({on} within {window_name(within)} of the answer)"


def response_rate_line(rate: float | None, answered: int, asked: int) -> str:
    if rate is None:
        return "response rate: no sends followed yet"
    return f"response rate {rate:.1f}% ({answered} of {asked} followed sends answered)"


def cohort_line(start: datetime, end: datetime) -> str:
    return (
        f"answers from {when(start)} to {when(end)} whose whole follow-up window has passed; "
        "an association, not a cause"
    )


def no_outcomes() -> str:
    return "no outcomes configured: add an `outcomes:` section (see docs/outcomes.md)"


def no_churn() -> str:
    return "no churn outcome configured: add outcomes.churn (see docs/outcomes.md)"


def churn_rate(lost: int, customers: int) -> str:
    return "-" if customers == 0 else f"{100 * lost / customers:.1f}%"


def period_label(start: datetime, period: str) -> str:
    if period == "quarter":
        return f"{start.year} Q{(start.month - 1) // 3 + 1}"
    if period == "week":
        return f"week of {start:%Y-%m-%d}"
    return f"{start:%Y-%m}"
