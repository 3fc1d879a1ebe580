"""Pure statistics for the metrics of SPEC §2: intervals, change tests, the small-sample flag.

Every figure is on the scale people read: percentages 0-100 for CSAT and CES, -100..100 for NPS.
Nothing here touches storage; it works on counts that the SQL aggregates hand over.

- A share (CSAT, CES) gets the 95% Wilson score interval.
- NPS is the mean of per-response scores +100 (promoter), 0 (passive), -100 (detractor); its
  interval is NPS ± 1.96 standard errors, the standard error from the multinomial variance
  `(p + d - (p - d)^2) / n` (scaled by 100), clipped to -100..100.
- A change between two windows is "more than noise" when a two-sided test rejects "no change"
  at 5%: the pooled two-proportion z-test for shares; for NPS a difference-of-means z-test with
  the two standard errors (pooled under "no change" when both windows have no spread at all).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054  # the 97.5% quantile of the standard normal distribution
ALPHA = 0.05
DEFAULT_MIN_SAMPLE = 30


@dataclass(frozen=True)
class Estimate:
    """A metric value with its 95% interval, from `n` responses; `small` when n < min_sample."""

    value: float
    low: float
    high: float
    n: int
    small: bool


@dataclass(frozen=True)
class Change:
    """`current - previous` in metric points, and whether a 5% two-sided test calls it real."""

    delta: float
    z: float
    p_value: float
    significant: bool


def is_small_sample(n: int, min_sample: int = DEFAULT_MIN_SAMPLE) -> bool:
    """True when fewer than `min_sample` responses back a number (config `metrics.min_sample`)."""
    return n < min_sample


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of `successes / n` as proportions 0..1; (0, 1) when n is 0."""
    _check_counts(successes, n)
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    spread = z * z / n
    centre = (p + spread / 2) / (1 + spread)
    half = z / (1 + spread) * math.sqrt(p * (1 - p) / n + spread / (4 * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def share_estimate(successes: int, n: int, min_sample: int = DEFAULT_MIN_SAMPLE) -> Estimate | None:
    """CSAT or CES as a percentage with its Wilson interval; None when there is no response."""
    if n == 0:
        return None
    low, high = wilson_interval(successes, n)
    return Estimate(100 * successes / n, 100 * low, 100 * high, n, is_small_sample(n, min_sample))


def nps_value(promoters: int, passives: int, detractors: int) -> float:
    """% promoters - % detractors; raises ValueError when there is no response."""
    n = promoters + passives + detractors
    if n == 0:
        raise ValueError("NPS of no responses is undefined")
    return 100 * (promoters - detractors) / n


def nps_standard_error(promoters: int, passives: int, detractors: int) -> float:
    """The standard error of NPS (in NPS points) from the multinomial variance."""
    n = promoters + passives + detractors
    if n == 0:
        raise ValueError("NPS of no responses is undefined")
    p, d = promoters / n, detractors / n
    variance = max(0.0, p + d - (p - d) ** 2)
    return 100 * math.sqrt(variance / n)


def nps_estimate(
    promoters: int, passives: int, detractors: int, min_sample: int = DEFAULT_MIN_SAMPLE
) -> Estimate | None:
    """NPS with its standard-error 95% interval clipped to -100..100; None when n is 0."""
    n = promoters + passives + detractors
    if n == 0:
        return None
    value = nps_value(promoters, passives, detractors)
    half = Z95 * nps_standard_error(promoters, passives, detractors)
    return Estimate(value, max(-100.0, value - half), min(100.0, value + half), n, n < min_sample)


def share_change(
    current_successes: int, current_n: int, previous_successes: int, previous_n: int
) -> Change | None:
    """Pooled two-proportion z-test of the change in a share; None when a window is empty."""
    _check_counts(current_successes, current_n)
    _check_counts(previous_successes, previous_n)
    if current_n == 0 or previous_n == 0:
        return None
    p1, p0 = current_successes / current_n, previous_successes / previous_n
    pooled = (current_successes + previous_successes) / (current_n + previous_n)
    se = math.sqrt(pooled * (1 - pooled) * (1 / current_n + 1 / previous_n))
    return _change(100 * (p1 - p0), 100 * se)


def nps_change(current: tuple[int, int, int], previous: tuple[int, int, int]) -> Change | None:
    """Difference-of-means z-test of the change in NPS; counts: (promoters, passives, detractors).

    Uses the two windows' standard errors; when both are zero (every response alike in each
    window) it falls back to the variance pooled under "no change", so one promoter against one
    detractor is not called significant. None when a window is empty.
    """
    if sum(current) == 0 or sum(previous) == 0:
        return None
    delta = nps_value(*current) - nps_value(*previous)
    se = math.hypot(nps_standard_error(*current), nps_standard_error(*previous))
    if se == 0:
        pooled = tuple(a + b for a, b in zip(current, previous, strict=True))
        n1, n0 = sum(current), sum(previous)
        se = nps_standard_error(*pooled) * math.sqrt(sum(pooled) * (1 / n1 + 1 / n0))
    return _change(delta, se)


def _change(delta: float, se: float) -> Change:
    if se == 0:
        # No spread anywhere and the same value in both windows: nothing moved.
        return Change(delta, 0.0, 1.0, False)
    z = delta / se
    p_value = math.erfc(abs(z) / math.sqrt(2))
    return Change(delta, z, p_value, p_value < ALPHA)


def _check_counts(successes: int, n: int) -> None:
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"counts out of range: {successes} of {n}")
