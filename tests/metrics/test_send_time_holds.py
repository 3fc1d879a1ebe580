"""Holds in digests count what was held at send time too: an opt-out since scheduling (a
decision recorded by the dispatcher) and a `cancel_on` event (a `cancelled` decision)."""

from __future__ import annotations

from datetime import timedelta

from bot.app import Services
from bot.metrics.report import stats_report
from bot.runtime.clock import FakeClock
from storage import queries
from storage.metrics import holds_by_reason
from tests.helpers import decisions, event


def test_send_time_opt_outs_and_cancels_are_in_the_holds(services: Services, clock: FakeClock) -> None:
    services.ingestor.ingest([event("e1", contact="c1")])
    services.ingestor.ingest(
        [event("e2", contact="c2", details={"phone": "+14155550199"}, properties={"ticket_id": "T-2"})]
    )
    with services.db.write() as conn:  # c1 opts out after the survey was scheduled
        key = services.address_keys.key("sms", "+14155550100")
        queries.add_opt_out(conn, key=key, channel="sms", source="test", now=clock.now())
    services.ingestor.ingest(
        [event("r2", type_="ticket.reopened", contact="c2", properties={"ticket_id": "T-2"})]
    )
    services.dispatcher.run_once()

    held = [(d.outcome, d.reason) for d in decisions(services.db) if d.outcome != "scheduled"]
    assert sorted(held) == [("cancelled", "cancel_on"), ("suppressed", "opted_out")]
    end = clock.now() + timedelta(seconds=1)
    with services.db.read() as conn:
        rows = holds_by_reason(conn, surveys=["support_csat"], start=end - timedelta(days=1), end=end)
        report = stats_report(conn, config=services.config, end=end, window=timedelta(days=1))
    assert sorted((r.reason, r.count) for r in rows) == [("cancelled", 1), ("opted_out", 1)]
    [csat] = [s for s in report.sections if s.survey == "support_csat"]
    assert sorted(csat.holds) == [("cancelled", 1), ("opted_out", 1)]
