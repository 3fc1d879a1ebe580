"""From the email to the stored response: a real SMTP server receives the survey, the
customer opens it in a browser, taps a score, writes a comment and sends it."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from bot.channels.base import OutboundMessage
from bot.channels.smtp_email import SmtpEmailChannel
from bot.config import EmailChannelConfig
from tests.fakes.smtp_server import FakeSmtpServer
from tests.pages.conftest import RatingSite


def send_survey(site: RatingSite, smtp: FakeSmtpServer, send_id: str) -> tuple[str, str]:
    """Send the survey email for `send_id`; return (html part, List-Unsubscribe URL) as received."""
    config = EmailChannelConfig.model_validate(
        {
            "provider": "smtp",
            "host": "127.0.0.1",
            "port": smtp.port,
            "starttls": False,
            "from": "Acme Support <support@acme.example>",
        }
    )
    message = OutboundMessage(
        send_id=send_id,
        channel="email",
        to="ada@example.com",
        survey="support_csat",
        metric="csat",
        subject="How did we do?",
        body="Hi Ada,\n\nHow satisfied were you with how we handled ticket T-1?",
        links=site.signer.rating_urls(send_id, (1, 5)),
        unsubscribe_url=site.signer.unsubscribe_url(send_id),
    )
    assert SmtpEmailChannel(config).send(message).status == "sent"
    received = smtp.messages[-1].message
    html = received.get_body(preferencelist=("html",))
    assert html is not None
    header = str(received["List-Unsubscribe"])
    match = re.fullmatch(r"<(https?://\S+)>", header)
    assert match, header
    return str(html.get_content()), match.group(1)


@pytest.mark.browser
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_customer_rates_from_the_email(
    rating_site: RatingSite, smtp_server: FakeSmtpServer, browser: Browser, javascript: bool, tmp_path: Path
) -> None:
    send_id = rating_site.add_send(metric="csat")
    html, _ = send_survey(rating_site, smtp_server, send_id)
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        java_script_enabled=javascript,
    )
    page = context.new_page()
    page.clock.install()
    page.set_content(html)  # the email as a mail app shows it
    if javascript:
        shot = tmp_path / "email-phone.png"
        page.screenshot(path=shot, full_page=True)
        print(f"the survey email on a phone: {shot}")  # shown with -s, or when the test fails

    page.get_by_role("link", name="4", exact=True).click()
    expect(page.locator("#rate-score-4")).to_be_checked()
    assert rating_site.store.responses == {}  # opening the page alone saved nothing yet
    page.locator("label[for=rate-score-5]").click()
    page.get_by_label("Anything you'd like to tell us?").fill("Sam fixed it in minutes.")
    page.get_by_role("button", name="Send my answer").click()

    expect(page.get_by_role("heading")).to_have_text("Thank you for your answer!")
    response = rating_site.store.responses[send_id]
    assert (response.score, response.comment, response.counted) == (
        5,
        "Sam fixed it in minutes.",
        True,
    )
    context.close()


def test_one_click_unsubscribe_from_the_email_header(
    rating_site: RatingSite, smtp_server: FakeSmtpServer
) -> None:
    send_id = rating_site.add_send(to="ada@example.com")
    _, unsubscribe_url = send_survey(rating_site, smtp_server, send_id)

    answer = httpx.post(
        unsubscribe_url,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert answer.status_code == 200
    assert list(rating_site.store.opted_out) == ["ada@example.com"]
