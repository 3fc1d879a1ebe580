"""Values from events reach email headers (the subject, names) only as text: no header, part or
body of an attacker's making comes out of the other end, on the Python we run on.

Python before 3.11.10 (CVE-2024-6923) writes a header's RFC 2047 encoded word, decoded, CR LF
and all, onto the wire; these tests send through the real smtplib to a real SMTP server, so on
such a Python they show what a relay would receive."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from bot.app import Services, build_channels
from bot.channels.smtp_email import SmtpEmailChannel, header_text
from tests.channels.test_smtp_email import email_config, parts, survey_message
from tests.conftest import BASE_CONFIG, ServicesFactory
from tests.fakes.smtp_server import FakeSmtpServer
from tests.helpers import event, sends

OUR_HEADERS = {
    "Subject",
    "From",
    "To",
    "Date",
    "Message-ID",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "Content-Type",
    "MIME-Version",
    "Content-Language",  # one of the shipped catalogs' language codes, never from an event
}
INJECTED = "T9\r\nReply-To: attacker@evil.example\r\nContent-Type: text/html\r\n\r\n<h1>Log in here</h1>"


def encoded_word(text: str, encoding: str = "b") -> str:
    if encoding == "q":
        return (
            "=?utf-8?q?" + "".join(chr(b) if chr(b).isalnum() else f"={b:02X}" for b in text.encode()) + "?="
        )
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="


def mail_services(make_services: ServicesFactory, smtp: FakeSmtpServer) -> Services:
    csat = BASE_CONFIG["surveys"]["support_csat"]
    question = {
        "email": {
            "subject": "How did we do, {{ contact.name }}? Ticket {{ properties.ticket_id }}",
            "body": "Hi {{ contact.name }}, rate ticket {{ properties.ticket_id }}.",
        }
    }
    email = {"provider": "smtp", "host": "127.0.0.1", "port": smtp.port, "starttls": False}
    services = make_services(
        surveys={**BASE_CONFIG["surveys"], "support_csat": {**csat, "question": question}},
        triggers=[{"name": "csat", "on": "ticket.solved", "survey": "support_csat", "channels": ["email"]}],
        channels={"email": email, "sms": {"provider": "log"}},
    )
    services.channels = build_channels(services.config, services.clock)
    services.dispatcher.channels = services.channels
    return services


def send_one(services: Services, **contact: Any) -> Any:
    properties = contact.pop("properties", {"ticket_id": "T-1"})
    services.ingestor.ingest([event("e1", details=contact, properties=properties)])
    assert services.dispatcher.run_once() == 1
    [send] = sends(services.db)
    return send


@pytest.mark.parametrize("encoding", ["b", "q"])
@pytest.mark.parametrize("where", ["properties.ticket_id", "contact.name", "inside a word"])
def test_an_encoded_word_in_an_event_cannot_add_headers_or_a_body(
    make_services: ServicesFactory, smtp_server: FakeSmtpServer, where: str, encoding: str
) -> None:
    services = mail_services(make_services, smtp_server)
    word = encoded_word(INJECTED, encoding)
    if where == "contact.name":
        send = send_one(services, name=word)
    elif where == "inside a word":
        send = send_one(services, name="Ada", properties={"ticket_id": f"T{word}9"})
    else:
        send = send_one(services, name="Ada", properties={"ticket_id": word})
    assert send.status == "sent"
    [mail] = smtp_server.messages
    received = mail.message
    assert set(received.keys()) == OUR_HEADERS
    assert received["Reply-To"] is None and received.get_content_type() == "multipart/alternative"
    assert "\n" not in str(received["Subject"]) and "= ?utf-8?" in str(received["Subject"])
    plain, html = parts(received)
    assert "rate ticket" in plain and "<h1>" not in html


def test_a_line_break_in_a_name_or_property_is_a_space_and_the_survey_goes_out(
    make_services: ServicesFactory, smtp_server: FakeSmtpServer
) -> None:
    services = mail_services(make_services, smtp_server)
    send = send_one(
        services, name="Ada\r\nBcc: everyone@example.com", properties={"ticket_id": "T-1\nX-Spam: 0"}
    )
    assert send.status == "sent"
    [mail] = smtp_server.messages
    assert set(mail.message.keys()) == OUR_HEADERS
    assert mail.rcpt_tos == ["c1@example.com"]
    assert mail.message["Subject"] == "How did we do, Ada Bcc: everyone@example.com? Ticket T-1 X-Spam: 0"


@pytest.mark.parametrize(
    "address", ["ada\r\n@example.com", encoded_word("x\r\nBcc: e@evil.example") + "@example.com"]
)
def test_a_stored_address_unfit_for_a_header_fails_without_sending(
    smtp_server: FakeSmtpServer, address: str
) -> None:
    outcome = SmtpEmailChannel(email_config(smtp_server.port)).send(survey_message(to=address))
    assert outcome.status == "failed" and "unsafe recipient address" in (outcome.reason or "")
    assert smtp_server.messages == []


def test_every_header_we_build_is_cleaned(smtp_server: FakeSmtpServer) -> None:
    config = email_config(smtp_server.port, **{"from": "Acme\r\nX-Evil: 1\r\n <support@acme.example>"})
    message = survey_message(subject="Hi\x00 there\u2028" + encoded_word("\r\nX: 1"))
    SmtpEmailChannel(config).send(message)
    [mail] = smtp_server.messages
    assert set(mail.message.keys()) == OUR_HEADERS
    assert mail.message["From"].addresses[0].addr_spec == "support@acme.example"


@pytest.mark.parametrize(
    ("given", "written"),
    [
        ("How did we do?", "How did we do?"),
        ("a\r\nb", "a b"),
        ("a\x00\x1b[31mb", "a [31mb"),
        ("=?utf-8?b?eA==?=", "= ?utf-8?b?eA== ?="),
        ("Ünïcödé ✓", "Ünïcödé ✓"),
    ],
)
def test_header_text(given: str, written: str) -> None:
    assert header_text(given) == written
