"""The SMS conversation in the contact's language: the translated question and follow-up, our
own answers from the catalogs, and keywords and number words of that language."""

from __future__ import annotations

from typing import Any

from tests.conftest import BASE_CONFIG
from tests.sms.conftest import FOLLOW_UP, WorldFactory, new_sid

SMS_ONLY = [{"name": "csat_by_sms", "on": "ticket.solved", "survey": "support_csat", "channels": ["sms"]}]
FRENCH = {
    "sms": "Bonjour {{ contact.name }}, notez le ticket {{ properties.ticket_id }} de 1 à 5.",
    "follow_up": "Merci {{ contact.name }} ! Quelle est la raison principale de votre note ?",
}


def surveys(**translations: Any) -> dict[str, Any]:
    csat = {**BASE_CONFIG["surveys"]["support_csat"], "follow_up": FOLLOW_UP, "translations": translations}
    return {**BASE_CONFIG["surveys"], "support_csat": csat}


def test_a_french_canadian_contact_is_asked_and_answered_in_french(make_world: WorldFactory) -> None:
    world = make_world(triggers=SMS_ONLY, surveys=surveys(fr=FRENCH))
    send = world.survey("e1", details={"name": "Ada", "locale": "fr-CA"})
    assert send.locale == "fr"
    assert world.fake.messages[-1]["body"] == "Bonjour Ada, notez le ticket T-1 de 1 à 5."

    assert world.text("euh").texts == [
        "Désolé, nous n'avons pas compris la note. Répondez par un nombre de 1 à 5."
    ]
    assert world.text("cinq").texts == ["Merci Ada ! Quelle est la raison principale de votre note ?"]
    assert world.text("Rapide et aimable").texts == ["Merci pour votre avis !"]
    [response] = world.responses()
    assert (response.score, response.comment) == (5, "Rapide et aimable")


def test_arret_opts_the_number_out_and_aide_answers_in_french(make_world: WorldFactory) -> None:
    world = make_world(triggers=SMS_ONLY, surveys=surveys(fr=FRENCH),
                       brand={"name": "Acme", "support_url": "https://help.acme.example/sms"})  # fmt: skip
    world.survey("e1", details={"locale": "fr"})
    assert world.text("Aide").texts == [
        "Acme: Nous envoyons une courte enquête après votre contact. Répondez par un nombre pour nous "
        "noter. STOP pour arrêter, START pour reprendre. Aide : https://help.acme.example/sms"
    ]
    # Twilio does not know ARRET: surveybot opts the number out and confirms it in French.
    assert world.text("ARRET").texts == [
        "Vous ne recevrez plus nos enquêtes. Répondez START pour les recevoir à nouveau."
    ]
    assert [m.kind for m in world.inbound()] == ["help", "opt_out"]
    later = world.ingest("e2", details={"locale": "fr"})
    assert (later.outcome, later.reason) == ("suppressed", "opted_out")
    assert world.text("démarrer", sid=new_sid()).texts == [
        "Vous recevrez à nouveau nos courtes enquêtes. Répondez STOP pour vous désabonner."
    ]
    assert world.inbound()[-1].kind == "opt_in"


def test_stop_and_english_numbers_work_whatever_the_language(make_world: WorldFactory) -> None:
    world = make_world(triggers=SMS_ONLY, surveys=surveys(fr=FRENCH))
    world.survey("e1", details={"locale": "fr"})
    world.text("five great")
    assert world.responses()[0].score == 5
    assert world.text("STOP").texts == []
    assert world.inbound()[-1].kind == "opt_out"


def test_a_keyword_from_a_number_without_a_survey_is_answered_in_its_language(
    make_world: WorldFactory,
) -> None:
    world = make_world(triggers=SMS_ONLY)
    [answer] = world.text("AYUDA", from_="+14155550199").texts
    assert answer.startswith("Le enviamos una breve encuesta tras contactarnos.")
    [unmatched] = world.text("hola", from_="+14155550199").texts
    assert unmatched.startswith("Thanks for your message.")  # no send, no keyword: English


def test_a_survey_without_that_translation_answers_in_its_own_language(make_world: WorldFactory) -> None:
    world = make_world(triggers=SMS_ONLY, surveys=surveys(fr=FRENCH))
    send = world.survey("e1", details={"locale": "de-AT"})
    assert send.locale == "en"
    assert world.text("hmm").texts == [
        "Sorry, we didn't catch a score. Please reply with a number from 1 to 5."
    ]
