"""The rating and unsubscribe pages in headless Chromium, with JavaScript on and off."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.pages.conftest import RatingSite

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 390, "height": 844}
SAVED = "Your score is saved. Add a comment if you like, then send."


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def phone(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    """A phone-sized page, with JavaScript on and then off."""
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        java_script_enabled=request.param,
    )
    page = context.new_page()
    page.clock.install()  # page timers move only when the test moves them
    yield page
    context.close()


def pick(page: Page, form: str, score: int) -> None:
    page.locator(f"label[for={form}-score-{score}]").click()


def test_rate_pick_comment_and_send(rating_site: RatingSite, phone: Page) -> None:
    send_id = rating_site.add_send(metric="csat")
    phone.goto(rating_site.signer.rating_url(send_id, 4))

    expect(phone.locator("#rate-score-4")).to_be_checked()
    pick(phone, "rate", 2)
    phone.get_by_label("Anything you'd like to tell us?").fill("The reply took three days.")
    phone.get_by_role("button", name="Send my answer").click()

    expect(phone.get_by_role("heading")).to_have_text("Thank you for your answer!")
    expect(phone.get_by_label("Your score")).to_have_text("2")
    response = rating_site.store.responses[send_id]
    assert (response.score, response.comment) == (2, "The reply took three days.")


def test_the_answer_can_be_changed_from_the_thanks_page(rating_site: RatingSite, phone: Page) -> None:
    send_id = rating_site.add_send(metric="nps")
    phone.goto(rating_site.signer.rating_url(send_id, 6))
    phone.get_by_role("button", name="Send my answer").click()

    phone.get_by_text("Change your answer").click()
    pick(phone, "change", 9)
    phone.locator("#change-comment").fill("Sorted out in the end")
    phone.get_by_role("button", name="Save changes").click()

    expect(phone.get_by_label("Your score")).to_have_text("9")
    response = rating_site.store.responses[send_id]
    assert (response.score, response.comment) == (9, "Sorted out in the end")


def test_a_tampered_link_shows_a_clear_page(rating_site: RatingSite, phone: Page) -> None:
    url = rating_site.signer.rating_url(rating_site.add_send(), 5)
    phone.goto(url[:-4] + "AAAA")

    expect(phone.get_by_role("heading")).to_have_text("This link does not work")
    assert rating_site.store.responses == {}


def test_unsubscribe_with_the_button(rating_site: RatingSite, phone: Page) -> None:
    phone.goto(rating_site.signer.unsubscribe_url(rating_site.add_send(to="ada@example.com")))
    assert rating_site.store.opted_out == {}

    phone.get_by_role("button", name="Unsubscribe").click()

    expect(phone.get_by_role("heading")).to_have_text("You're unsubscribed")
    assert list(rating_site.store.opted_out) == ["ada@example.com"]


def test_with_javascript_the_page_saves_the_score_once_it_has_been_seen(
    rating_site: RatingSite, browser: Browser
) -> None:
    send_id = rating_site.add_send(metric="ces")
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.clock.install()
    page.goto(rating_site.signer.rating_url(send_id, 6))

    page.clock.run_for(500)  # shown, but not long enough to count as seen
    assert rating_site.store.responses == {}
    page.clock.run_for(600)

    expect(page.locator("#status")).to_have_text(SAVED)
    assert rating_site.store.responses[send_id].score == 6
    with page.expect_response(lambda response: response.request.method == "POST"):
        pick(page, "rate", 7)  # picking another score saves that one too
    assert rating_site.store.responses[send_id].score == 7
    context.close()


def test_a_page_that_is_never_shown_saves_nothing(rating_site: RatingSite, browser: Browser) -> None:
    send_id = rating_site.add_send()
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.clock.install()
    page.goto(rating_site.signer.rating_url(send_id, 5))
    page.evaluate(
        """() => {
          Object.defineProperty(document, "visibilityState", {value: "hidden"});
          document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )

    page.clock.run_for(60_000)

    assert page.locator("#status").text_content() == ""
    assert rating_site.store.responses == {}
    context.close()


def test_screenshots_on_a_phone(rating_site: RatingSite, browser: Browser, tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    print(f"phone screenshots of the rating pages: {shots}")  # shown with -s, or when the test fails
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    page.clock.install()
    send_id = rating_site.add_send(metric="csat")
    page.goto(rating_site.signer.rating_url(send_id, 4))
    page.clock.run_for(1100)
    expect(page.locator("#status")).to_have_text(SAVED)
    page.screenshot(path=shots / "rate-phone.png")

    nps = rating_site.add_send("snd_nps", metric="nps")
    page.goto(rating_site.signer.rating_url(nps, 8))
    page.screenshot(path=shots / "rate-nps-phone.png")
    page.get_by_label("Anything you'd like to tell us?").fill("Quick and friendly, thanks!")
    page.get_by_role("button", name="Send my answer").click()
    page.get_by_text("Change your answer").click()
    page.screenshot(path=shots / "thanks-phone.png", full_page=True)
    page.goto(rating_site.signer.rating_url(send_id, 4)[:-2] + "xx")
    page.screenshot(path=shots / "invalid-phone.png")
    context.close()
