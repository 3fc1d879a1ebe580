"""SmtpEmailChannel against a real SMTP server on 127.0.0.1 (aiosmtpd)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any

from bot.channels.base import OutboundMessage
from bot.channels.smtp_email import Backoff, SmtpEmailChannel
from bot.config import EmailChannelConfig
from bot.runtime.clock import FakeClock
from tests.fakes.smtp_server import PASSWORD, USERNAME, FakeSmtpServer

UNSUBSCRIBE = "https://surveys.example.com/unsubscribe/tok-unsub"


def email_config(port: int, **overrides: Any) -> EmailChannelConfig:
    raw = {
        "provider": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "starttls": False,
        "from": "Acme Support <support@acme.example>",
        "timeout_seconds": 5,
    }
    return EmailChannelConfig.model_validate({**raw, **overrides})


def survey_message(metric: str = "csat", **overrides: Any) -> OutboundMessage:
    low, high = {"csat": (1, 5), "ces": (1, 7), "nps": (0, 10)}[metric]
    fields: dict[str, Any] = {
        "send_id": "snd_01",
        "channel": "email",
        "to": "ada@example.com",
        "survey": "support_csat",
        "metric": metric,
        "subject": "How did we do? Ticket T-1",
        "body": "Hi Ada,\n\nHow satisfied were you with ticket T-1 <urgent>?",
        "links": {s: f"https://surveys.example.com/r/tok-{s}" for s in range(low, high + 1)},
        "unsubscribe_url": UNSUBSCRIBE,
    }
    return OutboundMessage(**{**fields, **overrides})


def parts(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    return str(plain.get_content()), str(html.get_content())


class LinkCollector(HTMLParser):
    """Every <a href> in an HTML document, with its text."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")
            self.links.append((self._href or "", ""))

    def handle_data(self, data: str) -> None:
        if self._href is not None and data.strip():
            href, text = self.links[-1]
            self.links[-1] = (href, text + data.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._href = None


def links_in(html: str) -> list[tuple[str, str]]:
    collector = LinkCollector()
    collector.feed(html)
    return collector.links


def test_an_accepted_email_is_sent_with_its_message_id(smtp_server: FakeSmtpServer) -> None:
    channel = SmtpEmailChannel(email_config(smtp_server.port))
    outcome = channel.send(survey_message())

    assert outcome.status == "sent"
    [mail] = smtp_server.messages
    assert outcome.provider_id == mail.message["Message-ID"]
    assert mail.mail_from == "support@acme.example"
    assert mail.rcpt_tos == ["ada@example.com"]


def test_headers_carry_one_click_unsubscribe_date_and_message_id(
    smtp_server: FakeSmtpServer,
) -> None:
    clock = FakeClock(datetime(2026, 11, 22, 10, 30, tzinfo=UTC))
    SmtpEmailChannel(email_config(smtp_server.port), clock=clock).send(survey_message())

    message = smtp_server.messages[0].message
    assert message["Subject"] == "How did we do? Ticket T-1"
    assert message["From"] == "Acme Support <support@acme.example>"
    assert message["To"] == "ada@example.com"
    assert parsedate_to_datetime(message["Date"]) == clock.now()
    assert message["Message-ID"].startswith("<snd_01.")
    assert message["Message-ID"].endswith("@acme.example>")
    assert message["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_long_unsubscribe_url_stays_one_readable_header(smtp_server: FakeSmtpServer) -> None:
    url = "https://surveys.example.com/unsubscribe/" + "A" * 150
    SmtpEmailChannel(email_config(smtp_server.port)).send(survey_message(unsubscribe_url=url))

    raw_headers, raw_body = smtp_server.messages[0].raw.split(b"\r\n\r\n", 1)
    assert f"List-Unsubscribe: <{url}>".encode() in raw_headers
    # ...while the quoted-printable parts keep to RFC 2045's 76 characters a line.
    assert max(len(line) for line in raw_body.split(b"\r\n")) <= 76


def test_the_email_has_a_plain_part_and_an_html_part_with_a_link_per_score(
    smtp_server: FakeSmtpServer,
) -> None:
    message_out = survey_message("nps")
    SmtpEmailChannel(email_config(smtp_server.port)).send(message_out)

    message = smtp_server.messages[0].message
    assert message.get_content_type() == "multipart/alternative"
    plain, html = parts(message)
    assert "How satisfied were you with ticket T-1 <urgent>?" in plain
    for score, url in message_out.links.items():
        assert f"{score:2d}: {url}" in plain
    assert "0 = Not at all likely, 10 = Extremely likely" in plain
    assert UNSUBSCRIBE in plain

    anchors = links_in(html)
    assert anchors[:11] == [(url, str(score)) for score, url in message_out.links.items()]
    assert anchors[-1] == (UNSUBSCRIBE, "Unsubscribe")
    assert "ticket T-1 &lt;urgent&gt;?" in html  # the plain body is escaped, not injected
    assert "<script" not in html


def test_the_surveys_own_html_is_used_when_given(smtp_server: FakeSmtpServer) -> None:
    own = '<p style="color:#111">Hi <strong>Ada</strong>, rate ticket T-1:</p>'
    SmtpEmailChannel(email_config(smtp_server.port)).send(survey_message(html=own))

    plain, html = parts(smtp_server.messages[0].message)
    assert own in html
    assert "Hi Ada," in plain


def test_a_refused_connection_is_retried_later_and_later(closed_port: int) -> None:
    channel = SmtpEmailChannel(email_config(closed_port), backoff=Backoff(first=timedelta(seconds=30)))
    outcomes = [channel.send(survey_message()) for _ in range(3)]

    assert [o.status for o in outcomes] == ["retry", "retry", "retry"]
    assert [o.retry_after for o in outcomes] == [
        timedelta(seconds=30),
        timedelta(seconds=60),
        timedelta(seconds=120),
    ]
    assert "cannot reach 127.0.0.1" in (outcomes[0].reason or "")


def test_backoff_stops_growing_at_its_most() -> None:
    backoff = Backoff(first=timedelta(seconds=30), most=timedelta(minutes=10))
    assert backoff.after(1) == timedelta(seconds=30)
    assert backoff.after(10) == timedelta(minutes=10)


def test_a_permanent_refusal_of_the_recipient_fails_with_the_servers_reason(
    smtp_server: FakeSmtpServer,
) -> None:
    smtp_server.refuse_next("RCPT", 550, "5.1.1 No such user here")
    outcome = SmtpEmailChannel(email_config(smtp_server.port)).send(survey_message())

    assert outcome.status == "failed"
    assert outcome.reason == "RCPT TO: 550 5.1.1 No such user here"
    assert smtp_server.messages == []


def test_a_permanent_refusal_of_the_message_fails(smtp_server: FakeSmtpServer) -> None:
    smtp_server.refuse_next("DATA", 554, "5.7.1 Message rejected as spam")
    outcome = SmtpEmailChannel(email_config(smtp_server.port)).send(survey_message())

    assert outcome.status == "failed"
    assert outcome.reason == "DATA: 554 5.7.1 Message rejected as spam"


def test_a_transient_refusal_is_retried(smtp_server: FakeSmtpServer) -> None:
    channel = SmtpEmailChannel(email_config(smtp_server.port))
    smtp_server.refuse_next("RCPT", 451, "4.7.1 Greylisted, try again later")
    at_rcpt = channel.send(survey_message())
    smtp_server.refuse_next("DATA", 452, "4.3.1 Insufficient system storage")
    at_data = channel.send(survey_message())
    again = channel.send(survey_message())

    assert (at_rcpt.status, at_data.status) == ("retry", "retry")
    assert at_rcpt.retry_after is not None and at_rcpt.retry_after > timedelta(0)
    assert "Greylisted" in (at_rcpt.reason or "")
    assert again.status == "sent"
    assert len(smtp_server.messages) == 1


def test_a_connection_lost_after_the_message_is_unknown_not_failed(
    smtp_server: FakeSmtpServer,
) -> None:
    smtp_server.drop_next_data()
    outcome = SmtpEmailChannel(email_config(smtp_server.port)).send(survey_message())

    assert outcome.status == "unknown"
    assert outcome.retry_after is None
    # The server did take it: sending it again would mail the customer twice.
    assert len(smtp_server.messages) == 1


def test_no_answer_after_the_message_is_unknown(smtp_server: FakeSmtpServer) -> None:
    smtp_server.stall_next_data()
    config = email_config(smtp_server.port, timeout_seconds=0.3)
    outcome = SmtpEmailChannel(config).send(survey_message())

    assert outcome.status == "unknown"
    assert "timed out" in (outcome.reason or "")


def test_starttls_and_login_when_configured(smtp_tls_server: FakeSmtpServer) -> None:
    config = email_config(smtp_tls_server.port, starttls=True, username=USERNAME, password=PASSWORD)
    channel = SmtpEmailChannel(config, ssl_context=smtp_tls_server.client_ssl_context)
    outcome = channel.send(survey_message())

    assert outcome.status == "sent"
    [mail] = smtp_tls_server.messages
    assert mail.over_tls
    assert mail.authenticated_as == USERNAME


def test_a_wrong_password_is_a_relay_problem_retried_not_a_failed_send(
    smtp_tls_server: FakeSmtpServer,
) -> None:
    config = email_config(smtp_tls_server.port, starttls=True, username=USERNAME, password="no")
    channel = SmtpEmailChannel(config, ssl_context=smtp_tls_server.client_ssl_context)
    outcome = channel.send(survey_message())

    assert outcome.status == "retry"
    assert (outcome.reason or "").startswith("relay refused AUTH: 535")
    assert smtp_tls_server.messages == []


def test_an_untrusted_certificate_is_not_used(smtp_tls_server: FakeSmtpServer) -> None:
    config = email_config(smtp_tls_server.port, starttls=True, username=USERNAME, password=PASSWORD)
    outcome = SmtpEmailChannel(config).send(survey_message())  # system trust store only

    assert outcome.status == "retry"
    assert "CERTIFICATE_VERIFY_FAILED" in (outcome.reason or "")
    assert smtp_tls_server.messages == []


def test_without_starttls_a_relay_that_requires_it_refuses_and_we_back_off(
    smtp_tls_server: FakeSmtpServer,
) -> None:
    outcome = SmtpEmailChannel(email_config(smtp_tls_server.port)).send(survey_message())

    assert outcome.status == "retry"
    assert (outcome.reason or "").startswith("relay refused MAIL FROM: 530")
    assert smtp_tls_server.messages == []
