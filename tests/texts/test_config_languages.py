"""`translations:` and `brand:` in the config: what check-config accepts and refuses, in one pass."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.main import cli
from bot.config import parse_config
from bot.errors import ConfigError
from bot.texts.brand import contrast_ratio

GOOD = """
surveys:
  s1:
    metric: csat
    locale: en
    question:
      sms: "Rate us 1-5, {{ contact.name }}"
      email: {subject: "How did we do?", body: "Rate us"}
    follow_up: "Why?"
    translations:
      fr: {sms: "Notez-nous de 1 à 5", follow_up: "Pourquoi ?"}
      pt-br: {email: {subject: "Como nos saímos?", body: "Avalie-nos"}}
brand:
  name: Acme
  logo_url: https://cdn.acme.example/logo.png
  accent_color: "#1d4ed8"
  support_url: https://help.acme.example/
"""

BAD = """
surveys:
  s1:
    metric: csat
    question: {sms: "Rate us 1-5"}
    translations:
      fr: {sms: "Notez-nous {{ contact.name"}
      en_US: {sms: "Rate us"}
      de: {sms: "Bewerten Sie uns", emial: {subject: x, body: y}}
brand:
  logo_url: "javascript:alert(1)"
  accent_color: "#7dd3fc"
  support_url: "help.acme.example"
"""


def test_translations_and_a_brand_are_read_with_tags_spelled_one_way() -> None:
    config = parse_config(GOOD, environ={})
    survey = config.surveys["s1"]
    assert list(survey.translations) == ["fr", "pt-BR"]
    assert survey.translations["fr"].sms == "Notez-nous de 1 à 5"
    assert config.brand.name == "Acme" and config.brand.accent_color == "#1d4ed8"


def test_every_language_and_brand_problem_is_listed_in_one_pass() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(BAD, environ={})
    problems = caught.value.problems
    expected = [
        "surveys.s1.translations.en_US: 'en_US' is not a BCP 47 language tag like en, fr-CA or pt-BR; "
        "write 'en-US'",
        "surveys.s1.translations.de.emial: is not a known key here: did you mean 'email'?",
        "brand.logo_url: 'javascript:alert(1)' is not an absolute https URL like https://example.com/help",
        "brand.accent_color: #7dd3fc under white text has a contrast of 1.67:1, below WCAG AA's 4.5:1 "
        "for normal text: choose a darker shade",
        "brand.support_url: 'help.acme.example' is not an absolute https URL like https://example.com/help",
    ]
    for problem in expected:
        assert problem in problems, "\n".join(problems)
    assert any(
        p.startswith("surveys.s1.translations.fr.sms: the template does not compile") for p in problems
    )


def test_a_translation_that_does_not_compile_is_named_by_its_path() -> None:
    text = GOOD.replace('"Pourquoi ?"', '"Pourquoi {% if %} ?"')
    with pytest.raises(ConfigError) as caught:
        parse_config(text, environ={})
    [problem] = caught.value.problems
    assert problem.startswith("surveys.s1.translations.fr.follow_up: the template does not compile")


@pytest.mark.parametrize(
    ("colour", "ratio"),
    [
        ("#ffffff", 1.0),
        ("#000000", 21.0),
        ("#767676", 4.54),
        ("#777777", 4.48),
        ("#2563eb", 5.17),
        ("#fff", 1.0),
    ],
)
def test_the_contrast_ratio_is_wcags(colour: str, ratio: float) -> None:
    assert round(contrast_ratio(colour, "#ffffff"), 2) == ratio


def test_check_config_warns_about_a_long_translated_sms(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    long_french = "Bonjour ! " * 20
    path.write_text(GOOD.replace('"Notez-nous de 1 à 5"', f'"{long_french}"'))
    result = CliRunner().invoke(cli, ["check-config", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert (
        "surveys.s1.translations.fr.sms: for an example contact this SMS is 199 characters" in result.stderr
    )


@pytest.mark.parametrize(
    "url",
    ["http://cdn.acme.example/logo.png", "https://cdn.acme.example;script-src:*/l.png", "https://u:p@cdn.acme.example/",
     "https://cdn.acme.example/a logo.png", "//cdn.acme.example/logo.png", "data:image/png;base64,AAAA"],
)  # fmt: skip
def test_a_logo_url_that_is_not_a_plain_https_address_is_refused(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(f"brand: {{logo_url: {url!r}}}", environ={})
    [problem] = caught.value.problems
    assert problem.startswith(f"brand.logo_url: {url!r} ")
