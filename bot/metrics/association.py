"""Whether two shares differ by more than noise: the outcome rate of one band against another.

- The pooled two-proportion z-test, two-sided, when every expected cell of the 2x2 table is at
  least 5 (its normal approximation holds there).
- Fisher's exact test otherwise: the two-sided p-value sums the hypergeometric probabilities of
  every table with the same margins that is at most as likely as the one observed (computed
  with log-gamma, so large margins do not overflow).
"Beyond noise" when p < 0.05. Nothing here is causal: the wording says "as often as".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from bot.metrics.statistics import ALPHA

MIN_EXPECTED = 5.0
_RELATIVE = 1 + 1e-7  # ties in probability, up to floating-point noise


@dataclass(frozen=True)
class Difference:
    """The test of `a/n_a` against `b/n_b`: which test, its two-sided p-value, the verdict."""

    test: Literal["z", "fisher"]
    p_value: float
    beyond_noise: bool


def compare_shares(a: int, n_a: int, b: int, n_b: int) -> Difference | None:
    """Two-proportion z-test, or Fisher's exact test when an expected cell is below 5; None
    when a group is empty."""
    if n_a <= 0 or n_b <= 0:
        return None
    if not (0 <= a <= n_a and 0 <= b <= n_b):
        raise ValueError(f"counts out of range: {a} of {n_a}, {b} of {n_b}")
    if min(expected_cells(a, n_a, b, n_b)) < MIN_EXPECTED:
        p = fisher_exact(a, n_a - a, b, n_b - b)
        return Difference("fisher", p, p < ALPHA)
    p = z_test(a, n_a, b, n_b)
    return Difference("z", p, p < ALPHA)


def expected_cells(a: int, n_a: int, b: int, n_b: int) -> list[float]:
    n = n_a + n_b
    yes, no = a + b, n - a - b
    return [n_a * yes / n, n_a * no / n, n_b * yes / n, n_b * no / n]


def z_test(a: int, n_a: int, b: int, n_b: int) -> float:
    """Two-sided p-value of the pooled two-proportion z-test; 1 when nothing varies."""
    pooled = (a + b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        return 1.0
    z = (a / n_a - b / n_b) / se
    return math.erfc(abs(z) / math.sqrt(2))


def fisher_exact(a: int, b: int, c: int, d: int) -> float:
    """Two-sided p-value of Fisher's exact test for the table [[a, b], [c, d]]."""
    row1, col1, n = a + b, a + c, a + b + c + d
    low, high = max(0, col1 - (c + d)), min(row1, col1)
    observed = _log_hypergeometric(a, row1, col1, n)
    total = 0.0
    for x in range(low, high + 1):
        log_p = _log_hypergeometric(x, row1, col1, n)
        if log_p <= observed + math.log(_RELATIVE):
            total += math.exp(log_p)
    return min(1.0, total)


def _log_hypergeometric(x: int, row1: int, col1: int, n: int) -> float:
    """log P(X = x): x of the `col1` successes fall in the first row of `row1` out of `n`."""
    return _log_comb(row1, x) + _log_comb(n - row1, col1 - x) - _log_comb(n, col1)


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
