"""The dashboard's pages as a CX manager reads them: the numbers of `surveybot stats`, comments
filtered by score and theme, alerts claimed here and in Slack alike, a contact's history, each
table as CSV, and what a viewer may not see."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from fastapi.testclient import TestClient

from bot.app import Services
from bot.cli.stats import report_json
from bot.metrics.report import stats_report
from bot.web.app import create_web_app
from storage import alerts as stored
from tests.conftest import ServicesFactory
from tests.dashboard.conftest import PUBLIC_URL, csrf_of, dashboard_overrides, sign_in
from tests.fakes.plugin import slack_overrides
from tests.fakes.slack_api import FakeSlack
from tests.slack.journeys import all_text, record_score

SCORES = [  # (contact, score, comment, team)
    ("c1", 5, "quick and kind", "billing"),
    ("c2", 4, None, "billing"),
    ("c3", 1, "refund took ages", "billing"),
    ("c4", 2, '=HYPERLINK("http://evil.example","click")', "shipping"),
    ("c5", 5, "great", "shipping"),
    ("c6", 1, "the invoice was wrong", "shipping"),
]


def answered(services: Services) -> dict[str, str]:
    """The scores above, sent and answered through the real paths, a minute ago (a window ends
    now, and leaves out what happens at its very end); contact -> send id."""
    sends = {
        contact: record_score(
            services, f"e-{contact}", score=score, comment=comment, contact=contact,
            properties={"ticket_id": f"T-{contact}", "team": team, "agent": "sam"},
        )
        for contact, score, comment, team in SCORES
    }  # fmt: skip
    if services.slack and services.slack.alerts:
        services.slack.alerts.wait_idle()  # alerts are raised at the moment of the answer
    services.clock.advance(timedelta(minutes=1))
    return sends


def client_for(services: Services) -> TestClient:
    return TestClient(create_web_app(services), base_url=PUBLIC_URL)


def rows_of(client: TestClient, path: str) -> list[list[str]]:
    answer = client.get(path)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"].startswith("attachment; filename=")
    return list(csv.reader(io.StringIO(answer.text)))


def test_the_overview_shows_the_numbers_of_stats(make_services: ServicesFactory) -> None:
    services = make_services(**dashboard_overrides())
    answered(services)
    with services.db.read() as conn:
        stats = report_json(stats_report(conn, config=services.config, end=services.clock.now(),
                                         window=timedelta(days=7)))  # fmt: skip
    csat = next(s for s in stats["surveys"] if s["survey"] == "support_csat")
    assert csat["n"] == 6
    with client_for(services) as client:
        sign_in(client, services, "vic@example.com")
        page = client.get("/dashboard?window=7d").text
        assert f"{csat['value']:.1f}%" in page  # 3 of 6 at 4-5: 50.0%
        assert f"95% interval {csat['low']:.1f}% to {csat['high']:.1f}%, n=6" in page
        assert "small sample" in page
        [header, *rows] = rows_of(client, "/dashboard?window=7d&download=surveys")
    assert header[:5] == ["survey", "metric", "value", "95% interval", "n"]
    by_survey = {row[0]: row for row in rows}
    assert by_survey["support_csat"][2:5] == ["50.0%", f"{csat['low']:.1f}% to {csat['high']:.1f}%", "6"]
    assert by_survey["support_csat"][6] == "100.0% (6/6)"


def test_comments_filter_by_score_and_theme_and_link_to_the_contact(make_services: ServicesFactory) -> None:
    services = make_services(**dashboard_overrides())
    answered(services)
    with client_for(services) as client:
        sign_in(client, services, "ada@example.com")
        base = "/dashboard/surveys/support_csat?window=7d"
        low = rows_of(client, base + "&score=low&download=comments")
        assert [row[2] for row in low[1:]] == [
            "the invoice was wrong",
            '\'=HYPERLINK("http://evil.example","click")',  # opens as text in a spreadsheet
            "refund took ages",
        ]
        assert low[0] == ["received", "score", "comment", "themes", "channel", "contact"]
        assert [row[5] for row in low[1:]] == ["c6", "c4", "c3"]
        billing = rows_of(client, base + "&theme=billing&download=comments")
        assert [(row[2], row[3]) for row in billing[1:]] == [
            ("the invoice was wrong", "billing"),
            ("refund took ages", "billing, speed"),
        ]
        fives = rows_of(client, base + "&score=5&download=comments")
        assert [row[2] for row in fives[1:]] == ["great", "quick and kind"]
        page = client.get(base + "&score=low")
        assert '<a href="/dashboard/contacts/c3">c3</a>' in page.text
        assert "billing (2)" in page.text  # the theme's share among low scores, as the digest counts it


def test_the_breakdown_by_any_property_and_the_trend(make_services: ServicesFactory) -> None:
    services = make_services(**dashboard_overrides())
    answered(services)
    with client_for(services) as client:
        sign_in(client, services, "vic@example.com")
        rows = rows_of(
            client, "/dashboard/surveys/support_csat?window=7d&by=properties.team&download=breakdown"
        )
        assert rows == [
            ["properties.team", "value", "95% interval", "n"],
            ["billing", "66.7%", rows[1][2], "3"],
            ["shipping", "33.3%", rows[2][2], "3"],
        ]
        page = client.get("/dashboard/surveys/support_csat?window=7d").text
        assert '<svg class="chart"' in page and "CSAT: % of scores 4-5" in page
        assert client.get("/dashboard/surveys/support_csat?by=properties.").status_code == 400
        assert client.get("/dashboard/surveys/support_csat?window=forever").status_code == 400
        assert client.get("/dashboard/surveys/nope").status_code == 404


def test_a_viewer_sees_numbers_and_comments_but_no_contact(make_services: ServicesFactory) -> None:
    services = make_services(**dashboard_overrides())
    answered(services)
    with client_for(services) as client:
        sign_in(client, services, "vic@example.com")
        survey = client.get("/dashboard/surveys/support_csat?score=low")
        assert "refund took ages" in survey.text and "/dashboard/contacts/" not in survey.text
        assert "Ada" not in survey.text and "c3@example.com" not in survey.text
        for path in ("/dashboard/contacts/c3", "/dashboard/alerts", "/dashboard/people"):
            refused = client.get(path)
            assert refused.status_code == 403 and "Your role (viewer)" in refused.text
        assert client.get("/dashboard/contacts/c3?download=timeline").status_code == 403


def test_the_contact_page_is_the_explain_timeline(make_services: ServicesFactory) -> None:
    services = make_services(**dashboard_overrides())
    answered(services)
    with client_for(services) as client:
        sign_in(client, services, "ada@example.com")
        page = client.get("/dashboard/contacts/c3")
        assert page.status_code == 200
        assert "c3@example.com" in page.text and "Ada" in page.text
        rows = rows_of(client, "/dashboard/contacts/c3?download=timeline")
        assert [row[1] for row in rows[1:]] == ["event", "decision", "send", "response"]
        assert rows[-1][3] == "score 1 (csat): 'refund took ages'"
        assert client.get("/dashboard/contacts/nobody").status_code == 404


def test_an_alert_claimed_on_the_dashboard_is_claimed_in_slack_and_back(
    make_services: ServicesFactory, fake_slack: FakeSlack
) -> None:
    services = make_services(**slack_overrides(fake_slack), **dashboard_overrides())
    sends = answered(services)
    assert services.slack and services.slack.alerts
    services.slack.alerts.wait_idle()
    with client_for(services) as client:
        sign_in(client, services, "ada@example.com")
        page = client.get("/dashboard/alerts?window=7d")
        assert page.text.count('action="/dashboard/alerts/') == 6  # claim and resolve for c3, c4, c6
        services.clock.advance(timedelta(minutes=5))
        claimed = client.post(
            f"/dashboard/alerts/{sends['c3']}/claim",
            data={"csrf": csrf_of(page.text), "back": "/dashboard/alerts?window=7d"},
            follow_redirects=False,
        )
        assert claimed.status_code == 303 and claimed.headers["location"] == "/dashboard/alerts?window=7d"
        [update] = fake_slack.calls_to("chat.update")
        assert "ada@example.com is following up" in all_text(update.params["blocks"])
        assert "<@ada@example.com>" not in all_text(update.params["blocks"])
        services.slack.alerts.claim(sends["c6"], "U0SAM")  # a click on Slack's button
        rows = rows_of(client, "/dashboard/alerts?window=7d&download=alerts")
        state = {row[8]: (row[5], row[6].split(",")[0]) for row in rows[1:]}
        assert state[sends["c3"]] == ("claimed", "ada@example.com")
        assert state[sends["c6"]] == ("claimed", "U0SAM")
        assert state[sends["c4"]] == ("open", "")
        no_token = client.post(f"/dashboard/alerts/{sends['c4']}/resolve", data={})
        assert no_token.status_code == 403
    with services.db.read() as conn:
        row = stored.load_alert(conn, sends["c4"])
    assert row and row.resolved_by is None


def test_an_admin_sees_who_may_sign_in(make_services: ServicesFactory) -> None:
    services = make_services(**dashboard_overrides())
    with client_for(services) as client:
        sign_in(client, services, "root@example.com")
        page = client.get("/dashboard/people")
        assert page.status_code == 200 and "vic@example.com" in page.text
        assert page.headers["content-security-policy"].startswith("default-src 'none'; style-src 'nonce-")
        assert page.headers["cache-control"] == "no-store"
