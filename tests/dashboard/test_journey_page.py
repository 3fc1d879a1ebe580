"""The dashboard's journey page: stages x periods with interval and n, the CX index beside its
parts, the numbers of `surveybot stats --by`, each table as CSV, and who may open it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
from click.testing import CliRunner

from bot.app import Services
from bot.cli.main import cli
from tests.conftest import ServicesFactory
from tests.dashboard.conftest import dashboard_overrides, sign_in
from tests.dashboard.test_pages import answered, client_for, rows_of
from tests.helpers import event, write_config

JOURNEY = {
    "journey": [
        {"stage": "support", "surveys": ["support_csat"]},
        {"stage": "loyalty", "surveys": ["delivery_nps"]},
    ],
    "index": {"weights": {"support_csat": 0.6, "delivery_nps": 0.4}},
}
NPS_SCORES = [10, 9, 7, 3]  # NPS (2 - 1) / 4 = +25.0, on the index's scale 62.5


def journey_answered(services: Services) -> None:
    """The support scores of the overview tests, and four NPS answers after deliveries."""
    answered(services)
    for i, score in enumerate(NPS_SCORES):
        [result] = services.ingestor.ingest([event(f"d-{i}", "order.delivered", contact=f"n{i}")])
        send_id = result.decisions[0].send_id
        assert send_id is not None
        services.dispatcher.run_once()
        assert services.responses.record_rating(send_id, score, None, services.clock.now()) == "recorded"
    services.clock.advance(timedelta(minutes=1))


def journey_services(make_services: ServicesFactory, timezone: str = "UTC") -> Services:
    overrides = dashboard_overrides(**JOURNEY)
    services = make_services(**overrides | {"dashboard": overrides["dashboard"] | {"timezone": timezone}})
    journey_answered(services)
    return services


def stats_by(services: Services, tmp_path: Path, *args: str) -> dict[str, Any]:
    """What `surveybot stats --by ... --json` prints on the same database."""
    config = write_config(
        tmp_path, services.config.storage.url, dashboard=services.config.dashboard.model_dump(mode="json"),
        **JOURNEY,
    )  # fmt: skip
    end = services.clock.now().isoformat()
    result = CliRunner().invoke(cli, ["stats", "--json", "--end", end, "--config", str(config), *args])
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = orjson.loads(result.output)
    return document


def test_the_page_shows_the_numbers_of_stats_by_month(make_services: ServicesFactory, tmp_path: Path) -> None:
    services = journey_services(make_services)
    document = stats_by(services, tmp_path, "--by", "month", "--periods", "3")
    [csat] = document["stages"][0]["surveys"]
    november = csat["periods"][-1]
    assert (november["n"], november["value"]) == (6, 50.0)
    index = document["index"]["periods"][-1]
    assert abs(index["value"] - (0.6 * 50.0 + 0.4 * 62.5)) < 1e-9
    with client_for(services) as client:
        sign_in(client, services, "vic@example.com")
        page = client.get("/dashboard/journey?by=month&periods=3")
        assert page.status_code == 200
        assert "2026-11 (to date)" in page.text and "2026-09" in page.text
        [header, *rows] = rows_of(client, "/dashboard/journey?by=month&periods=3&download=journey")
        assert header == ["stage", "survey", "metric", "2026-09", "2026-10", "2026-11 (to date)"]
        low, high = f"{november['low']:.1f}%", f"{november['high']:.1f}%"
        assert rows[0][:5] == ["support", "support_csat", "CSAT", "no answers", "no answers"]
        assert rows[0][5] == f"50.0% ({low} to {high}), n=6"
        assert rows[1][:3] == ["loyalty", "delivery_nps", "NPS"] and rows[1][5].startswith("'+25.0 (")
        [header, *rows] = rows_of(client, "/dashboard/journey?by=month&periods=3&download=index")
        assert header[1:] == ["weight", "2026-09", "2026-10", "2026-11 (to date)"]
        assert rows[0][:2] == ["CX index", "1"]
        assert rows[0][4] == f"{index['value']:.1f} ({index['low']:.1f} to {index['high']:.1f})"
        assert rows[0][2] == "no index"  # September: no answer for either part
        assert rows[1] == ["support_csat", "0.6", "no answers", "no answers", "50.0, n=6"]
        assert rows[2] == ["delivery_nps", "0.4", "no answers", "no answers", "62.5, n=4"]
        assert "small sample" in page.text and "delta method" in page.text


def test_weeks_follow_the_dashboards_time_zone(make_services: ServicesFactory, tmp_path: Path) -> None:
    services = journey_services(make_services, timezone="Asia/Kolkata")
    document = stats_by(services, tmp_path, "--by", "week", "--periods", "2")
    assert document["timezone"] == "Asia/Kolkata"
    assert document["periods"][-1]["start"] == "2026-11-16T00:00:00+05:30"
    with client_for(services) as client:
        sign_in(client, services, "vic@example.com")
        [header, *_] = rows_of(client, "/dashboard/journey?by=week&periods=2&download=journey")
    assert header[3:] == ["2026-W46", "2026-W47 (to date)"]


def test_a_bad_choice_is_refused_and_a_stranger_is_sent_to_sign_in(make_services: ServicesFactory) -> None:
    services = journey_services(make_services)
    with client_for(services) as client:
        answer = client.get("/dashboard/journey", follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/dashboard/login"
        sign_in(client, services, "vic@example.com")
        bad_kind = client.get("/dashboard/journey?by=year")
        assert bad_kind.status_code == 400
        assert "by: &#39;year&#39; is not week, month or quarter" in bad_kind.text
        too_many = client.get("/dashboard/journey?periods=99")
        assert too_many.status_code == 400 and "from 1 to 60" in too_many.text
        default = client.get("/dashboard/journey")
        assert default.status_code == 200 and "2025-12" in default.text  # 12 months by default
        assert '<a href="/dashboard/journey" aria-current="page">Journey</a>' in default.text
