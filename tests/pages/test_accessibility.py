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
