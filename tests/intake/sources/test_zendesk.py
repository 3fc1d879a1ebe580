"""Zendesk's webhooks through the HTTP app, signed as Zendesk signs them."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from bot.app import Services
from bot.runtime.clock import FakeClock
from tests.helpers import sends
from tests.intake.sources.conftest import explained, metric, post, stored_events
from tests.intake.sources.vendors import (
    ZENDESK_STATUS_CHANGED,
    ZENDESK_TRIGGER_BODY,
    body_of,
    zendesk_headers,
    zendesk_status_changed,
)

NOW = "2026-11-22T12:00:00Z"  # the fake clock's time


def test_a_solved_ticket_becomes_ticket_solved_with_its_decisions(
    client: TestClient, services: Services
) -> None:
    body = body_of(ZENDESK_STATUS_CHANGED)
    response = post(client, "helpdesk", body, zendesk_headers(body, NOW))
    assert response.status_code == 202
    [result] = response.json()["results"]
    assert (result["id"], result["status"]) == ("zendesk:a8b9c1d2-3e4f-5a6b-7c8d-9e0f1a2b3c4d", "accepted")
    [decision] = result["decisions"]
    # A Zendesk event names the requester by id only: without a known address nothing is sent.
    assert (decision["trigger"], decision["outcome"]) == ("csat_after_ticket", "suppressed")
    [event] = stored_events(services, "zendesk:8447388090001")
    assert event["type"] == "ticket.solved"
    assert event["properties"] == {
        "ticket_id": "5158",
        "agent": "8447388090494",
        "team": "8447346622462",
        "channel": "web_form",
        "brand": "8447346621310",
        "priority": "high",
        "status": "solved",
    }


def test_explain_shows_the_source_the_event_came_from(client: TestClient, services: Services) -> None:
    body = body_of(ZENDESK_STATUS_CHANGED)
    post(client, "helpdesk", body, zendesk_headers(body, NOW))
    lines = explained(services, "zendesk:8447388090001")
    assert "ticket.solved (id zendesk:a8b9c1d2-3e4f-5a6b-7c8d-9e0f1a2b3c4d, via zendesk:helpdesk)" in lines


def test_a_reopened_ticket_calls_off_the_pending_survey(client: TestClient, services: Services) -> None:
    """Solved through a trigger (which brings the addresses), reopened as a Zendesk event: both
    name the requester and the ticket alike, so `cancel_on` matches."""
    solved = body_of(ZENDESK_TRIGGER_BODY)
    post(client, "helpdesk", solved, zendesk_headers(solved, NOW))
    reopened = body_of(zendesk_status_changed("b0000000-0000-4000-8000-000000000001", "SOLVED", "OPEN"))
    response = post(client, "helpdesk", reopened, zendesk_headers(reopened, NOW))
    assert response.status_code == 202
    [result] = response.json()["results"]
    assert [d["outcome"] for d in result["decisions"]] == ["cancelled"]
    assert {s.status for s in sends(services.db)} == {"cancelled"}


def test_a_redelivery_is_a_duplicate_and_changes_nothing(client: TestClient, services: Services) -> None:
    body = body_of(ZENDESK_TRIGGER_BODY)
    post(client, "helpdesk", body, zendesk_headers(body, NOW))
    again = post(client, "helpdesk", body, zendesk_headers(body, NOW))
    assert again.status_code == 202
    assert again.json()["results"][0]["status"] == "duplicate"
    assert len(sends(services.db)) == 1


def test_a_forged_signature_gets_401_and_stores_nothing(client: TestClient, services: Services) -> None:
    body = body_of(ZENDESK_STATUS_CHANGED)
    headers = zendesk_headers(body, NOW, secret="not-the-secret")
    response = post(client, "helpdesk", body, headers)
    assert response.status_code == 401
    assert "X-Zendesk-Webhook-Signature" in response.json()["error"]
    assert stored_events(services, "zendesk:8447388090001") == []
    assert metric(client, "helpdesk", "refused_signature") == 1


def test_a_body_changed_after_signing_gets_401(client: TestClient, services: Services) -> None:
    body = body_of(ZENDESK_STATUS_CHANGED)
    headers = zendesk_headers(body, NOW)
    tampered = body.replace(b"8447388090001", b"8447388090002")
    assert post(client, "helpdesk", tampered, headers).status_code == 401
    assert sends(services.db) == []


def test_a_missing_signature_gets_401(client: TestClient) -> None:
    body = body_of(ZENDESK_STATUS_CHANGED)
    headers = zendesk_headers(body, NOW)
    del headers["X-Zendesk-Webhook-Signature"]
    response = post(client, "helpdesk", body, headers)
    assert response.status_code == 401
    assert "header is missing" in response.json()["error"]


def test_a_replay_with_an_old_timestamp_is_refused(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    body = body_of(ZENDESK_STATUS_CHANGED)
    headers = zendesk_headers(body, NOW)
    clock.advance(timedelta(minutes=6))
    response = post(client, "helpdesk", body, headers)
    assert response.status_code == 401
    assert "more than the 300s allowed" in response.json()["error"]
    assert sends(services.db) == []
    assert metric(client, "helpdesk", "refused_stale") == 1


def test_other_status_changes_and_events_are_ignored_with_2xx_and_counted(
    client: TestClient, services: Services
) -> None:
    pending = body_of(zendesk_status_changed("c0000000-0000-4000-8000-000000000002", "OPEN", "PENDING"))
    comment = body_of(ZENDESK_STATUS_CHANGED | {"type": "zen:event-type:ticket.comment_added"})
    for body in (pending, comment):
        response = post(client, "helpdesk", body, zendesk_headers(body, NOW))
        assert response.status_code == 200
        assert response.json()["results"] == [] and "ignored" in response.json()["ignored"]
    assert stored_events(services, "zendesk:8447388090001") == []
    assert metric(client, "helpdesk", "ignored") == 2


def test_an_event_without_a_requester_gets_422_naming_the_path(
    client: TestClient, services: Services
) -> None:
    payload = zendesk_status_changed("d0000000-0000-4000-8000-000000000003", "OPEN", "SOLVED")
    del payload["detail"]["requester_id"]
    body = body_of(payload)
    response = post(client, "helpdesk", body, zendesk_headers(body, NOW))
    assert response.status_code == 422
    assert response.json()["field"] == "detail.requester_id"
    assert response.json()["error"].startswith("detail.requester_id: is missing")
    assert sends(services.db) == []


def test_the_trigger_body_brings_the_requesters_addresses(client: TestClient, services: Services) -> None:
    body = body_of(ZENDESK_TRIGGER_BODY)
    response = post(client, "helpdesk", body, zendesk_headers(body, NOW))
    assert response.status_code == 202
    [result] = response.json()["results"]
    assert result["id"] == "zendesk:ticket:5158:ticket.solved:2026-11-22T11:55Z"
    assert [d["outcome"] for d in result["decisions"]] == ["scheduled"]
    [send] = sends(services.db)
    assert (send.channel, send.to_address) == ("sms", "+14155550100")
    [event] = stored_events(services, "zendesk:8447388090001")
    assert event["properties"] == {
        "ticket_id": "5158",
        "agent": "Sam Agent",
        "team": "Billing",
        "channel": "Web form",
        "brand": "Acme",
    }


def test_a_body_that_is_neither_shape_gets_422(client: TestClient) -> None:
    body = body_of({"hello": "world"})
    response = post(client, "helpdesk", body, zendesk_headers(body, NOW))
    assert response.status_code == 422
    assert "docs/sources.md" in response.json()["error"]
