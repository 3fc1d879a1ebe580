"""The test of lowest band against highest: z-test for large cells, Fisher's exact test for
small ones, with p-values checked against published values (R's fisher.test, prop.test)."""

from __future__ import annotations

import pytest

from bot.metrics.association import compare_shares, fisher_exact, z_test


@pytest.mark.parametrize(
    ("table", "p"),
    [
        ((3, 1, 1, 3), 0.4857142857),  # Fisher's tea-tasting lady
        ((1, 9, 11, 3), 0.002759456),
        ((10, 0, 0, 10), 1.082509e-05),
        ((0, 5, 0, 5), 1.0),
    ],
)
def test_fisher_exact_two_sided_p_values(table: tuple[int, int, int, int], p: float) -> None:
    assert fisher_exact(*table) == pytest.approx(p, rel=1e-6)


def test_the_z_test_matches_the_pooled_two_proportion_test() -> None:
    # 31% of 412 against 10% of 388: z = 7.36
    assert z_test(128, 412, 39, 388) == pytest.approx(1.8e-13, rel=0.2)
    assert z_test(50, 100, 50, 100) == pytest.approx(1.0)


def test_small_expected_cells_take_fishers_test_and_large_ones_the_z_test() -> None:
    small = compare_shares(3, 10, 0, 12)
    assert small is not None and small.test == "fisher" and not small.beyond_noise
    large = compare_shares(128, 412, 39, 388)
    assert large is not None and large.test == "z" and large.beyond_noise
    assert compare_shares(0, 0, 3, 10) is None, "an empty band has nothing to compare"
    with pytest.raises(ValueError, match="out of range"):
        compare_shares(11, 10, 3, 10)


def test_outcomes_are_checked_in_one_pass_with_the_rest_of_the_config() -> None:
    from bot.config import parse_config
    from bot.errors import ConfigError

    text = """
outcomes:
  churn: {on: 'not a type', within: soon}
  repeat: {on: order.placed, within: 60d, base: [checkout.completed]}
  "bad name": {on: x, within: 1d}
metrics: {min_sample: 0}
"""
    with pytest.raises(ConfigError) as raised:
        parse_config(text)
    problems = raised.value.problems
    assert "outcomes.churn.on: 'not a type' is not an event type like subscription.cancelled" in problems
    assert any(p.startswith("outcomes.churn.within: 'soon' is not a duration like 10m") for p in problems)
    assert any(p.startswith("metrics.min_sample:") for p in problems), "listed in the same pass"
    config = parse_config(
        "outcomes:\n  churn: {on: subscription.cancelled, within: 90d, base: trial.converted}\n"
    )
    assert config.outcomes["churn"].follow_up("churn").base == ("trial.converted",)
    with pytest.raises(ConfigError) as raised:
        parse_config(
            text.replace("'not a type'", "subscription.cancelled")
            .replace("soon", "90d")
            .replace("metrics: {min_sample: 0}", "")
        )
    assert raised.value.problems == [
        "outcomes.bad name: 'bad name' is not a name like churn (letters, digits and _ . - only)",
        "outcomes.repeat.base: is read only for churn (who counts as a customer); remove it here",
    ]
