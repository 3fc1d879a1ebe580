"""Payloads shaped like the vendors' documented examples, and each vendor's signing scheme,
written from its documentation (not from our code), so a test signs as the vendor would.

Sources of the shapes: Zendesk's "Ticket events" webhook reference (status changed envelope) and
its placeholders reference (trigger body); Shopify's webhook topic samples for `orders/fulfilled`
and `fulfillments/update`; Stripe's Event object with a Checkout Session and a Subscription;
Intercom's webhook models (`notification_event` with a conversation item).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
from typing import Any

import orjson

# Zendesk signs test deliveries (before a webhook is saved) with this fixed secret, which its
# documentation publishes; it is used as it stands (a string), not base64-decoded.
ZENDESK_TEST_SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
SHOPIFY_SECRET = "shpss_0123456789abcdef"
STRIPE_SECRET = "whsec_test_5f2a1c"
INTERCOM_SECRET = "c1ient-secret-of-the-app"


def body_of(payload: Any) -> bytes:
    return orjson.dumps(payload)


# --- Zendesk ----------------------------------------------------------------------------------


def zendesk_headers(body: bytes, timestamp: str, secret: str = ZENDESK_TEST_SECRET) -> dict[str, str]:
    """base64(HMAC-SHA256(TIMESTAMP + BODY)) with the webhook's signing secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "X-Zendesk-Webhook-Id": "01F1KRFQ6BG29CNWFR60NK5FNY",
        "X-Zendesk-Webhook-Invocation-Id": "8350205582",
        "X-Zendesk-Webhook-Signature": base64.b64encode(mac).decode(),
        "X-Zendesk-Webhook-Signature-Timestamp": timestamp,
    }


ZENDESK_STATUS_CHANGED: dict[str, Any] = {
    "account_id": 22129848,
    "detail": {
        "actor_id": "8447388090494",
        "assignee_id": "8447388090494",
        "brand_id": "8447346621310",
        "created_at": "2026-11-22T10:12:07Z",
        "custom_status": "8447388090494",
        "description": "Cannot log in to the mobile app",
        "external_id": None,
        "form_id": "8447346623230",
        "group_id": "8447346622462",
        "id": "5158",
        "is_public": True,
        "organization_id": None,
        "priority": "HIGH",
        "requester_id": "8447388090001",
        "status": "SOLVED",
        "subject": "Cannot log in to the mobile app",
        "submitter_id": "8447388090001",
        "tags": ["mobile"],
        "type": "QUESTION",
        "updated_at": "2026-11-22T11:55:20Z",
        "via": {"channel": "web_form"},
    },
    "event": {"current": "SOLVED", "previous": "OPEN"},
    "id": "a8b9c1d2-3e4f-5a6b-7c8d-9e0f1a2b3c4d",
    "subject": "zen:ticket:5158",
    "time": "2026-11-22T11:55:20.987654321Z",
    "type": "zen:event-type:ticket.status_changed",
    "zendesk_event_version": "2022-11-06",
}


def zendesk_status_changed(event_id: str, previous: str, current: str) -> dict[str, Any]:
    payload = copy.deepcopy(ZENDESK_STATUS_CHANGED)
    payload["id"] = event_id
    payload["event"] = {"current": current, "previous": previous}
    payload["detail"]["status"] = current
    return payload


# The body docs/sources.md tells a Zendesk trigger to send, with its placeholders rendered.
ZENDESK_TRIGGER_BODY: dict[str, Any] = {
    "event": "ticket.solved",
    "ticket": {
        "id": "5158",
        "updated_at": "2026-11-22T11:55Z",
        "via": "Web form",
        "assignee": "Sam Agent",
        "group": "Billing",
        "brand": "Acme",
    },
    "requester": {
        "id": "8447388090001",
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "phone": "+1 (415) 555-0100",
        "locale": "en-US",
    },
}

# --- Shopify ----------------------------------------------------------------------------------


def shopify_headers(body: bytes, topic: str, webhook_id: str, secret: str = SHOPIFY_SECRET) -> dict[str, str]:
    """X-Shopify-Hmac-Sha256: base64 of the HMAC-SHA256 of the raw body."""
    mac = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": base64.b64encode(mac).decode(),
        "X-Shopify-Shop-Domain": "example.myshopify.com",
        "X-Shopify-API-Version": "2026-10",
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Triggered-At": "2026-11-22T11:59:00.000000Z",
        "X-Shopify-Event-Id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
    }


SHOPIFY_ORDER: dict[str, Any] = {
    "id": 820982911946154508,
    "admin_graphql_api_id": "gid://shopify/Order/820982911946154508",
    "email": "Jon@Example.com",
    "phone": None,
    "name": "#9999",
    "order_number": 1234,
    "currency": "USD",
    "total_price": "403.00",
    "financial_status": "paid",
    "fulfillment_status": "fulfilled",
    "source_name": "web",
    "customer_locale": "en",
    "created_at": "2026-11-21T19:00:00-05:00",
    "updated_at": "2026-11-22T06:58:00-05:00",
    "customer": {
        "id": 115310627314723954,
        "email": "john@example.com",
        "first_name": "John",
        "last_name": "Smith",
        "phone": None,
        "state": "disabled",
    },
    "shipping_address": {
        "first_name": "Steve",
        "last_name": "Shipper",
        "address1": "123 Shipping Street",
        "phone": "555-555-SHIP",
        "city": "Shippington",
        "zip": "40003",
        "province": "Kentucky",
        "country": "United States",
        "country_code": "US",
    },
    "line_items": [{"id": 866550311766439020, "title": "IPod Nano - 8GB", "quantity": 1, "price": "199.00"}],
}

SHOPIFY_FULFILLMENT: dict[str, Any] = {
    "id": 123456,
    "order_id": 820982911946154508,
    "status": "success",
    "created_at": "2026-11-20T19:00:00-05:00",
    "service": "manual",
    "updated_at": "2026-11-22T06:59:00-05:00",
    "tracking_company": "UPS",
    "shipment_status": "delivered",
    "location_id": None,
    "origin_address": None,
    "email": "jon@example.com",
    "destination": {
        "first_name": "Steve",
        "address1": "123 Shipping Street",
        "phone": "+14155550123",
        "city": "Shippington",
        "zip": "40003",
        "province": "Kentucky",
        "country": "United States",
        "last_name": "Shipper",
        "country_code": "US",
    },
    "line_items": [{"id": 487817672276298554, "title": "Aviator sunglasses", "quantity": 1}],
    "tracking_number": "1z827wk74630",
    "tracking_numbers": ["1z827wk74630"],
    "tracking_url": "https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums=1z827wk74630",
    "receipt": {},
    "name": "#9999.1",
    "admin_graphql_api_id": "gid://shopify/Fulfillment/123456",
}

# --- Stripe -----------------------------------------------------------------------------------


def stripe_headers(body: bytes, timestamp: int, secret: str = STRIPE_SECRET) -> dict[str, str]:
    """Stripe-Signature: t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>">."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": f"t={timestamp},v1={mac}"}


def stripe_event(event_id: str, event_type: str, obj: dict[str, Any], created: int) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2026-10-28.acacia",
        "created": created,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


STRIPE_CHECKOUT_SESSION: dict[str, Any] = {
    "id": "cs_test_a11YYufWQzNY63zpQ6QSNRQhkUpVph4WRmzW0zWJO2znZKdVujZ0N0S22u",
    "object": "checkout.session",
    "amount_subtotal": 2198,
    "amount_total": 2198,
    "currency": "usd",
    "customer": "cus_NeZwdNtLEOXuvB",
    "customer_details": {
        "address": {"city": None, "country": "US", "line1": None, "postal_code": "94103"},
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "phone": "+14155550100",
        "tax_exempt": "none",
    },
    "customer_email": None,
    "livemode": False,
    "locale": "auto",
    "metadata": {},
    "mode": "payment",
    "payment_status": "paid",
    "status": "complete",
}

STRIPE_SUBSCRIPTION: dict[str, Any] = {
    "id": "sub_1MowQVLkdIwHu7ixeRlqHVzs",
    "object": "subscription",
    "cancel_at_period_end": False,
    "canceled_at": 1795348500,
    "cancellation_details": {
        "comment": None,
        "feedback": "too_expensive",
        "reason": "cancellation_requested",
    },
    "customer": "cus_NeZwdNtLEOXuvB",
    "items": {
        "object": "list",
        "data": [{"id": "si_NcLYdDxLHxlFo7", "price": {"id": "price_1MowQULkdIwHu7ixraBm864M"}}],
    },
    "status": "canceled",
}

# --- Intercom ---------------------------------------------------------------------------------


def intercom_headers(body: bytes, secret: str = INTERCOM_SECRET) -> dict[str, str]:
    """X-Hub-Signature: sha1=<hex HMAC-SHA1 of the body with the app's client secret>."""
    mac = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature": f"sha1={mac}"}


def intercom_notification(notification_id: str, topic: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "notification_event",
        "app_id": "hp8y2l1x",
        "data": {"type": "notification_event_data", "item": item},
        "links": {},
        "id": notification_id,
        "topic": topic,
        "delivery_status": "pending",
        "delivery_attempts": 1,
        "delivered_at": 0,
        "first_sent_at": 1795348500,
        "created_at": 1795348500,
        "self": None,
    }


INTERCOM_CONVERSATION: dict[str, Any] = {
    "type": "conversation",
    "id": "18994700881",
    "created_at": 1795338000,
    "updated_at": 1795348500,
    "source": {
        "type": "conversation",
        "id": "266694776",
        "delivered_as": "customer_initiated",
        "subject": "",
        "body": "<p>I need help!</p>",
        "author": {
            "type": "user",
            "id": "5bbf3be213e5cde18da56f3b",
            "name": "Ada Lovelace",
            "email": "ada@example.com",
        },
    },
    "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": "5bbf3be213e5cde18da56f3b"}]},
    "admin_assignee_id": 1132812,
    "team_assignee_id": "5017691",
    "open": False,
    "state": "closed",
    "read": True,
}

# The 1.x conversation model, as in Intercom's older examples: `user` and `assignee`.
INTERCOM_CONVERSATION_V1: dict[str, Any] = {
    "type": "conversation",
    "id": "18994700882",
    "created_at": 1539261436,
    "updated_at": 1542635241,
    "user": {
        "type": "lead",
        "id": "5bbf3be213e5cde18da56f3c",
        "user_id": "9e3b3310-7810-4417-be3d-ab96d7976eac",
        "name": "darrag@example.com",
        "email": "darrag@example.com",
    },
    "assignee": {"type": "admin", "id": "1132812", "name": "Darragh Browne", "email": "darragh@example.com"},
    "conversation_message": {"type": "conversation_message", "id": "266694776", "author": {"type": "user"}},
    "open": False,
    "state": "closed",
}
