"""The CX index on a worked example computed by hand, and what it does without a part."""

from __future__ import annotations

import pytest

from bot.metrics.cx_index import PartCounts, cx_index

WEIGHTS = {"support_csat": 0.4, "onboarding_ces": 0.2, "delivery_nps": 0.4}
COUNTS = {
    "support_csat": PartCounts("csat", n=100, top=80),  # 80 of 100 at 4-5: 80.0
    "onboarding_ces": PartCounts("ces", n=50, top=30),  # 30 of 50 at 5-7: 60.0
    "delivery_nps": PartCounts("nps", n=100, top=50, bottom=20),  # NPS +30 -> (30 + 100) / 2 = 65.0
}


def test_the_worked_example() -> None:
    """By hand, z = 1.96, z² = 3.8415:
    CSAT  p~ = (80 + 1.9207) / 103.8415 = 0.78890, SE = 100·√(0.78890·0.21110 / 103.8415) = 4.0047
    CES   p~ = (30 + 1.9207) / 53.8415 = 0.59287,  SE = 100·√(0.59287·0.40713 / 53.8415) = 6.6956
    NPS   SE = 100·√((0.5 + 0.2 - 0.3²) / 100) = 7.8102 NPS points, halved on 0-100: 3.9051
    index = 0.4·80 + 0.2·60 + 0.4·65 = 70.0
    SE    = √((0.4·4.0047)² + (0.2·6.6956)² + (0.4·3.9051)²) = √(2.5660 + 1.7933 + 2.4400) = 2.6075
    95%   = 70.0 ± 1.96·2.6075 = 64.889 to 75.111"""
    index = cx_index(WEIGHTS, COUNTS, min_sample=30)
    assert index.value == pytest.approx(70.0)
    assert index.low == pytest.approx(64.889, abs=1e-3)
    assert index.high == pytest.approx(75.111, abs=1e-3)
    assert [(p.survey, p.value, p.n) for p in index.parts] == [
        ("support_csat", pytest.approx(80.0), 100),
        ("onboarding_ces", pytest.approx(60.0), 50),
        ("delivery_nps", pytest.approx(65.0), 100),
    ]
    assert [round(p.standard_error or 0, 4) for p in index.parts] == [4.0047, 6.6956, 3.9051]
    assert not index.small and index.missing == []


def test_a_part_without_answers_leaves_the_period_without_an_index() -> None:
    index = cx_index(WEIGHTS, {k: v for k, v in COUNTS.items() if k != "onboarding_ces"}, min_sample=30)
    assert (index.value, index.low, index.high) == (None, None, None)
    assert index.missing == ["onboarding_ces"]
    assert [p.value for p in index.parts] == [pytest.approx(80.0), None, pytest.approx(65.0)]


def test_one_small_part_flags_the_index_and_unanimous_answers_still_have_an_interval() -> None:
    counts = {**COUNTS, "support_csat": PartCounts("csat", n=5, top=5)}
    index = cx_index(WEIGHTS, counts, min_sample=30)
    assert index.small
    assert index.parts[0].value == 100.0 and (index.parts[0].standard_error or 0) > 5  # not 0: Agresti-Coull
    assert index.low is not None and index.high is not None and index.low < index.value < index.high <= 100
