"""/dashboard/outcomes as a viewer reads it: the numbers of `stats --outcomes`, each table as CSV,
churn per month; refused without a session; no axe-core violation on a phone or a desktop."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from bot.app import Services
from bot.metrics.outcomes import outcome_report
from bot.web.app import create_web_app
from storage.outcomes import rebuild_outcomes
from tests.conftest import ServicesFactory
from tests.dashboard.conftest import dashboard_overrides, sign_in
from tests.dashboard.test_browser import DESKTOP, PHONE, Site, check_page
from tests.dashboard.test_pages import client_for
from tests.fakes.live_server import bind_local_socket, serving, url_of
from tests.metrics.test_outcome_rates import populate
from triggers.follow_ups import follow_ups

OUTCOMES = {"churn": {"on": "subscription.cancelled", "within": "90d"}}


def with_outcomes(make_services: ServicesFactory, **extra: object) -> Services:
    services = make_services(**dashboard_overrides(outcomes=OUTCOMES), **extra)
    populate(services.db, per_band=60, seed=3)
    with services.db.write() as conn:
        rebuild_outcomes(conn, follow_ups(services.config.outcomes), services.clock.now())
    return services


def test_a_viewer_reads_the_bands_of_stats_outcomes_and_downloads_them(
    make_services: ServicesFactory,
) -> None:
    services = with_outcomes(make_services)
    client = client_for(services)
    assert client.get("/dashboard/outcomes", follow_redirects=False).status_code == 303
    sign_in(client, services, "vic@example.com")
    page = client.get("/dashboard/outcomes")
    assert page.status_code == 200, page.text
    with services.db.read() as conn:
        report = outcome_report(
            conn, config=services.config, end=services.clock.now(), surveys=["delivery_nps"]
        )
    [churn] = report.sections
    contrast = churn.contrast
    assert contrast is not None and contrast.ratio is not None
    assert f"{contrast.ratio:.1f}\u00d7 as often as promoters" in page.text
    assert "Churn per period" in page.text
    answer = client.get("/dashboard/outcomes?download=churn-delivery_nps")
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == ["band", "responses", "had the outcome", "rate", "95% interval"]
    by_band = {row[0]: row for row in rows[1:]}
    assert by_band["detractors"][1:3] == [str(churn.bands[0].n), str(churn.bands[0].done)]
    assert by_band["no answer"][1] == "0"
    assert client.get("/dashboard/outcomes?window=nonsense").status_code == 400


@pytest.fixture
def outcome_site(make_services: ServicesFactory, tmp_path: Path) -> Iterator[Site]:
    sock = bind_local_socket()
    url = url_of(sock)
    services = with_outcomes(make_services, server={"public_url": url})
    with serving(create_web_app(services), sock):
        yield Site(url, services, tmp_path)


@pytest.mark.browser
@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_the_outcomes_page_has_no_violations(browser: Browser, outcome_site: Site, device: str) -> None:
    context = browser.new_context(**(PHONE if device == "phone" else DESKTOP))
    page = context.new_page()
    page.goto(outcome_site.link_for("vic@example.com"))
    page.get_by_role("button").first.click()
    page.get_by_role("link", name="Outcomes").click()
    expect(page.get_by_role("heading", name="Outcomes by score band")).to_be_visible()
    check_page(page, f"{device}-outcomes")
    context.close()
