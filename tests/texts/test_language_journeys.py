"""A contact's language, end to end: the survey's translation by SMS and by email, the frame
and the rating page around it, the locale on the send and in `explain`, and the fallbacks."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from bot.app import build_channels
from bot.cli.main import cli
from bot.web.app import create_web_app
from storage import explain
from tests.conftest import BASE_CONFIG, ServicesFactory
from tests.fakes.smtp_server import FakeSmtpServer
from tests.helpers import event, outbox, sends, write_config

AUTH = {"Authorization": "Bearer test-key"}
FRENCH = {
    "sms": "Bonjour {{ contact.name }}, notez le ticket {{ properties.ticket_id }} de 1 à 5",
    "email": {"subject": "Votre avis sur le ticket {{ properties.ticket_id }}",
              "body": "Notez-nous, {{ contact.name }}"},
    "follow_up": "Merci ! Quelle est la raison principale de votre note ?",
}  # fmt: skip
PORTUGUESE = {
    "sms": "Olá {{ contact.name }}, avalie o ticket {{ properties.ticket_id }} de 1 a 5",
    "email": {"subject": "Como nos saímos?", "body": "Avalie-nos, {{ contact.name }}"},
}


def surveys_with_translations() -> dict[str, Any]:
    csat = {**BASE_CONFIG["surveys"]["support_csat"], "translations": {"fr": FRENCH, "pt": PORTUGUESE}}
    return {**BASE_CONFIG["surveys"], "support_csat": csat}


def sms_trigger_only() -> list[dict[str, Any]]:
    return [{"name": "csat_sms", "on": "ticket.solved", "survey": "support_csat", "channels": ["sms"]}]


@pytest.mark.parametrize(
    ("contact_locale", "sent_in", "greeting"),
    [("fr-CA", "fr", "Bonjour Ada, notez le ticket T-1 de 1 à 5"),
     ("pt-BR", "pt", "Olá Ada, avalie o ticket T-1 de 1 a 5"),
     ("ja", "en", "Hi Ada, rate ticket T-1 1-5"),
     (None, "en", "Hi Ada, rate ticket T-1 1-5")],
)  # fmt: skip
def test_the_sms_goes_out_in_the_closest_translation_and_the_send_keeps_its_locale(
    make_services: ServicesFactory, tmp_path: Any, contact_locale: str | None, sent_in: str, greeting: str
) -> None:
    services = make_services(surveys=surveys_with_translations(), triggers=sms_trigger_only())
    details = {"name": "Ada"} | ({"locale": contact_locale} if contact_locale else {})
    services.ingestor.ingest([event("e1", details=details)])
    services.dispatcher.run_once()
    [line] = outbox(tmp_path, "sms")
    [send] = sends(services.db)
    assert (line["body"], line["locale"], send.locale) == (greeting, sent_in, sent_in)
    with services.db.read() as conn:
        history = explain.contact_history(conn, "c1")
    assert history.sends[0]["locale"] == sent_in
    assert any(f"in {sent_in}" in moment.what for moment in explain.timeline(history))


def test_a_french_email_wears_a_french_frame_and_opens_a_french_page(
    make_services: ServicesFactory, smtp_server: FakeSmtpServer
) -> None:
    email = {"provider": "smtp", "host": "127.0.0.1", "port": smtp_server.port, "starttls": False,
             "from": "Acme <support@acme.example>"}  # fmt: skip
    services = make_services(
        surveys=surveys_with_translations(),
        channels={"email": email, "sms": {"provider": "log"}},
        brand={"name": "Acme", "accent_color": "#7c2d12", "support_url": "https://help.acme.example/"},
    )
    services.channels = build_channels(services.config, services.clock)
    services.dispatcher.channels = services.channels
    services.ingestor.ingest([event("e1", details={"phone": None, "locale": "fr-CA", "name": "Ada"})])
    assert services.dispatcher.run_once() == 1
    [mail] = smtp_server.messages
    message = mail.message
    assert message["Subject"] == "Votre avis sur le ticket T-1" and message["Content-Language"] == "fr"
    plain = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert plain.startswith("Notez-nous, Ada")
    assert "Choisissez une note (1 = Très insatisfait, 5 = Très satisfait)" in plain
    assert "Pour ne plus recevoir ces enquêtes" in plain
    assert '<html lang="fr" dir="ltr">' in html and "background-color:#7c2d12" in html
    assert (
        "Besoin d&#39;aide ? Contactez le support" in html or "Besoin d'aide ? Contactez le support" in html
    )

    link = re.findall(r"https://surveys\.example\.com(/r/[^\s]+)", plain)[3]
    page = TestClient(create_web_app(services)).get(link)
    assert page.status_code == 200 and page.headers["content-language"] == "fr"
    text = page.text
    assert '<html lang="fr" dir="ltr">' in text
    assert "<h1>Notez-nous, Ada</h1>" in text  # the survey's own question, not a generic one
    assert "Merci ! Quelle est la raison principale de votre note ?" in text  # its follow-up
    assert "Envoyer ma réponse" in text and "Votre note" in text


def test_the_rating_page_shows_the_survey_question_without_its_links(
    make_services: ServicesFactory, tmp_path: Any
) -> None:
    csat = {**BASE_CONFIG["surveys"]["support_csat"]}
    csat["question"] = {"email": {"subject": "How did we do?",
                                  "body": "Hi {{ contact.name }}, how did we do?\n\n"
                                          "Rate: {{ link }} or {{ links[1] }}"}}  # fmt: skip
    services = make_services(surveys={**BASE_CONFIG["surveys"], "support_csat": csat},
                             triggers=[{"name": "t", "on": "ticket.solved", "survey": "support_csat",
                                        "channels": ["email"]}])  # fmt: skip
    services.ingestor.ingest([event("e1", details={"phone": None, "name": "<b>Ada</b>"})])
    services.dispatcher.run_once()
    [line] = outbox(tmp_path, "email")
    path = line["links"]["4"].removeprefix("https://surveys.example.com")
    page = TestClient(create_web_app(services)).get(path).text
    assert "<h1>Hi &lt;b&gt;Ada&lt;/b&gt;, how did we do? Rate: or</h1>" in page
    assert "What is the main reason for your score?" in page


def test_a_locale_that_is_not_bcp_47_is_a_422_for_that_field(make_services: ServicesFactory) -> None:
    services = make_services()
    client = TestClient(create_web_app(services))
    reply = client.post("/v1/events", json=event("e1", details={"locale": "en_US"}), headers=AUTH)
    assert reply.status_code == 422
    [result] = reply.json()["results"]
    assert result["field"] == "contact.locale"
    assert result["error"] == (
        "contact.locale: 'en_US' is not a BCP 47 language tag like en, fr-CA or pt-BR; write 'en-US'"
    )
    assert sends(services.db) == []
    accepted = client.post("/v1/events", json=event("e2", details={"locale": "pt-br"}), headers=AUTH)
    assert accepted.status_code == 202
    with services.db.read() as conn:
        assert explain.contact_history(conn, "c1").contact["locale"] == "pt-BR"  # type: ignore[index]


def test_stats_break_down_by_contact_locale(
    make_services: ServicesFactory, tmp_path: Any, db_url: str
) -> None:
    services = make_services(surveys=surveys_with_translations(), triggers=sms_trigger_only())
    people = [("c1", "fr-CA", 5), ("c2", "fr-CA", 1), ("c3", "pt-BR", 4), ("c4", None, 2)]
    for contact, locale, _ in people:
        phone = f"+1415555010{contact[-1]}"
        services.ingestor.ingest(
            [event(f"e-{contact}", contact=contact, details={"locale": locale, "phone": phone})]
        )
    services.dispatcher.run_once()
    by_contact = {send.contact_id: send.id for send in sends(services.db)}
    for contact, _, score in people:
        services.responses.record_rating(by_contact[contact], score, None, services.clock.now())
    config = write_config(tmp_path, db_url)
    end = (services.clock.now() + timedelta(hours=1)).isoformat()
    result = CliRunner().invoke(
        cli, ["stats", "--config", str(config), "--end", end, "--group-by", "contact.locale", "--json"]
    )
    assert result.exit_code == 0, result.output
    [csat] = [s for s in orjson.loads(result.output)["surveys"] if s["survey"] == "support_csat"]
    groups = {g["group"]: g["n"] for g in csat["breakdowns"]["contact.locale"]}
    assert groups == {"fr-CA": 2, "pt-BR": 1, None: 1}
