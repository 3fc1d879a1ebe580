"""Intercom's notifications through the HTTP app, signed as Intercom signs them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from bot.app import Services
from tests.helpers import sends
from tests.intake.sources.conftest import explained, post, stored_events
from tests.intake.sources.vendors import (
    INTERCOM_CONVERSATION,
    INTERCOM_CONVERSATION_V1,
    body_of,
    intercom_headers,
    intercom_notification,
)

CONTACT = "intercom:5bbf3be213e5cde18da56f3b"


def test_a_closed_conversation_becomes_conversation_closed(client: TestClient, services: Services) -> None:
    body = body_of(
        intercom_notification("notif_ccd8a4d0", "conversation.admin.closed", INTERCOM_CONVERSATION)
    )
    response = post(client, "inbox", body, intercom_headers(body))
    assert response.status_code == 202
    [result] = response.json()["results"]
    assert result["id"] == "intercom:notif_ccd8a4d0"
    assert [(d["trigger"], d["outcome"]) for d in result["decisions"]] == [("csat_after_chat", "scheduled")]
    assert sends(services.db)[0].to_address == "ada@example.com"
    [event] = stored_events(services, CONTACT)
    assert event["occurred_at"].startswith("2026-11-22T11:55")
    assert event["properties"] == {
        "conversation_id": "18994700881",
        "agent": "1132812",
        "team": "5017691",
        "channel": "customer_initiated",
    }
    assert any("via intercom:inbox" in line for line in explained(services, CONTACT))


def test_the_older_conversation_model_is_read_too(client: TestClient, services: Services) -> None:
    body = body_of(intercom_notification("notif_v1", "conversation.admin.closed", INTERCOM_CONVERSATION_V1))
    assert post(client, "inbox", body, intercom_headers(body)).status_code == 202
    [event] = stored_events(services, "intercom:5bbf3be213e5cde18da56f3c")
    assert event["properties"]["agent"] == "Darragh Browne"
    assert sends(services.db)[0].to_address == "darrag@example.com"


def test_a_redelivered_notification_is_a_duplicate(client: TestClient, services: Services) -> None:
    body = body_of(intercom_notification("notif_again", "conversation.admin.closed", INTERCOM_CONVERSATION))
    post(client, "inbox", body, intercom_headers(body))
    again = post(client, "inbox", body, intercom_headers(body))
    assert again.json()["results"][0]["status"] == "duplicate"
    assert len(sends(services.db)) == 1


def test_a_forged_or_unprefixed_signature_gets_401(client: TestClient, services: Services) -> None:
    body = body_of(intercom_notification("notif_forged", "conversation.admin.closed", INTERCOM_CONVERSATION))
    assert post(client, "inbox", body, intercom_headers(body, secret="other")).status_code == 401
    bare = intercom_headers(body)["X-Hub-Signature"].removeprefix("sha1=")
    assert post(client, "inbox", body, {"X-Hub-Signature": bare}).status_code == 401
    assert sends(services.db) == []


def test_the_ping_and_other_topics_are_ignored(client: TestClient) -> None:
    for topic in ("ping", "conversation.user.replied"):
        body = body_of(
            intercom_notification(f"notif_{topic}", topic, {"type": "ping", "message": "something"})
        )
        response = post(client, "inbox", body, intercom_headers(body))
        assert response.status_code == 200 and topic in response.json()["ignored"]


def test_a_conversation_without_a_contact_gets_422(client: TestClient, services: Services) -> None:
    item = {"type": "conversation", "id": "1", "source": {"author": {"type": "admin", "id": "9"}}}
    body = body_of(intercom_notification("notif_nobody", "conversation.admin.closed", item))
    response = post(client, "inbox", body, intercom_headers(body))
    assert response.status_code == 422
    assert response.json()["field"] == "data.item.contacts.contacts[0].id"
