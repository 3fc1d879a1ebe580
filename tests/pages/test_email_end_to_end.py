"""The whole email path through the real app: an event is taken in, the survey is mailed over
SMTP, the customer follows the link, rates and comments, and the response is in the database."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from bot.app import build_channels
from bot.runtime.clock import FakeClock
from bot.web.app import create_web_app
from storage import queries, responses
from tests.conftest import ServicesFactory
from tests.fakes.live_server import bind_local_socket, serving, url_of
from tests.fakes.smtp_server import FakeSmtpServer
from tests.helpers import event, sends


def mail_services(make_services: ServicesFactory, smtp: FakeSmtpServer, public_url: str):  # type: ignore[no-untyped-def]
    email = {
        "provider": "smtp",
        "host": "127.0.0.1",
        "port": smtp.port,
        "starttls": False,
        "from": "Acme Support <support@acme.example>",
    }
    services = make_services(
        server={"public_url": public_url}, channels={"email": email, "sms": {"provider": "log"}}
    )
    services.channels = build_channels(services.config, services.clock)
    services.dispatcher.channels = services.channels
    return services


@pytest.mark.browser
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_survey_email_is_rated_and_stored(
    make_services: ServicesFactory,
    smtp_server: FakeSmtpServer,
    browser: Browser,
    clock: FakeClock,
    javascript: bool,
) -> None:
    sock = bind_local_socket()
    services = mail_services(make_services, smtp_server, url_of(sock))
    services.ingestor.ingest([event("e1", type_="order.delivered", details={"name": "Ada"})])
    assert services.dispatcher.run_once() == 1
    [mail] = smtp_server.messages
    received = mail.message
    assert received["To"] == "c1@example.com" and received["Subject"] == "Recommend us?"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = received.get_body(preferencelist=("html",))
    assert html is not None
    links = re.findall(r'href="([^"]+/r/[^"]+)"', str(html.get_content()))
    assert len(links) == 11  # NPS: one link per score, 0 to 10
    with serving(create_web_app(services), sock):
        page = browser.new_context(java_script_enabled=javascript).new_page()
        page.goto(links[9].replace("&amp;", "&"))
        expect(page.locator("#rate-score-9")).to_be_checked()
        page.get_by_label("Anything you'd like to tell us?").fill("Quick and friendly")
        page.get_by_role("button", name="Send my answer").click()
        expect(page.get_by_role("heading")).to_have_text("Thank you for your answer!")
    [send] = sends(services.db)
    with services.db.read() as conn:
        row = conn.execute(select(responses.responses_t)).one()
    assert (row.send_id, row.score, row.comment, row.counted) == (send.id, 9, "Quick and friendly", True)


def test_a_link_fetched_by_a_scanner_records_nothing_and_unsubscribe_opts_out(
    make_services: ServicesFactory, smtp_server: FakeSmtpServer, clock: FakeClock
) -> None:
    sock = bind_local_socket()
    services = mail_services(make_services, smtp_server, url_of(sock))
    services.ingestor.ingest([event("e1", type_="order.delivered")])
    services.dispatcher.run_once()
    received = smtp_server.messages[0].message
    unsubscribe = str(received["List-Unsubscribe"]).strip("<>")
    text = received.get_body(preferencelist=("plain",))
    assert text is not None
    first_link = re.search(r"(http://\S+/r/\S+)", str(text.get_content()))
    assert first_link
    with serving(create_web_app(services), sock):
        assert httpx.get(first_link.group(1)).status_code == 200
        assert httpx.get(unsubscribe).status_code == 200  # a prefetch shows a button, changes nothing
        with services.db.read() as conn:
            assert conn.execute(select(responses.responses_t)).all() == []
            assert conn.execute(select(queries.opt_outs_t)).all() == []
        one_click = httpx.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
        assert one_click.status_code == 200
    clock.advance(timedelta(days=1))
    [again] = services.ingestor.ingest([event("e2", type_="order.delivered")])
    assert (again.decisions[0].outcome, again.decisions[0].reason) == ("suppressed", "opted_out")


def test_a_refused_relay_is_retried_later_and_a_rejection_fails_the_send(
    make_services: ServicesFactory, smtp_server: FakeSmtpServer, clock: FakeClock, tmp_path: Path
) -> None:
    services = mail_services(make_services, smtp_server, "https://surveys.example.com")
    services.ingestor.ingest(
        [event("e1", type_="order.delivered"), event("e2", contact="c2", type_="order.delivered")]
    )
    smtp_server.refuse_next("RCPT", 550, "5.1.1 mailbox unavailable")
    services.dispatcher.run_once()
    statuses = sorted((s.status, s.reason or "") for s in sends(services.db))
    assert statuses[0][0] == "failed" and "mailbox unavailable" in statuses[0][1]
    assert statuses[1] == ("sent", "")
    assert len(smtp_server.messages) == 1
