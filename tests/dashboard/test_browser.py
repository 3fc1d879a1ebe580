"""The dashboard in headless Chromium, as a CX manager and a viewer use it: sign in by the emailed
link, the CSAT of `surveybot stats --json`, comments filtered, an alert claimed and seen claimed
in Slack; what is refused; axe-core over every page on a phone and a desktop.

Screenshots of each page land in `$SURVEYBOT_SCREENSHOTS` when it is set (to look at them)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from playwright.sync_api import Browser, Page, expect

from bot.app import Services
from bot.cli.main import cli
from bot.dashboard.auth import SignInLinks
from bot.web.app import create_web_app
from tests.axe import axe_violations, describe
from tests.conftest import ServicesFactory
from tests.dashboard.conftest import USERS, dashboard_overrides
from tests.dashboard.test_pages import answered
from tests.fakes.live_server import bind_local_socket, serving, url_of
from tests.fakes.plugin import slack_overrides
from tests.fakes.slack_api import FakeSlack
from tests.helpers import outbox, write_config
from tests.slack.journeys import all_text

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@dataclass
class Site:
    url: str
    services: Services
    tmp_path: Path

    def link_for(self, email: str) -> str:
        links = SignInLinks(
            self.services.db, self.services.clock, public_url=self.url,
            lifetime=self.services.config.dashboard.link_lifetime,
        )  # fmt: skip
        return links.create(email)


@pytest.fixture
def site(make_services: ServicesFactory, fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Site]:
    sock = bind_local_socket()
    url = url_of(sock)
    services = make_services(
        **slack_overrides(fake_slack), **dashboard_overrides(), server={"public_url": url}
    )
    answered(services)
    with serving(create_web_app(services), sock):
        yield Site(url, services, tmp_path)


def screenshot(page: Page, name: str) -> None:
    folder = os.environ.get("SURVEYBOT_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def check_page(page: Page, name: str) -> None:
    """No axe-core violation on the page as it is now; a screenshot when asked for."""
    screenshot(page, name)
    violations = axe_violations(page)
    assert violations == [], f"{name}:\n{describe(violations)}"


def sign_in_by_email(page: Page, site: Site, email: str, tag: str) -> None:
    page.goto(f"{site.url}/dashboard")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    check_page(page, f"{tag}-login")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    check_page(page, f"{tag}-sent")
    mail = outbox(site.tmp_path, "email")[-1]
    assert mail["to"] == email
    link = re.search(r"http://\S+/dashboard/auth/\S+", mail["body"])
    assert link
    page.goto(link.group(0))
    check_page(page, f"{tag}-confirm")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()


def stats_json(site: Site) -> dict[str, Any]:
    """What `surveybot stats --json` prints for the last 7 days, on the same database."""
    config = write_config(site.tmp_path, site.services.config.storage.url)
    end = site.services.clock.now().isoformat()
    result = CliRunner().invoke(
        cli, ["stats", "--json", "--window", "7d", "--end", end, "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = orjson.loads(result.output)
    return document


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_a_manager_signs_in_reads_the_numbers_filters_comments_and_claims_an_alert(
    browser: Browser, site: Site, fake_slack: FakeSlack, device: str
) -> None:
    context = browser.new_context(**(PHONE if device == "phone" else DESKTOP))
    page = context.new_page()
    sign_in_by_email(page, site, "ada@example.com", device)

    [csat] = [s for s in stats_json(site)["surveys"] if s["survey"] == "support_csat"]
    card = page.get_by_role("region", name="support_csat (CSAT)")
    expect(card.locator(".value")).to_have_text(f"{csat['value']:.1f}%")
    expect(card).to_contain_text(f"n={csat['n']}")
    check_page(page, f"{device}-overview")

    card.get_by_role("link", name="support_csat (CSAT)").click()
    expect(page.get_by_role("heading", name="support_csat (CSAT)", exact=True)).to_be_visible()
    page.get_by_label("Score").select_option("low")
    page.get_by_label("Theme").select_option("billing")
    page.get_by_role("button", name="Filter comments").click()
    comments = page.locator("#table-comments tbody tr")
    expect(comments).to_have_count(2)
    expect(comments.nth(0)).to_contain_text("the invoice was wrong")
    expect(comments.nth(1)).to_contain_text("refund took ages")
    page.get_by_label("By property").fill("properties.team")
    page.get_by_role("button", name="Break down").click()
    expect(page.locator("#table-breakdown tbody tr")).to_have_count(2)
    check_page(page, f"{device}-survey")

    comments.nth(1).get_by_role("link", name="c3").click()
    expect(page.get_by_role("heading", name="Contact c3")).to_be_visible()
    expect(page.locator("#table-timeline")).to_contain_text("refund took ages")
    check_page(page, f"{device}-contact")

    page.get_by_role("link", name="Alerts").click()
    row = page.locator("#table-alerts tbody tr", has_text="refund took ages")
    row.get_by_role("button", name=re.compile("^Claim")).click()
    expect(page.locator("#table-alerts tbody tr", has_text="refund took ages")).to_contain_text(
        "ada@example.com"
    )
    updates = fake_slack.calls_to("chat.update")
    assert "ada@example.com is following up" in all_text(updates[-1].params["blocks"])
    check_page(page, f"{device}-alerts")

    page.evaluate("document.querySelectorAll('input[name=csrf]').forEach(i => i.remove())")
    page.locator("#table-alerts tbody tr", has_text="invoice").get_by_role(
        "button", name=re.compile("^Resolve")
    ).click()
    expect(page.get_by_role("heading", name="Cannot show this")).to_be_visible()
    expect(page.get_by_text("security token")).to_be_visible()
    check_page(page, f"{device}-refused")
    context.close()


def test_a_viewer_is_refused_the_contact_page_and_a_forged_or_reused_link_is_refused(
    browser: Browser, site: Site
) -> None:
    context = browser.new_context(**PHONE)
    page = context.new_page()
    link = site.link_for("vic@example.com")
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.get_by_role("link", name="Alerts")).to_have_count(0)
    page.goto(f"{site.url}/dashboard/surveys/support_csat?score=low")
    expect(page.locator("#table-comments")).to_contain_text("refund took ages")
    expect(page.locator("#table-comments a")).to_have_count(0)
    answer = page.goto(f"{site.url}/dashboard/contacts/c3")
    assert answer and answer.status == 403
    expect(page.get_by_text("Your role (viewer) cannot open this page")).to_be_visible()
    context.close()

    stranger = browser.new_context(**PHONE).new_page()
    stranger.goto(link)
    stranger.get_by_role("button", name="Sign in").click()
    expect(stranger.get_by_text("This sign-in link is not valid")).to_be_visible()
    stranger.goto(f"{site.url}/dashboard/auth/forged-{'x' * 40}")
    stranger.get_by_role("button", name="Sign in").click()
    expect(stranger.get_by_text("This sign-in link is not valid")).to_be_visible()
    check_page(stranger, "phone-bad-link")
    assert stranger.context.cookies() == [] or all(
        c["name"] != "surveybot_session" for c in stranger.context.cookies()
    )
    stranger.context.close()


def test_the_people_page_of_an_admin_has_no_violations(browser: Browser, site: Site) -> None:
    context = browser.new_context(**DESKTOP)
    page = context.new_page()
    page.goto(site.link_for("root@example.com"))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="People").click()
    expect(page.locator("table")).to_contain_text(USERS[1]["email"])
    check_page(page, "desktop-people")
    context.close()


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_the_journey_page_reads_as_stats_by_month_and_has_no_violations(
    browser: Browser, make_services: ServicesFactory, tmp_path: Path, device: str
) -> None:
    from tests.dashboard.test_journey_page import JOURNEY, journey_answered, stats_by

    sock = bind_local_socket()
    url = url_of(sock)
    services = make_services(**dashboard_overrides(**JOURNEY), server={"public_url": url})
    journey_answered(services)
    document = stats_by(services, tmp_path, "--by", "month", "--periods", "3")
    index = document["index"]["periods"][-1]
    with serving(create_web_app(services), sock):
        context = browser.new_context(**(PHONE if device == "phone" else DESKTOP))
        page = context.new_page()
        page.goto(Site(url, services, tmp_path).link_for("vic@example.com"))
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="Journey").click()
        expect(page.get_by_role("heading", name="Journey by period")).to_be_visible()
        page.get_by_label("Periods of").select_option("month")
        page.get_by_label("How many").fill("3")
        page.get_by_role("button", name="Show").click()
        stages = page.locator("#table-journey tbody tr")
        expect(stages).to_have_count(2)
        expect(stages.nth(0)).to_contain_text("50.0% (")
        expect(stages.nth(0)).to_contain_text("small sample")
        expect(page.locator("#table-index tbody tr").nth(0)).to_contain_text(f"{index['value']:.1f} (")
        check_page(page, f"{device}-journey")
        context.close()
