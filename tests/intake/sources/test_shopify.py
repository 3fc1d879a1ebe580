"""Shopify's webhooks through the HTTP app, signed as Shopify signs them."""

from __future__ import annotations

import copy

from fastapi.testclient import TestClient

from bot.app import Services
from tests.helpers import sends
from tests.intake.sources.conftest import explained, metric, post, stored_events
from tests.intake.sources.vendors import SHOPIFY_FULFILLMENT, SHOPIFY_ORDER, body_of, shopify_headers

CONTACT = "shopify:jon@example.com"


def test_orders_fulfilled_becomes_order_fulfilled(client: TestClient, services: Services) -> None:
    body = body_of(SHOPIFY_ORDER)
    response = post(client, "shop", body, shopify_headers(body, "orders/fulfilled", "b54557e4-bdd9-4b37"))
    assert response.status_code == 202
    [result] = response.json()["results"]
    assert (result["id"], result["status"]) == ("shopify:order:820982911946154508:fulfilled", "accepted")
    [event] = stored_events(services, CONTACT)
    assert event["type"] == "order.fulfilled"
    assert event["properties"] == {
        "order_id": "820982911946154508",
        "order_name": "#9999",
        "channel": "web",
        "total_price": "403.00",
        "currency": "USD",
    }
    assert "order.fulfilled (id shopify:order:820982911946154508:fulfilled, via shopify:shop)" in explained(
        services, CONTACT
    )


def test_a_delivered_fulfillment_becomes_order_delivered_and_schedules_the_survey(
    client: TestClient, services: Services
) -> None:
    body = body_of(SHOPIFY_FULFILLMENT)
    response = post(client, "shop", body, shopify_headers(body, "fulfillments/update", "c2a1-delivered"))
    assert response.status_code == 202
    [result] = response.json()["results"]
    assert result["id"] == "shopify:fulfillment:123456:delivered"
    assert [(d["trigger"], d["outcome"]) for d in result["decisions"]] == [
        ("nps_after_delivery", "scheduled")
    ]
    [send] = sends(services.db)
    assert send.to_address == "jon@example.com"
    [event] = stored_events(services, CONTACT)
    assert event["properties"] == {
        "order_id": "820982911946154508",
        "order_name": "#9999",
        "fulfillment_id": "123456",
        "carrier": "UPS",
    }


def test_both_topics_name_the_same_contact(client: TestClient, services: Services) -> None:
    for payload, topic in ((SHOPIFY_ORDER, "orders/fulfilled"), (SHOPIFY_FULFILLMENT, "fulfillments/update")):
        body = body_of(payload)
        post(client, "shop", body, shopify_headers(body, topic, f"id-{topic}"))
    assert [e["type"] for e in stored_events(services, CONTACT)] == ["order.fulfilled", "order.delivered"]


def test_a_redelivery_or_a_later_update_of_a_delivered_fulfillment_is_a_duplicate(
    client: TestClient, services: Services
) -> None:
    body = body_of(SHOPIFY_FULFILLMENT)
    post(client, "shop", body, shopify_headers(body, "fulfillments/update", "w-1"))
    retried = post(client, "shop", body, shopify_headers(body, "fulfillments/update", "w-1"))
    later = body_of(SHOPIFY_FULFILLMENT | {"updated_at": "2026-11-22T07:30:00-05:00"})
    updated = post(client, "shop", later, shopify_headers(later, "fulfillments/update", "w-2"))
    assert retried.json()["results"][0]["status"] == "duplicate"
    assert updated.json()["results"][0]["status"] == "duplicate"
    assert len(sends(services.db)) == 1


def test_a_fulfillment_not_yet_delivered_is_ignored(client: TestClient, services: Services) -> None:
    body = body_of(SHOPIFY_FULFILLMENT | {"shipment_status": "in_transit"})
    response = post(client, "shop", body, shopify_headers(body, "fulfillments/update", "w-3"))
    assert response.status_code == 200
    assert "shipment_status in_transit" in response.json()["ignored"]
    assert stored_events(services, CONTACT) == []


def test_an_unmapped_topic_is_answered_2xx_and_counted(client: TestClient, services: Services) -> None:
    body = body_of(SHOPIFY_ORDER)
    response = post(client, "shop", body, shopify_headers(body, "orders/paid", "w-4"))
    assert response.status_code == 200 and response.json()["results"] == []
    assert metric(client, "shop", "ignored") == 1
    assert stored_events(services, CONTACT) == []


def test_a_forged_hmac_gets_401_and_stores_nothing(client: TestClient, services: Services) -> None:
    body = body_of(SHOPIFY_FULFILLMENT)
    headers = shopify_headers(body, "fulfillments/update", "w-5", secret="guessed")
    response = post(client, "shop", body, headers)
    assert response.status_code == 401
    assert "X-Shopify-Hmac-Sha256" in response.json()["error"]
    assert sends(services.db) == []


def test_a_fulfillment_without_email_gets_422_naming_it(client: TestClient, services: Services) -> None:
    payload = copy.deepcopy(SHOPIFY_FULFILLMENT)
    payload["email"] = None
    body = body_of(payload)
    response = post(client, "shop", body, shopify_headers(body, "fulfillments/update", "w-6"))
    assert response.status_code == 422
    assert response.json()["field"] == "email"
    assert sends(services.db) == []


def test_orders_create_becomes_order_placed_when_the_order_was_created(
    client: TestClient, services: Services
) -> None:
    body = body_of(SHOPIFY_ORDER)
    response = post(client, "shop", body, shopify_headers(body, "orders/create", "w-5"))
    assert response.status_code == 202
    [result] = response.json()["results"]
    assert (result["id"], result["status"]) == ("shopify:order:820982911946154508:placed", "accepted")
    [event] = stored_events(services, CONTACT)
    assert event["type"] == "order.placed"
    assert event["occurred_at"].startswith("2026-11-22T00:00:00"), "created_at, 19:00 at UTC-5"
    assert event["properties"]["order_id"] == "820982911946154508"
    again = post(client, "shop", body, shopify_headers(body, "orders/create", "w-5"))
    assert again.json()["results"][0]["status"] == "duplicate", "Shopify's retry counts once"
