"""axe-core over the pages a customer sees: the rating page, the thanks page, the unsubscribe page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.axe import axe_violations, describe
from tests.pages.conftest import RatingSite

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.clock.install()
    yield page
    context.close()


def test_the_rating_page_has_no_violations(rating_site: RatingSite, page: Page) -> None:
    page.goto(rating_site.signer.rating_url(rating_site.add_send(metric="nps"), 7))
    violations = axe_violations(page)
    assert violations == [], describe(violations)


def test_the_thanks_page_has_no_violations(rating_site: RatingSite, page: Page) -> None:
    page.goto(rating_site.signer.rating_url(rating_site.add_send(metric="csat"), 4))
    page.get_by_role("button", name="Send my answer").click()
    page.get_by_text("Change your answer").wait_for()
    violations = axe_violations(page)
    assert violations == [], describe(violations)


def test_the_unsubscribe_page_has_no_violations(rating_site: RatingSite, page: Page) -> None:
    page.goto(rating_site.signer.unsubscribe_url(rating_site.add_send(to="ada@example.com")))
    violations = axe_violations(page)
    assert violations == [], describe(violations)


def test_a_page_with_a_known_fault_is_caught(page: Page) -> None:
    """The checker itself works: an image without alternative text is a violation."""
    page.set_content('<!doctype html><html lang="en"><title>t</title><main><img src="x.png"></main></html>')
    assert "image-alt" in {violation["id"] for violation in axe_violations(page)}


# The same pages in Arabic (right to left) and dressed in a brand: still zero violations.

QUESTION_AR = "ما مدى رضاك عن مساعدتنا في التذكرة T-1؟"
PROMPT_AR = "شكرًا! ما السبب الرئيسي لتقييمك؟"


@pytest.mark.parametrize("site", ["rating_site", "branded_site"])
@pytest.mark.parametrize("locale", ["en", "ar"])
def test_every_page_in_english_and_arabic_plain_and_branded_has_no_violations(
    request: pytest.FixtureRequest, page: Page, site: str, locale: str
) -> None:
    rating_site: RatingSite = request.getfixturevalue(site)
    texts = {"question": QUESTION_AR, "comment_prompt": PROMPT_AR} if locale == "ar" else {}
    send_id = rating_site.add_send(metric="csat", locale=locale, **texts)
    page.goto(rating_site.signer.rating_url(send_id, 4))
    assert page.locator("html").get_attribute("lang") == locale
    assert page.locator("html").get_attribute("dir") == ("rtl" if locale == "ar" else "ltr")
    checked = {"rating": axe_violations(page)}
    page.locator("form#rate button[type=submit]").click()
    page.locator("details summary").wait_for()
    checked["thanks"] = axe_violations(page)
    page.goto(rating_site.signer.unsubscribe_url(send_id))
    checked["unsubscribe"] = axe_violations(page)
    page.locator("form button[type=submit]").click()
    page.locator("h1").wait_for()
    checked["unsubscribed"] = axe_violations(page)
    assert {name: describe(found) for name, found in checked.items() if found} == {}
