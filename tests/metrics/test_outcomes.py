"""Outcomes by score band, end to end: events in, sends out, answers, outcome events (some
late), then the report; the kept follow-ups equal a rebuild, and survive erasure and retention."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import Services
from bot.metrics.outcomes import OutcomeReport, OutcomeSection, outcome_report
from bot.privacy.erasure import Eraser
from bot.privacy.retention import RetentionPurge
from bot.runtime.clock import FakeClock
from storage.models import Event, OutcomeLink, OutcomeRollup
from storage.outcomes import rebuild_outcomes
from tests.conftest import ServicesFactory
from tests.helpers import event, sends
from triggers.follow_ups import follow_ups

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
ROLLUPS = OutcomeRollup.__table__  # type: ignore[attr-defined]
OUTCOMES = {
    "churn": {"on": "subscription.cancelled", "within": "90d"},
    "repeat": {"on": "order.placed", "within": "60d"},
}


def phone(i: int) -> dict[str, str]:
    return {"phone": f"+1415555{i:04d}"}


def happened(services: Services, type_: str, contact: str, at: datetime) -> None:
    body = event(None, type_, contact=contact, details=phone(int(contact[1:])), properties={})
    [result] = services.ingestor.ingest([body | {"occurred_at": at.isoformat()}])
    assert result.status == "accepted"


@pytest.fixture
def followed(make_services: ServicesFactory, clock: FakeClock) -> tuple[Services, datetime]:
    """Four CSAT sends at T0. c0 answers 1, c1 and c2 answer 5, c3 never answers.
    c0 cancels 10 days after its answer; c2 cancelled before answering (not after it); c1
    cancels 91 days after (too late); c3's cancellation at T0 + 30 days arrives on day 95."""
    services = make_services(outcomes=OUTCOMES)
    services.ingestor.ingest([event(f"e{i}", contact=f"c{i}", details=phone(i)) for i in range(4)])
    services.dispatcher.run_once()
    t0 = clock.now()
    by_contact = {s.contact_id: s.id for s in sends(services.db)}
    clock.advance(HOUR)
    happened(services, "subscription.cancelled", "c2", t0 - DAY)
    for contact, score in (("c0", 1), ("c1", 5), ("c2", 5)):
        services.responses.record_rating(by_contact[contact], score, None, clock.now())
    answered = clock.now()
    clock.advance(10 * DAY)
    happened(services, "subscription.cancelled", "c0", clock.now())
    happened(services, "order.placed", "c1", clock.now())
    clock.set(answered + 91 * DAY)
    happened(services, "subscription.cancelled", "c1", clock.now())
    clock.set(t0 + 95 * DAY)
    happened(services, "subscription.cancelled", "c3", t0 + 30 * DAY)
    return services, t0


def report_at(services: Services, end: datetime, **kwargs: Any) -> OutcomeReport:
    with services.db.read() as conn:
        return outcome_report(conn, config=services.config, end=end, surveys=["support_csat"], **kwargs)


def section(report: OutcomeReport, outcome: str) -> OutcomeSection:
    [found] = [s for s in report.sections if s.outcome == outcome]
    return found


def counts(s: OutcomeSection) -> dict[str, tuple[int, int]]:
    return {b.band: (b.n, b.done) for b in [*s.bands, s.no_answer]}


def test_each_band_counts_the_outcome_within_its_horizon_after_the_answer(
    followed: tuple[Services, datetime],
) -> None:
    services, t0 = followed
    churn = section(report_at(services, t0 + 100 * DAY), "churn")
    assert counts(churn) == {"low": (1, 1), "middle": (0, 0), "high": (2, 0), "no_answer": (1, 1)}
    assert churn.response_rate == 75.0
    assert churn.contrast is not None and churn.contrast.ratio is None, "no promoter churned: no ratio"
    assert churn.contrast.difference.test == "fisher", "two answers a band: Fisher's exact test"
    repeat = section(report_at(services, t0 + 100 * DAY), "repeat")
    assert counts(repeat)["high"] == (2, 1)


def test_a_response_counts_only_once_its_horizon_has_passed(followed: tuple[Services, datetime]) -> None:
    services, t0 = followed
    before = section(report_at(services, t0 + HOUR + 90 * DAY - timedelta(seconds=1)), "churn")
    assert counts(before) == {"low": (0, 0), "middle": (0, 0), "high": (0, 0), "no_answer": (1, 1)}, (
        "90 days after the answers are not over yet; they are for the send nobody answered"
    )
    repeat = section(report_at(services, t0 + HOUR + 60 * DAY), "repeat")
    assert counts(repeat)["high"] == (2, 1), "60 days over for the repeat outcome: counted"


def test_the_kept_follow_ups_equal_a_rebuild_from_the_rows(followed: tuple[Services, datetime]) -> None:
    services, t0 = followed
    kept = report_at(services, t0 + 100 * DAY)
    with services.db.read() as conn:
        rollups = sorted(conn.execute(select(ROLLUPS).where(ROLLUPS.c.n != 0)))
    with services.db.write() as conn:
        rebuild_outcomes(conn, follow_ups(services.config.outcomes), t0)
    with services.db.read() as conn:
        rebuilt_rollups = sorted(conn.execute(select(ROLLUPS)))
    assert rebuilt_rollups == rollups
    assert report_at(services, t0 + 100 * DAY) == kept


def test_erased_contacts_and_purged_events_keep_counting(
    followed: tuple[Services, datetime], clock: FakeClock
) -> None:
    services, t0 = followed
    kept = report_at(services, t0 + 100 * DAY)
    eraser = Eraser(services.db, services.config, services.clock, services.address_keys)
    eraser.forget(["c0", "c3"])
    clock.set(t0 + 400 * DAY)
    RetentionPurge(services.db, services.config, clock).run()
    with services.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(Event.__table__)).scalar_one() == 0  # type: ignore[attr-defined]
    assert report_at(services, t0 + 100 * DAY) == kept
    with services.db.write() as conn:
        rebuild_outcomes(conn, follow_ups(services.config.outcomes), clock.now())
    assert report_at(services, t0 + 100 * DAY) == kept, "a rebuild reads the kept outcome events"


def test_a_changed_score_moves_its_follow_up_to_the_new_band(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = make_services(outcomes=OUTCOMES)
    services.ingestor.ingest([event("e0", contact="c0", details=phone(0))])
    services.dispatcher.run_once()
    [send] = sends(services.db)
    services.responses.record_rating(send.id, 1, None, clock.now())
    services.responses.record_rating(send.id, 4, None, clock.now() + timedelta(minutes=1))
    answered = clock.now()
    happened(services, "subscription.cancelled", "c0", clock.advance(2 * DAY))
    churn = section(report_at(services, answered + 91 * DAY), "churn")
    assert counts(churn)["low"] == (0, 0) and counts(churn)["high"] == (1, 1)
    with services.db.read() as conn:
        links = conn.execute(select(func.count()).select_from(OutcomeLink.__table__)).scalar_one()  # type: ignore[attr-defined]
    assert links == 2, "one follow-up per send and outcome"
