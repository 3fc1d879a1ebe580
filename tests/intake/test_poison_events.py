"""An event that cannot be stored is refused alone, naming its field: the other events of its
batch, and the other requests sharing its transaction (group commit), still go through."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.app import Services
from bot.intake.batcher import IngestQueue
from bot.intake.ingest import EventResult
from bot.runtime.clock import FakeClock
from bot.web.app import create_web_app
from tests.conftest import ServicesFactory
from tests.helpers import event, run_async, sends

AUTH = {"Authorization": "Bearer test-key"}


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth):
        value = {"x": value}
    return value


def poisons() -> list[tuple[str, dict[str, Any], str]]:
    """(name, event, the field its error must name)"""
    return [
        ("nested 300 deep", event("bad", properties={"detail": nested(300)}), "properties.detail"),
        ("year 1", event("bad", occurred_at="0001-01-01T00:00:00Z"), "occurred_at"),
        ("year 1 ahead of UTC", event("bad", occurred_at="0001-01-01T00:00:00+05:00"), "occurred_at"),
        ("year 9999", event("bad", occurred_at="9999-12-31T23:59:59Z"), "occurred_at"),
        ("year 9999 behind UTC", event("bad", occurred_at="9999-12-31T23:00:00-05:00"), "occurred_at"),
        ("year 2999", event("bad", occurred_at="2999-01-01T00:00:00Z"), "occurred_at"),
        ("NUL in id", event("bad\x00"), "id"),
        ("NUL in type", event("bad", type_="ticket.solved\x00"), "type"),
        (
            "NUL in contact.id",
            event("bad", contact="c\x00", details={"email": "c@example.com"}),
            "contact.id",
        ),
        ("NUL in name", event("bad", details={"name": "Ada\x00"}), "contact.name"),
        ("NUL in a property", event("bad", properties={"ticket_id": "T\x001"}), "properties.ticket_id"),
    ]


POISONS = poisons()
IDS = [name for name, _, _ in POISONS]


@pytest.fixture
def client(services: Services) -> TestClient:
    return TestClient(create_web_app(services))


@pytest.mark.parametrize(("poison", "field"), [(p, f) for _, p, f in POISONS], ids=IDS)
def test_a_single_poison_event_is_a_422_naming_its_field(
    client: TestClient, services: Services, poison: dict[str, Any], field: str
) -> None:
    response = client.post("/v1/events", json=poison, headers=AUTH)
    assert response.status_code == 422
    [result] = response.json()["results"]
    assert result["status"] == "invalid" and result["field"] == field
    assert result["error"].startswith(f"{field}: ")
    assert sends(services.db) == []


@pytest.mark.parametrize(("poison", "field"), [(p, f) for _, p, f in POISONS], ids=IDS)
def test_a_poison_event_in_a_batch_leaves_the_others_stored(
    client: TestClient, services: Services, poison: dict[str, Any], field: str
) -> None:
    good = [event(f"good-{i}", contact=f"c{i}") for i in range(20)]
    response = client.post("/v1/events", json={"events": [*good[:10], poison, *good[10:]]}, headers=AUTH)
    assert response.status_code == 202
    statuses = [(r["status"], r.get("field")) for r in response.json()["results"]]
    assert statuses == [("accepted", None)] * 10 + [("invalid", field)] + [("accepted", None)] * 10
    assert len(sends(services.db)) == 20


@pytest.mark.parametrize(("poison", "field"), [(p, f) for _, p, f in POISONS], ids=IDS)
def test_a_poison_event_leaves_the_requests_sharing_its_transaction_stored(
    services: Services, poison: dict[str, Any], field: str
) -> None:
    ingest = IngestQueue(services.ingestor)

    async def many() -> list[list[EventResult]]:
        requests = [[event(f"good-{i}", contact=f"c{i}")] for i in range(30)]
        requests.insert(15, [poison])
        return await asyncio.gather(*(ingest.submit(r) for r in requests))

    answers = run_async(many)
    ingest.close()
    assert [answer[0].status for answer in answers] == ["accepted"] * 15 + ["invalid"] + ["accepted"] * 15
    assert answers[15][0].error_field == field
    assert len(sends(services.db)) == 30


def test_an_unforeseen_failure_fails_only_the_request_that_holds_it(services: Services) -> None:
    """Whatever slips past validation, the requests that merely shared its transaction succeed."""
    original = services.ingestor.ingest

    def failing_on_bug(raws: list[Any], **kwargs: Any) -> list[EventResult]:
        if any(raw.get("id") == "bug" for raw in raws):
            raise RuntimeError("a bug nobody foresaw")
        return original(raws, **kwargs)

    services.ingestor.ingest = failing_on_bug  # type: ignore[method-assign]
    ingest = IngestQueue(services.ingestor)

    async def many() -> list[Any]:
        requests = [[event(f"good-{i}", contact=f"c{i}")] for i in range(20)]
        requests.insert(10, [event("bug", contact="c-bug")])
        return await asyncio.gather(*(ingest.submit(r) for r in requests), return_exceptions=True)

    answers = run_async(many)
    ingest.close()
    assert isinstance(answers[10], RuntimeError)
    assert all(answer[0].status == "accepted" for answer in answers[:10] + answers[11:])
    assert len(sends(services.db)) == 20


def test_how_far_ahead_an_event_may_be_is_configurable(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = make_services(server={"max_future_skew": "1h"})
    client = TestClient(create_web_app(services))
    soon = (clock.now() + timedelta(minutes=50)).isoformat()
    later = (clock.now() + timedelta(minutes=70)).isoformat()
    accepted = client.post("/v1/events", json=event("soon", occurred_at=soon), headers=AUTH)
    refused = client.post("/v1/events", json=event("later", occurred_at=later), headers=AUTH)
    assert accepted.status_code == 202
    assert refused.status_code == 422
    error = refused.json()["results"][0]["error"]
    assert error.startswith("occurred_at: ") and "1h ahead" in error and "server.max_future_skew" in error


def test_by_default_an_event_a_few_hours_ahead_is_taken(client: TestClient, clock: FakeClock) -> None:
    """A sender whose clock is off, or who sends local time without its offset, is not refused."""
    ahead = (clock.now() + timedelta(hours=14)).isoformat()
    assert client.post("/v1/events", json=event("e1", occurred_at=ahead), headers=AUTH).status_code == 202
