"""One contact's flood of events cannot make every later batch read its whole history: the
history a decision reads is bounded whatever the policy, and the decisions stay right."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.app import Services
from bot.runtime.clock import FakeClock
from storage import queries
from storage.queries import MAX_HISTORY_PER_CONTACT
from tests.conftest import ServicesFactory
from tests.helpers import event, sends
from triggers.policy import PolicyState

FLOOD = MAX_HISTORY_PER_CONTACT + 100


@pytest.fixture
def history_read(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, int]]:
    """Per ingested batch, how many past sends of each contact the decisions were given."""
    seen: list[dict[str, int]] = []
    real = queries.load_policy_state

    def recording(*args: Any, **kwargs: Any) -> PolicyState:
        state = real(*args, **kwargs)
        seen.append({contact: len(history) for contact, history in state.sends.items()})
        return state

    monkeypatch.setattr(queries, "load_policy_state", recording)
    return seen


def flood(services: Services, contact: str = "flood") -> None:
    events = [event(f"f{i}", contact=contact, properties={"ticket_id": f"T-{i}"}) for i in range(FLOOD)]
    for start in range(0, FLOOD, 1000):
        services.ingestor.ingest(events[start : start + 1000])


def test_with_no_cooldown_or_cap_a_flooded_contacts_history_is_not_read(
    services: Services, history_read: list[dict[str, int]]
) -> None:
    flood(services)
    assert len(sends(services.db)) == FLOOD
    history_read.clear()

    [result] = services.ingestor.ingest([event("next", contact="flood")])

    assert [d.outcome for d in result.decisions] == ["scheduled"]
    assert history_read == [{}]  # nothing for the gates to compare with, so nothing read


def test_whatever_the_policy_a_decision_reads_a_bounded_history(
    make_services: ServicesFactory, history_read: list[dict[str, int]]
) -> None:
    flood(make_services())  # while the policy let everything through
    strict = make_services(throttle={"contact_cooldown": "1h"})  # then a cooldown was set
    history_read.clear()

    [flooded, other] = strict.ingestor.ingest([event("next", contact="flood"), event("o1", contact="other")])

    assert [(d.outcome, d.reason) for d in flooded.decisions] == [("suppressed", "contact_cooldown")]
    assert [d.outcome for d in other.decisions] == ["scheduled"]
    assert history_read == [{"flood": MAX_HISTORY_PER_CONTACT}]


def test_the_bounded_history_is_the_latest_and_each_contact_gets_its_own(
    services: Services, clock: FakeClock
) -> None:
    start = clock.now()
    for hour in range(3):
        services.ingestor.ingest([event(f"e{hour}", contact="c1")])
        clock.advance(timedelta(hours=1))
    services.ingestor.ingest([event("other", contact="c2")])
    with services.db.read() as conn:
        state = queries.load_policy_state(
            conn,
            contact_ids=["c1", "c2"],
            window=(start - timedelta(days=1), start + timedelta(days=1)),
            address_keys=[],
            per_contact=2,
        )
    assert sorted((p.due_at for p in state.sends["c1"]), reverse=True) == [
        start + timedelta(hours=2),
        start + timedelta(hours=1),
    ]
    assert [p.due_at for p in state.sends["c2"]] == [start + timedelta(hours=3)]
