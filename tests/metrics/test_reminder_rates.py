"""`stats`, digests and the report show the response rate of first asks and of reminders apart."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rich.console import Console

from bot.app import Services
from bot.cli.digest_text import render_digest_text
from bot.cli.stats import print_stats_table, report_json
from bot.metrics.report import stats_report
from bot.metrics.statistics import wilson_interval
from bot.runtime.clock import FakeClock
from bot.slack.digest_blocks import render_digest_blocks
from tests.conftest import ServicesFactory
from tests.dispatch.test_reminders import reminding
from tests.helpers import event, sends, sms_trigger

HOUR = timedelta(hours=1)


@pytest.fixture
def answered(make_services: ServicesFactory, clock: FakeClock) -> Services:
    """Four first asks: c0 answers within the hour (no reminder goes); c1 answers its reminder;
    c2 and c3 answer nothing, reminded or not."""
    services = make_services(surveys=reminding(), triggers=[sms_trigger()])
    services.ingestor.ingest(
        [event(f"e{i}", contact=f"c{i}", details={"phone": f"+1415555010{i}"}) for i in range(4)]
    )
    services.dispatcher.run_once()
    by_contact = {s.contact_id: s.id for s in sends(services.db)}
    clock.advance(HOUR)
    services.responses.record_rating(by_contact["c0"], 5, None, clock.now())
    clock.advance(23 * HOUR)
    assert services.reminders is not None
    services.reminders.run_once()
    clock.advance(HOUR)
    services.responses.record_rating(by_contact["c1"], 4, None, clock.now())
    clock.advance(HOUR)
    return services


def test_first_asks_and_reminders_have_rates_of_their_own(answered: Services, clock: FakeClock) -> None:
    with answered.db.read() as conn:
        report = stats_report(conn, config=answered.config, end=clock.now(), window=timedelta(days=7))
    [csat] = [s for s in report_json(report)["surveys"] if s["survey"] == "support_csat"]
    first, again = csat["reminders"]["first_asks"], csat["reminders"]["reminders"]
    assert (first["sent"], first["responded"], first["response_rate"]) == (4, 1, 25.0)
    assert (again["sent"], again["responded"]) == (3, 1)
    assert again["response_rate"] == pytest.approx(100 / 3)
    low, high = wilson_interval(1, 3)
    assert (again["low"], again["high"]) == pytest.approx((100 * low, 100 * high))
    assert (csat["sent"], csat["responded"]) == (4, 2), "the overall rate counts each survey once"
    [nps] = [s for s in report_json(report)["surveys"] if s["survey"] == "delivery_nps"]
    assert nps["reminders"] is None, "a survey without a reminder shows no split"


def test_the_digest_and_the_stats_table_say_both_rates(answered: Services, clock: FakeClock) -> None:
    with answered.db.read() as conn:
        report = stats_report(conn, config=answered.config, end=clock.now(), window=timedelta(days=7))
    low, high = (100 * x for x in wilson_interval(1, 4))
    first = f"first asks 25.0% (95% interval {low:.1f}% to {high:.1f}%, 1 of 4 first asks)"
    assert first in render_digest_text(report)
    slack = "\n".join(b["text"]["text"] for b in render_digest_blocks(report) if b["type"] == "section")
    assert first in slack and "1 of 3 reminders" in slack
    console = Console(width=400, record=True)
    print_stats_table(report, console)
    assert "1 of 3 reminders" in console.export_text()


def test_a_survey_with_a_reminder_and_no_sends_says_none_sent(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = make_services(surveys=reminding(), triggers=[sms_trigger()])
    with services.db.read() as conn:
        report = stats_report(conn, config=services.config, end=clock.now(), window=timedelta(days=7))
    assert "answered: first asks none sent; reminders none sent" in render_digest_text(report)
