"""Events in, decisions out, through the one ingestion path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import Services
from bot.runtime.clock import FakeClock
from storage import intake
from storage.models import Contact, Event
from tests.conftest import BACKENDS, ServicesFactory
from tests.helpers import decisions, event, sends, sms_trigger


def test_an_event_schedules_its_trigger_and_stores_the_decision(services: Services, clock: FakeClock) -> None:
    [result] = services.ingestor.ingest([event("e1")])
    assert result.status == "accepted"
    [decision] = result.decisions
    assert (decision.trigger, decision.outcome, decision.due_at) == (
        "csat_after_ticket",
        "scheduled",
        clock.now(),
    )
    [send] = sends(services.db)
    assert (send.id, send.channel, send.to_address, send.status) == (
        decision.send_id,
        "sms",
        "+14155550100",
        "scheduled",
    )
    assert [d.outcome for d in decisions(services.db)] == ["scheduled"]


def test_the_same_event_id_twice_changes_nothing(services: Services) -> None:
    services.ingestor.ingest([event("e1")])
    [again] = services.ingestor.ingest([event("e1", properties={"ticket_id": "T-9"})])
    assert again.status == "duplicate" and again.decisions == []
    assert len(sends(services.db)) == 1


def test_duplicates_inside_one_batch_count_once(services: Services) -> None:
    results = services.ingestor.ingest([event("e1"), event("e1")])
    assert [r.status for r in results] == ["accepted", "duplicate"]
    assert len(sends(services.db)) == 1


def test_events_without_id_are_accepted_but_not_deduplicated(services: Services) -> None:
    results = services.ingestor.ingest([event(None), event(None)])
    assert [r.status for r in results] == ["accepted", "accepted"]
    assert len(decisions(services.db)) == 2


def test_a_bad_event_in_a_batch_stores_nothing_and_sinks_nothing_else(services: Services) -> None:
    bad = event("e2", details={"phone": "not a phone"})
    results = services.ingestor.ingest([event("e1"), bad, event("e3", contact="c3")])
    assert [r.status for r in results] == ["accepted", "invalid", "accepted"]
    assert results[1].error_field == "contact.phone"
    assert "E.164" in (results[1].error or "")
    assert len({s.event_pk for s in sends(services.db)}) == 2


def test_phone_numbers_are_normalised_to_e164(services: Services) -> None:
    services.ingestor.ingest([event("e1", details={"phone": "+1 (415) 555-0100"})])
    assert sends(services.db)[0].to_address == "+14155550100"


def test_unknown_event_types_are_accepted_and_match_nothing(services: Services) -> None:
    [result] = services.ingestor.ingest([event("e1", type_="invoice.paid")])
    assert result.status == "accepted" and result.decisions == []


def test_delay_sets_the_due_time_from_when_the_event_occurred(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = make_services(triggers=[sms_trigger(delay="10m")])
    occurred = clock.now() - timedelta(minutes=4)
    [result] = services.ingestor.ingest([event("e1", occurred_at=occurred.isoformat())])
    assert result.decisions[0].due_at == occurred + timedelta(minutes=10)


def test_an_event_older_than_max_age_is_stale(make_services: ServicesFactory, clock: FakeClock) -> None:
    services = make_services(triggers=[sms_trigger(max_age="2h")])
    old = (clock.now() - timedelta(hours=3)).isoformat()
    [result] = services.ingestor.ingest([event("e1", occurred_at=old)])
    assert (result.decisions[0].outcome, result.decisions[0].reason) == ("suppressed", "stale")
    assert sends(services.db) == []


def test_when_conditions_must_all_hold(make_services: ServicesFactory) -> None:
    when = {"properties.priority": ["normal", "high"], "properties.channel": {"not": "phone"}}
    services = make_services(
        triggers=[
            {"name": "t", "on": "ticket.solved", "survey": "support_csat", "channels": ["sms"], "when": when}
        ]
    )
    results = services.ingestor.ingest(
        [
            event("ok", properties={"priority": "high", "channel": "chat"}),
            event("low", contact="c2", properties={"priority": "low", "channel": "chat"}),
            event("phone", contact="c3", properties={"priority": "normal", "channel": "phone"}),
            event("none", contact="c4", properties={"priority": "normal"}),
        ]
    )
    assert [(r.decisions[0].outcome, r.decisions[0].reason) for r in results] == [
        ("scheduled", None),
        ("suppressed", "conditions"),
        ("suppressed", "conditions"),
        ("scheduled", None),
    ]


def test_sampling_is_deterministic_per_contact_and_survey(make_services: ServicesFactory) -> None:
    services = make_services(
        triggers=[
            {"name": "t", "on": "ticket.solved", "survey": "support_csat", "channels": ["sms"], "sample": 0.5}
        ]
    )
    first = services.ingestor.ingest([event(f"a{i}", contact=f"c{i}") for i in range(200)])
    again = services.ingestor.ingest([event(f"b{i}", contact=f"c{i}") for i in range(200)])
    sampled = [r.decisions[0].reason != "sampled_out" for r in first]
    assert [r.decisions[0].reason != "sampled_out" for r in again] == sampled
    assert 70 < sum(sampled) < 130  # about half, by a hash


def test_channel_is_the_first_with_an_address(services: Services) -> None:
    [result] = services.ingestor.ingest(
        [
            {
                "id": "e1",
                "type": "ticket.solved",
                "properties": {},
                "contact": {"id": "c1", "email": "ada@example.com"},
            }
        ]
    )
    [send] = sends(services.db)
    assert (send.channel, send.to_address) == ("email", "ada@example.com")
    assert result.decisions[0].outcome == "scheduled"


def test_no_address_and_opted_out_are_told_apart(services: Services, clock: FakeClock) -> None:
    from storage import queries

    with services.db.write() as conn:
        key = services.address_keys.key("sms", "+14155550100")
        queries.add_opt_out(conn, key=key, channel="sms", source="test", now=clock.now())
    results = services.ingestor.ingest(
        [
            {"id": "e1", "type": "ticket.solved", "contact": {"id": "c1"}},
            {"id": "e2", "type": "ticket.solved", "contact": {"id": "c2", "phone": "+14155550100"}},
        ]
    )
    assert [r.decisions[0].reason for r in results] == ["no_address", "opted_out"]


def test_contact_details_from_earlier_events_are_remembered(services: Services) -> None:
    services.ingestor.ingest(
        [{"id": "e1", "type": "signup", "contact": {"id": "c1", "phone": "+14155550100"}}]
    )
    [result] = services.ingestor.ingest([{"id": "e2", "type": "ticket.solved", "contact": {"id": "c1"}}])
    assert result.decisions[0].outcome == "scheduled"
    assert sends(services.db)[0].to_address == "+14155550100"


def test_cancel_on_calls_off_a_pending_send_with_matching_properties(services: Services) -> None:
    services.ingestor.ingest(
        [
            event("e1", properties={"ticket_id": "T-1"}),
            event("e2", type_="order.delivered", properties={"ticket_id": "T-1"}),
        ]
    )
    [other] = services.ingestor.ingest(
        [event("r0", type_="ticket.reopened", properties={"ticket_id": "T-2"})]
    )
    assert other.decisions == []
    [reopen] = services.ingestor.ingest(
        [event("r1", type_="ticket.reopened", properties={"ticket_id": "T-1"})]
    )
    assert [(d.trigger, d.outcome) for d in reopen.decisions] == [("csat_after_ticket", "cancelled")]
    statuses = {s.trigger: s.status for s in sends(services.db)}
    assert statuses == {"csat_after_ticket": "cancelled", "nps_after_delivery": "scheduled"}


def test_cancel_in_the_same_batch_cancels_the_send_just_scheduled(services: Services) -> None:
    results = services.ingestor.ingest([event("e1"), event("r1", type_="ticket.reopened")])
    assert results[1].decisions[0].outcome == "cancelled"
    assert [s.status for s in sends(services.db)] == ["cancelled"]


def test_occurred_at_defaults_to_now_and_must_be_iso(services: Services, clock: FakeClock) -> None:
    [bad] = services.ingestor.ingest([event("e1", occurred_at="yesterday")])
    assert bad.status == "invalid" and bad.error_field == "occurred_at"
    [good] = services.ingestor.ingest([event("e2")])
    assert good.decisions[0].due_at == clock.now()


def test_decisions_use_aware_utc_times(services: Services) -> None:
    services.ingestor.ingest([event("e1", occurred_at="2026-11-22T07:00:00-05:00")])
    [send] = sends(services.db)
    assert send.due_at.tzinfo is not None
    assert send.due_at == max(datetime(2026, 11, 22, 12, 0, tzinfo=UTC), send.due_at)


def test_a_send_called_off_in_its_own_batch_keeps_its_reason_wherever_it_stands(services: Services) -> None:
    services.ingestor.ingest([event("e1"), event("e2", contact="c2"), event("r1", type_="ticket.reopened")])
    services.ingestor.ingest([event("e3", contact="c3"), event("e4", contact="c4")])
    reopened = event("r6", type_="ticket.reopened", contact="c6")
    services.ingestor.ingest([event("e5", contact="c5"), event("e6", contact="c6"), reopened])
    assert sorted((s.contact_id, s.status, s.reason) for s in sends(services.db)) == [
        ("c1", "cancelled", "cancel_on"),
        ("c2", "scheduled", None),
        ("c3", "scheduled", None),
        ("c4", "scheduled", None),
        ("c5", "scheduled", None),
        ("c6", "cancelled", "cancel_on"),
    ]


def test_a_full_batch_stores_every_text_and_time_as_sent(services: Services, clock: FakeClock) -> None:
    """A batch big enough to be written in bulk (COPY on PostgreSQL) keeps tabs, newlines,
    backslashes, quotes and non-ASCII text in properties and names, and each event's time."""
    awkward = 'tab\there, line\nbreak, back\\slash \\N, "quoted", naïve 東京 🙂'
    occurred = clock.now() - timedelta(minutes=3)
    batch = [
        event(
            f"e{i}",
            contact=f"c{i}",
            details={"name": f"{awkward} {i}", "phone": f"+1415555{i:04d}"},
            properties={"note": awkward, "nested": {"list": [i, awkward, None, True]}},
            occurred_at=occurred.isoformat(),
        )
        for i in range(20)
    ]
    results = services.ingestor.ingest(batch)
    assert {r.status for r in results} == {"accepted"}
    with services.db.read() as conn:
        stored = {row.event_id: row for row in conn.execute(select(Event.__table__))}  # type: ignore[attr-defined]
        names = dict(conn.execute(select(Contact.__table__.c.id, Contact.__table__.c.name)).all())  # type: ignore[attr-defined]
    assert len(stored) == 20
    for i in range(20):
        row = stored[f"e{i}"]
        assert row.properties == {"note": awkward, "nested": {"list": [i, awkward, None, True]}}
        assert row.occurred_at == occurred and row.received_at == clock.now()
        assert names[f"c{i}"] == f"{awkward} {i}"
    assert sorted(s.to_address for s in sends(services.db)) == [f"+1415555{i:04d}" for i in range(20)]


@pytest.mark.parametrize("db_url", [b for b in BACKENDS if b == "postgres"], indirect=True)
@pytest.mark.parametrize("others", [0, 9], ids=["alone", "in a batch written by COPY"])
def test_an_event_id_another_process_stored_first_under_another_contact_is_a_duplicate(
    make_services: ServicesFactory, monkeypatch: pytest.MonkeyPatch, others: int
) -> None:
    """PostgreSQL locks a batch's contacts, not its event ids: a racer storing the same id
    under another contact between our check and our insert is found by the unique index, and
    the batch is decided again with its ids locked. The id is a duplicate; the rest stands."""
    ours, theirs = make_services(), make_services()
    merge = intake.merge_contacts
    raced: list[Any] = []

    def merge_after_the_racer(*args: Any, **kwargs: Any) -> Any:
        if not raced:  # once, while our transaction has checked for duplicates and holds c1
            raced.append(None)
            raced[0] = theirs.ingestor.ingest([event("shared", contact="c2")])
        return merge(*args, **kwargs)

    monkeypatch.setattr(intake, "merge_contacts", merge_after_the_racer)
    batch = [event("shared", contact="c1")] + [event(f"o{i}", contact=f"d{i}") for i in range(others)]
    results = ours.ingestor.ingest(batch)

    assert [r.status for r in raced[0]] == ["accepted"]
    assert [r.status for r in results] == ["duplicate"] + ["accepted"] * others
    assert results[0].decisions == []
    stored = {(s.contact_id, s.status) for s in sends(ours.db)}
    assert stored == {("c2", "scheduled")} | {(f"d{i}", "scheduled") for i in range(others)}
