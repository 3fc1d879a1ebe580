"""Kind `webhook`: any JSON, mapped by the config's JSON paths, signed by a configured HMAC."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from bot.app import Services
from bot.runtime.clock import FakeClock
from bot.web.app import create_web_app
from tests.conftest import ServicesFactory
from tests.helpers import sends
from tests.intake.sources.conftest import CRM_SECRET, explained, post, stored_events
from tests.intake.sources.vendors import body_of

DELIVERY: dict[str, Any] = {
    "delivery_id": "dlv_0001",
    "event": "ticket.solved",
    "at": "2026-11-22T11:50:00Z",
    "customer": {"id": "crm-42", "email": "grace@example.com", "full name": "Grace Hopper"},
    "owner": {"name": "sam"},
    "items": [{"ref": "T-9"}],
}


def signed(body: bytes, secret: str = CRM_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Signature": f"sha256={digest}"}


def test_a_mapped_delivery_becomes_our_event(client: TestClient, services: Services) -> None:
    body = body_of(DELIVERY)
    response = post(client, "crm", body, signed(body))
    assert response.status_code == 202
    [result] = response.json()["results"]
    assert (result["id"], result["status"]) == ("dlv_0001", "accepted")
    assert result["decisions"][0]["outcome"] == "scheduled"
    [event] = stored_events(services, "crm-42")
    assert (event["type"], event["occurred_at"][:16]) == ("ticket.solved", "2026-11-22T11:50")
    assert event["properties"] == {"owner": "sam", "ticket_id": "T-9", "channel": "crm"}
    assert sends(services.db)[0].to_address == "grace@example.com"
    assert "ticket.solved (id dlv_0001, via webhook:crm)" in explained(services, "crm-42")


def test_a_redelivery_is_a_duplicate(client: TestClient, services: Services) -> None:
    body = body_of(DELIVERY)
    post(client, "crm", body, signed(body))
    assert post(client, "crm", body, signed(body)).json()["results"][0]["status"] == "duplicate"
    assert len(sends(services.db)) == 1


def test_a_wrong_or_missing_signature_gets_401(client: TestClient, services: Services) -> None:
    body = body_of(DELIVERY)
    assert post(client, "crm", body, signed(body, "nope")).status_code == 401
    unprefixed = {"X-Signature": signed(body)["X-Signature"].removeprefix("sha256=")}
    assert post(client, "crm", body, unprefixed).status_code == 401
    assert post(client, "crm", body, {}).status_code == 401
    assert sends(services.db) == []


def test_a_missing_required_path_gets_422_naming_it_and_stores_nothing(
    client: TestClient, services: Services
) -> None:
    body = body_of(DELIVERY | {"customer": {"email": "grace@example.com"}})
    response = post(client, "crm", body, signed(body))
    assert response.status_code == 422
    assert response.json()["field"] == "$.customer.id"
    assert "contact.id needs it" in response.json()["error"]
    assert sends(services.db) == []


def test_a_missing_optional_path_leaves_the_field_out(client: TestClient, services: Services) -> None:
    body = body_of({k: v for k, v in DELIVERY.items() if k not in ("owner", "items")})
    assert post(client, "crm", body, signed(body)).status_code == 202
    [event] = stored_events(services, "crm-42")
    assert event["properties"] == {"channel": "crm"}


def test_a_mapped_event_that_is_invalid_gets_422_with_the_field(
    client: TestClient, services: Services
) -> None:
    body = body_of(DELIVERY | {"customer": {"id": "crm-42", "email": "not-an-email"}})
    response = post(client, "crm", body, signed(body))
    assert response.status_code == 422
    [result] = response.json()["results"]
    assert (result["status"], result["field"]) == ("invalid", "contact.email")


def base64_sha1_with_timestamp(make_services: ServicesFactory) -> TestClient:
    source = {
        "kind": "webhook",
        "secret": "s",
        "signature": {
            "header": "X-Hook-Signature",
            "algorithm": "sha1",
            "encoding": "base64",
            "timestamp_header": "X-Hook-Timestamp",
            "tolerance": "2m",
        },
        "map": {"id": "$.id", "type": "'ticket.solved'", "contact.id": "$.who"},
    }
    return TestClient(create_web_app(make_services(sources={"hook": source})))


def test_sha1_base64_with_a_signed_timestamp(make_services: ServicesFactory, clock: FakeClock) -> None:
    client = base64_sha1_with_timestamp(make_services)
    body = body_of({"id": "h1", "who": "c9"})
    stamp = str(int(clock.now().timestamp()))
    digest = base64.b64encode(hmac.new(b"s", stamp.encode() + b"." + body, hashlib.sha1).digest()).decode()
    headers = {"X-Hook-Signature": digest, "X-Hook-Timestamp": stamp}
    response = client.post("/v1/sources/hook", content=body, headers=headers)
    assert response.status_code == 202
    assert response.json()["results"][0]["id"] == "h1"
    clock.advance(timedelta(minutes=3))
    stale = client.post("/v1/sources/hook", content=body_of({"id": "h1", "who": "c9"}), headers=headers)
    assert stale.status_code == 401 and "120s allowed" in stale.json()["error"]
