"""Picking a survey's translation for a contact's locale, and the survey as it reads there."""

from __future__ import annotations

import pytest

from bot.texts.translations import localized, survey_locale
from triggers.settings import SurveyConfig

SURVEY = SurveyConfig.model_validate(
    {
        "metric": "csat",
        "question": {"sms": "Rate us 1-5", "email": {"subject": "How did we do?", "body": "Rate us"}},
        "follow_up": "Why?",
        "translations": {
            "fr": {"sms": "Notez-nous de 1 à 5", "follow_up": "Pourquoi ?"},
            "pt": {"sms": "Avalie-nos de 1 a 5"},
            "pt-BR": {"sms": "Avalie a gente de 1 a 5"},
            "zh-Hant": {"sms": "請評分 1-5"},
        },
    }
)


@pytest.mark.parametrize(
    ("contact", "picked"),
    [("fr-CA", "fr"), ("FR-ca", "fr"), ("fr", "fr"), ("pt-BR", "pt-BR"), ("pt-PT", "pt"), ("pt", "pt"),
     ("zh-Hant-TW", "zh-Hant"), ("ja", "en"), ("en-GB", "en"), (None, "en")],
)  # fmt: skip
def test_the_closest_translation_is_picked_by_babels_negotiation(contact: str | None, picked: str) -> None:
    assert survey_locale(SURVEY, contact) == picked


def test_without_pt_br_a_brazilian_contact_gets_pt() -> None:
    survey = SURVEY.model_copy(update={"translations": {"pt": SURVEY.translations["pt"]}})
    assert survey_locale(survey, "pt-BR") == "pt"


def test_a_translation_replaces_the_texts_it_gives_and_keeps_the_others() -> None:
    french = localized(SURVEY, "fr")
    assert (french.question.sms, french.follow_up) == ("Notez-nous de 1 à 5", "Pourquoi ?")
    assert french.question.email == SURVEY.question.email  # not translated: the survey's own
    assert localized(SURVEY, "en") is SURVEY
    assert SURVEY.question.sms == "Rate us 1-5"  # the survey itself is unchanged
