"""`POST /v1/events` as the user's systems see it."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.app import Services
from bot.web.app import create_web_app
from tests.conftest import ServicesFactory
from tests.helpers import event, sends

AUTH = {"Authorization": "Bearer test-key"}


@pytest.fixture
def client(services: Services) -> TestClient:
    return TestClient(create_web_app(services))


def post(client: TestClient, body: Any, headers: dict[str, str] = AUTH) -> Any:
    return client.post("/v1/events", json=body, headers=headers)


def test_healthz_answers(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_a_single_event_is_accepted_with_its_decisions(client: TestClient) -> None:
    response = post(client, event("e1"))
    assert response.status_code == 202
    [result] = response.json()["results"]
    assert (result["id"], result["status"], result["error"]) == ("e1", "accepted", None)
    [decision] = result["decisions"]
    assert decision["trigger"] == "csat_after_ticket" and decision["outcome"] == "scheduled"
    assert decision["send_id"].startswith("snd_") and decision["due_at"].endswith("Z")


def test_a_batch_reports_each_event_alone(client: TestClient, services: Services) -> None:
    body = {
        "events": [event("e1"), {"id": "e2", "type": "ticket.solved"}, event("e1"), event("e3", contact="c3")]
    }
    response = post(client, body)
    assert response.status_code == 202
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "invalid", "duplicate", "accepted"]
    assert results[1]["error"].startswith("contact:") and results[1]["field"] == "contact"
    assert len(sends(services.db)) == 2


def test_a_single_invalid_event_gets_422_naming_the_field(client: TestClient, services: Services) -> None:
    response = post(client, {"id": "e1", "contact": {"id": "c1"}})
    assert response.status_code == 422
    assert response.json()["results"][0]["error"] == "type: is required and must be a non-empty string"
    assert sends(services.db) == []


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "test-key"}])
def test_a_missing_or_wrong_key_gets_401_and_stores_nothing(
    client: TestClient, services: Services, headers: dict[str, str]
) -> None:
    response = post(client, event("e1"), headers=headers)
    assert response.status_code == 401
    assert "Authorization: Bearer" in response.json()["error"]
    assert sends(services.db) == []


def test_malformed_json_gets_400(client: TestClient) -> None:
    response = client.post("/v1/events", content=b'{"id": "e1",', headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"].startswith("the body is not valid JSON")


def test_a_body_that_is_not_an_object_gets_400(client: TestClient) -> None:
    assert post(client, [event("e1")]).status_code == 400
    assert post(client, {"events": "nope"}).status_code == 400


def test_an_oversize_batch_gets_413_and_stores_nothing(client: TestClient, services: Services) -> None:
    response = post(client, {"events": [event(f"e{i}", contact=f"c{i}") for i in range(1001)]})
    assert response.status_code == 413
    assert "at most 1000 events; this one has 1001" in response.json()["error"]
    assert sends(services.db) == []


def test_a_body_over_the_size_limit_gets_413(client: TestClient) -> None:
    huge = {"events": [event("e1", properties={"blob": "x" * (5 * 1024 * 1024)})]}
    assert post(client, huge).status_code == 413


def test_a_full_batch_of_1000_is_taken(client: TestClient, services: Services) -> None:
    response = post(client, {"events": [event(f"e{i}", contact=f"c{i}") for i in range(1000)]})
    assert response.status_code == 202
    assert {r["status"] for r in response.json()["results"]} == {"accepted"}
    assert len(sends(services.db)) == 1000


def test_events_sent_while_the_database_is_down_get_503_and_can_be_resent(services: Services) -> None:
    from bot.intake.ingest import Ingestor
    from storage.db import Database

    working = services.ingestor
    services.ingestor = Ingestor(
        Database("postgresql+psycopg://postgres@127.0.0.1:9/none?connect_timeout=2"),
        services.config, services.clock, services.address_keys,
    )  # fmt: skip
    with TestClient(create_web_app(services)) as down:
        response = post(down, event("e1"))
    assert response.status_code == 503 and "nothing was stored" in response.json()["error"]
    services.ingestor = working
    with TestClient(create_web_app(services)) as up:
        assert post(up, event("e1")).json()["results"][0]["status"] == "accepted"


def test_a_key_with_a_trailing_newline_still_matches_and_is_warned_about(
    make_services: ServicesFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """A key read from a secrets file often ends in a newline: stripped, and said so at start-up."""
    services = make_services(server={"api_keys": ["other-key", "test-key\n"]})
    with caplog.at_level(logging.WARNING):
        client = TestClient(create_web_app(services))
    assert post(client, event("e1")).status_code == 202
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert [w for w in warnings if "api_keys" in w] == [
        "server.api_keys[1] had whitespace around it (a newline at the end of a secrets file?); "
        "it was stripped: clients must send the key without it"
    ]
    assert not any("test-key" in r.getMessage() for r in caplog.records)


def test_a_deferral_says_why_in_the_answer_and_in_explain(make_services: Any) -> None:
    from storage.explain import contact_history, timeline

    services = make_services(throttle={"quiet_hours": {"start": "11:00", "end": "13:00"}})
    client = TestClient(create_web_app(services))
    response = post(client, event("e1", details={"phone": "+442071838750"}))  # London, 12:00 there
    [decision] = response.json()["results"][0]["decisions"]
    assert (decision["outcome"], decision["reason"]) == ("deferred", "quiet_hours")
    assert decision["detail"] == "Europe/London, from the phone number's region"
    assert decision["due_at"] == "2026-11-22T13:00:00Z"
    with services.db.read() as conn:
        moments = timeline(contact_history(conn, "c1"))
    [shown] = [m.what for m in moments if m.kind == "decision"]
    assert shown == (
        "csat_after_ticket: deferred (quiet_hours: Europe/London, from the phone number's region), "
        "due 2026-11-22T13:00:00Z"
    )


def test_a_misspelt_contact_key_is_an_error_with_a_did_you_mean(
    client: TestClient, services: Services
) -> None:
    response = post(client, event("e1", details={"emial": "ada@example.com"}))
    assert response.status_code == 422
    [result] = response.json()["results"]
    assert result["field"] == "contact.emial"
    assert result["error"] == (
        "contact.emial: 'emial' is not a contact field; did you mean 'email'? the fields are id, email, "
        "phone, name, timezone, locale (anything else goes in properties)"
    )
    assert sends(services.db) == []
    free = post(client, event("e2", properties={"ticket_id": "T-1", "anything": {"goes": 1}}))
    assert free.json()["results"][0]["status"] == "accepted"  # properties stay free


def test_a_method_or_path_the_api_does_not_have_is_answered_as_every_error(client: TestClient) -> None:
    for method in ("GET", "PUT", "DELETE"):
        response = client.request(method, "/v1/events", headers=AUTH)
        assert response.status_code == 405 and response.headers["allow"] == "POST"
        assert response.json() == {"error": f"{method} is not allowed on /v1/events: use POST"}
    missing = client.post("/v1/event", json=event("e1"), headers=AUTH)
    assert missing.status_code == 404
    assert missing.json() == {"error": "no such path: /v1/event (the API is described at /openapi.json)"}


@pytest.mark.parametrize(
    ("contact_id", "error"),
    [
        (None, "contact.id: is required and must be a non-empty string"),
        ("  ", "contact.id: is required and must be a non-empty string"),
        (True, "contact.id: must be a string, not bool"),
        ("x" * 300, "contact.id: is longer than 256 characters"),
    ],
)
def test_contact_id_errors_have_the_shape_of_every_field_error(
    client: TestClient, contact_id: Any, error: str
) -> None:
    body = event("e1")
    body["contact"]["id"] = contact_id
    response = post(client, {"events": [body]})
    assert response.status_code == 202
    [result] = response.json()["results"]
    assert (result["status"], result["field"], result["error"]) == ("invalid", "contact.id", error)
