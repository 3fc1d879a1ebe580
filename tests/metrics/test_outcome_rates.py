"""Outcome rates hold known populations, and churn per period follows the field's definition.

The synthetic population is drawn with a fixed seed: per NPS band a known churn rate (30% of
detractors, 18% of passives, 10% of promoters); the computed rates, their Wilson intervals and
the test of lowest against highest must hold them. The churn example is the field's own: 100
customers at the start of the month, 20 of them lost in it: 20%.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import Services
from bot.metrics.outcomes import calendar_periods, outcome_report
from storage.bulk import bulk_insert
from storage.db import Database
from storage.outcome_reads import churn_periods
from storage.outcomes import EVENTS as KEPT_EVENTS
from storage.outcomes import RESPONSES, SENDS, rebuild_outcomes
from tests.conftest import ServicesFactory
from tests.helpers import event
from triggers.follow_ups import follow_ups

T0 = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
DAY = timedelta(days=1)
RATES = {"low": 0.30, "middle": 0.18, "high": 0.10}
SCORES = {"low": range(0, 7), "middle": range(7, 9), "high": range(9, 11)}


def populate(db: Database, *, per_band: int, seed: int) -> dict[str, int]:
    """Answered NPS sends spread over 30 days; each contact cancels within 90 days of its
    answer with its band's rate, or else after the horizon (which must not count)."""
    rng = random.Random(seed)
    sends, responses, events = [], [], []
    done = dict.fromkeys(RATES, 0)
    for band, rate in RATES.items():
        for i in range(per_band):
            key = f"{band}{i}"
            answered = T0 + timedelta(seconds=rng.randrange(30 * 86400))
            sends.append({"id": f"s_{key}", "event_pk": f"e_{key}", "trigger": "t", "survey": "delivery_nps",
                          "metric": "nps", "contact_id": f"c_{key}", "channel": "email",
                          "status": "delivered",
                          "attempts": 1, "due_at": answered, "created_at": answered, "updated_at": answered,
                          "sent_at": answered - timedelta(hours=1)})  # fmt: skip
            responses.append({"send_id": f"s_{key}", "contact_id": f"c_{key}", "survey": "delivery_nps",
                              "metric": "nps", "channel": "email", "score": rng.choice(SCORES[band]),
                              "counted": True, "received_at": answered, "updated_at": answered})  # fmt: skip
            churns = rng.random() < rate
            done[band] += churns
            days = rng.uniform(0.01, 89.9) if churns else rng.uniform(90.1, 200)
            events.append({"event_pk": f"x_{key}", "contact_id": f"c_{key}", "type": "subscription.cancelled",
                           "occurred_at": answered + days * DAY})  # fmt: skip
    with db.write() as conn:
        bulk_insert(conn, SENDS, sends)
        bulk_insert(conn, RESPONSES, responses)
        bulk_insert(conn, KEPT_EVENTS, events)
    return done


@pytest.mark.parametrize("seed", [7, 2026])
def test_known_rates_per_band_are_held_by_the_rates_and_their_intervals(
    make_services: ServicesFactory, seed: int
) -> None:
    services = make_services(outcomes={"churn": {"on": "subscription.cancelled", "within": "90d"}})
    populate(services.db, per_band=1500, seed=seed)
    with services.db.write() as conn:
        rebuild_outcomes(conn, follow_ups(services.config.outcomes), T0)
    with services.db.read() as conn:
        report = outcome_report(conn, config=services.config, end=T0 + 200 * DAY, surveys=["delivery_nps"])
    [churn] = report.sections
    for band in churn.bands:
        assert band.n == 1500
        low, high = band.interval or (0, 0)
        assert low <= 100 * RATES[band.band] <= high, (
            f"{band.band}: {band.rate:.1f}% ({low:.1f} to {high:.1f})"
        )
        assert band.rate == pytest.approx(100 * RATES[band.band], abs=3.5)
    contrast = churn.contrast
    assert contrast is not None and contrast.ratio is not None
    assert 2.3 < contrast.ratio < 3.9
    assert contrast.difference.test == "z" and contrast.difference.beyond_noise
    assert churn.no_answer.n == 0 and churn.response_rate == 100.0


def test_the_same_rates_in_each_band_are_within_noise(make_services: ServicesFactory) -> None:
    services = make_services(outcomes={"churn": {"on": "subscription.cancelled", "within": "90d"}})
    RATES.update(low=0.2, middle=0.2, high=0.2)
    try:
        populate(services.db, per_band=400, seed=11)
    finally:
        RATES.update(low=0.30, middle=0.18, high=0.10)
    with services.db.write() as conn:
        rebuild_outcomes(conn, follow_ups(services.config.outcomes), T0)
    with services.db.read() as conn:
        report = outcome_report(conn, config=services.config, end=T0 + 200 * DAY, surveys=["delivery_nps"])
    contrast = report.sections[0].contrast
    assert contrast is not None and not contrast.difference.beyond_noise


def churn_events(services: Services) -> None:
    """Month of March 2026: 100 customers at its start (102 started before it, 2 of those
    cancelled in February); 20 of the 100 cancel in March; 5 start and 1 of them cancels in
    March (not customers at its start); 3 cancel in April."""
    feb, mar, apr = (datetime(2026, m, 10, tzinfo=UTC) for m in (2, 3, 4))
    bodies = []
    for i in range(102):
        bodies.append(
            churn_event(
                f"a{i}",
                "subscription.started",
                datetime(2026, 1, 1, tzinfo=UTC) + i * 600 * timedelta(seconds=1),
            )
        )
        if i < 2:
            bodies.append(churn_event(f"a{i}", "subscription.cancelled", feb))
        elif i < 22:
            bodies.append(churn_event(f"a{i}", "subscription.cancelled", mar))
        elif i < 25:
            bodies.append(churn_event(f"a{i}", "subscription.cancelled", apr))
    for i in range(5):
        bodies.append(churn_event(f"b{i}", "checkout.completed", mar))
    bodies.append(churn_event("b0", "subscription.cancelled", mar + DAY))
    results = services.ingestor.ingest(bodies)
    assert {r.status for r in results} == {"accepted"}


def churn_event(contact: str, type_: str, at: datetime) -> dict[str, object]:
    return event(None, type_, contact=contact, details={"phone": None, "email": f"{contact}@example.com"},
                 properties={}) | {"occurred_at": at.isoformat()}  # fmt: skip


def test_churn_per_month_is_customers_lost_over_customers_at_its_start(
    make_services: ServicesFactory,
) -> None:
    services = make_services(outcomes={"churn": {"on": "subscription.cancelled", "within": "90d"}})
    services.clock.set(datetime(2026, 4, 20, tzinfo=UTC))  # type: ignore[attr-defined]
    churn_events(services)
    periods = calendar_periods(datetime(2026, 5, 1, tzinfo=UTC), timedelta(days=89), "month", "UTC")
    assert [p[0].month for p in periods] == [2, 3, 4]
    with services.db.read() as conn:
        feb, mar, apr = churn_periods(conn, periods)
    assert (mar.customers, mar.lost) == (100, 20), "the field's example: 20 of 100, 20%"
    assert (apr.customers, apr.lost) == (84, 3), "80 left of March's, and 4 who started in it"
    assert (feb.customers, feb.lost) == (102, 2)
    with services.db.write() as conn:
        rebuild_outcomes(conn, follow_ups(services.config.outcomes), T0)
    with services.db.read() as conn:
        assert churn_periods(conn, periods) == [feb, mar, apr], "a rebuild counts the same"


def test_periods_are_cut_at_local_midnight() -> None:
    end = datetime(2026, 7, 15, tzinfo=UTC)
    months = calendar_periods(end, timedelta(days=60), "month", "America/New_York")
    assert months[0][0] == datetime(2026, 6, 1, 4, tzinfo=UTC), "midnight in New York (EDT)"
    assert months[-1][1] == end
    quarters = calendar_periods(end, timedelta(days=150), "quarter", "UTC")
    assert [q[0].month for q in quarters] == [4, 7]
    weeks = calendar_periods(end, timedelta(days=14), "week", "UTC")
    assert all(w[0].weekday() == 0 for w in weeks)
