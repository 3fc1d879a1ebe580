"""`journey:` and `index:` in the config: every problem listed in one pass, by its path."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.main import cli
from bot.config import load_config, parse_config
from bot.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]

SURVEYS = """
surveys:
  checkout_csat: {metric: csat, question: {sms: "Rate the checkout 1-5"}}
  support_csat: {metric: csat, question: {sms: "Rate us 1-5"}}
  delivery_nps: {metric: nps, question: {sms: "Recommend us 0-10?"}}
"""

BAD = (
    SURVEYS
    + """
journey:
  - {stage: buy, surveys: [checkout_csat, chekout_nps]}
  - {stage: support, surveys: [support_csat]}
  - {stage: buy, surveys: [support_csat]}
index:
  weights: {support_csat: 0.5, delivery_nps: 0.6, checkout_csat: -0.1, ghost: 0}
"""
)


def test_each_journey_and_index_problem_is_named_by_its_path() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(BAD, environ={})
    assert caught.value.problems == [
        "journey[0].surveys[1]: 'chekout_nps' is not a survey "
        "(known: checkout_csat, delivery_nps, support_csat)",
        "journey[2].stage: 'buy' is used by another stage; names are unique",
        "journey[2].surveys[0]: 'support_csat' is already in stage 'support'; a survey belongs to one stage",
        "index.weights.delivery_nps: 'delivery_nps' is in no journey stage; add it to one so the index is "
        "shown beside its parts",
        "index.weights.checkout_csat: -0.1 is not a weight: give a number above 0, such as 0.25",
        "index.weights.ghost: 'ghost' is not a survey (known: checkout_csat, delivery_nps, support_csat)",
        "index.weights.ghost: 0 is not a weight: give a number above 0, such as 0.25",
    ]  # 0.5 + 0.6 - 0.1 + 0 is 1: the sum is not a problem here


def test_weights_that_miss_1_by_more_than_a_rounding_are_refused() -> None:
    journey = "\njourney:\n  - {stage: buy, surveys: [checkout_csat, support_csat]}\n"
    ok = parse_config(f"{SURVEYS}{journey}index: {{weights: {{checkout_csat: 0.7, support_csat: 0.3}}}}")
    assert ok.index is not None and ok.index.weights == {"checkout_csat": 0.7, "support_csat": 0.3}
    with pytest.raises(ConfigError) as caught:
        parse_config(f"{SURVEYS}{journey}index: {{weights: {{checkout_csat: 0.7, support_csat: 0.31}}}}")
    assert caught.value.problems == [
        "index.weights: the weights sum to 1.01; they must sum to 1 (such as 0.4 + 0.6)"
    ]


def test_shape_problems_come_in_the_same_pass_as_the_others(tmp_path: Path) -> None:
    text = (
        SURVEYS
        + """
journey:
  - {stage: buy, surveys: []}
  - {stage: "after sale", surveys: [nope]}
index: {weights: {support_csat: lots}}
triggers:
  - {name: t1, on: order.paid, survey: missing, channels: [sms]}
"""
    )
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = CliRunner().invoke(cli, ["check-config", "--config", str(path)])
    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert "journey[0].surveys:" in output
    assert "journey[1].stage:" in output
    assert "index.weights.support_csat:" in output
    assert "triggers[0].survey: 'missing' is not a survey" in output


def test_the_shipped_config_has_a_journey_and_an_index_of_its_surveys() -> None:
    config = load_config(ROOT / "config.yaml", environ={})
    assert [(s.stage, s.surveys) for s in config.journey] == [
        ("onboard", ["onboarding_ces"]),
        ("support", ["support_csat"]),
        ("loyalty", ["delivery_nps"]),
    ]
    assert config.index is not None
    assert config.index.weights == {"support_csat": 0.4, "onboarding_ces": 0.2, "delivery_nps": 0.4}
