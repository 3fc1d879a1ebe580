"""The statistics behind every number a digest shows, checked against independent computations."""

from __future__ import annotations

import statistics

import pytest

from bot.metrics.statistics import (
    is_small_sample,
    nps_change,
    nps_estimate,
    share_change,
    share_estimate,
    wilson_interval,
)

NORMAL = statistics.NormalDist()
Z = NORMAL.inv_cdf(0.975)


def score_test_bound(successes: int, n: int, upper: bool) -> float:
    """The Wilson bound found by bisection: the p where |p_hat - p| = z * sqrt(p(1-p)/n)."""
    p_hat = successes / n
    lo, hi = (p_hat, 1.0) if upper else (0.0, p_hat)
    for _ in range(200):
        mid = (lo + hi) / 2
        outside = abs(p_hat - mid) > Z * (mid * (1 - mid) / n) ** 0.5
        if outside == upper:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


def test_worked_checks_from_the_spec() -> None:
    csat = share_estimate(80, 100)
    ces = share_estimate(60, 100)
    nps = nps_estimate(50, 30, 20)
    assert csat is not None and ces is not None and nps is not None
    assert csat.value == pytest.approx(80.0)
    assert ces.value == pytest.approx(60.0)
    assert nps.value == pytest.approx(30.0)


@pytest.mark.parametrize(("successes", "n"), [(80, 100), (60, 100), (1, 7), (29, 30), (500, 1000)])
def test_wilson_interval_matches_the_inverted_score_test(successes: int, n: int) -> None:
    low, high = wilson_interval(successes, n)
    assert low == pytest.approx(score_test_bound(successes, n, upper=False), abs=1e-9)
    assert high == pytest.approx(score_test_bound(successes, n, upper=True), abs=1e-9)


def test_wilson_interval_of_80_in_100_is_the_published_one() -> None:
    # Newcombe (1998) style worked value, to four decimals: 0.7112 - 0.8666
    low, high = wilson_interval(80, 100)
    assert (round(low, 4), round(high, 4)) == (0.7112, 0.8666)


def test_wilson_interval_at_the_edges_stays_inside_zero_and_one() -> None:
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_nps_interval_uses_the_standard_error_of_the_per_response_scores() -> None:
    scores = [100] * 50 + [0] * 30 + [-100] * 20
    se = (statistics.pvariance(scores) / len(scores)) ** 0.5
    nps = nps_estimate(50, 30, 20)
    assert nps is not None
    assert nps.low == pytest.approx(30 - Z * se)
    assert nps.high == pytest.approx(30 + Z * se)
    assert (round(nps.low, 2), round(nps.high, 2)) == (14.69, 45.31)


def test_nps_interval_is_clipped_to_its_scale() -> None:
    nps = nps_estimate(3, 0, 1)
    assert nps is not None and nps.high == 100.0 and nps.low > -100.0
    assert nps_estimate(0, 0, 0) is None


def test_small_sample_flag_follows_min_sample() -> None:
    assert is_small_sample(29) and not is_small_sample(30)
    assert is_small_sample(49, min_sample=50)
    estimate = share_estimate(5, 10, min_sample=10)
    assert estimate is not None and not estimate.small
    assert share_estimate(0, 0) is None


def pooled_z(s1: int, n1: int, s0: int, n0: int) -> float:
    pooled = (s1 + s0) / (n1 + n0)
    return (s1 / n1 - s0 / n0) / (pooled * (1 - pooled) * (1 / n1 + 1 / n0)) ** 0.5


@pytest.mark.parametrize(
    ("current", "previous", "significant"),
    [((80, 100), (70, 100), False), ((80, 100), (60, 100), True), ((30, 40), (25, 40), False)],
)
def test_share_change_is_the_pooled_two_proportion_z_test(
    current: tuple[int, int], previous: tuple[int, int], significant: bool
) -> None:
    change = share_change(*current, *previous)
    z = pooled_z(*current, *previous)
    assert change is not None
    assert change.delta == pytest.approx(100 * (current[0] / current[1] - previous[0] / previous[1]))
    assert change.z == pytest.approx(z)
    assert change.p_value == pytest.approx(2 * (1 - NORMAL.cdf(abs(z))))
    assert change.significant is significant


def test_share_change_needs_both_windows() -> None:
    assert share_change(5, 10, 0, 0) is None


def test_nps_change_is_a_difference_of_means_test() -> None:
    now = [100] * 60 + [0] * 25 + [-100] * 15
    before = [100] * 40 + [0] * 30 + [-100] * 30
    se = (statistics.pvariance(now) / 100 + statistics.pvariance(before) / 100) ** 0.5
    z = (statistics.fmean(now) - statistics.fmean(before)) / se
    change = nps_change((60, 25, 15), (40, 30, 30))
    assert change is not None
    assert change.delta == pytest.approx(35.0)
    assert change.z == pytest.approx(z)
    assert change.significant
    small = nps_change((6, 2, 2), (5, 3, 2))
    assert small is not None and not small.significant


def test_nps_change_without_spread_uses_the_pooled_variance() -> None:
    one_each = nps_change((1, 0, 0), (0, 0, 1))
    assert one_each is not None and not one_each.significant
    many_each = nps_change((50, 0, 0), (0, 0, 50))
    assert many_each is not None and many_each.significant
    unchanged = nps_change((10, 0, 0), (20, 0, 0))
    assert unchanged is not None and unchanged.delta == 0 and not unchanged.significant
