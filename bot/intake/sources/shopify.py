"""Shopify: `orders/fulfilled` → `order.fulfilled`; `fulfillments/update` once the shipment
is delivered → `order.delivered`; `orders/create` → `order.placed`, at the order's `created_at`
(an outcome such as a repeat order: docs/outcomes.md).

Signature: `X-Shopify-Hmac-Sha256` = base64 HMAC-SHA256 of the raw body, keyed with the
webhook secret Shopify shows (Settings → Notifications → Webhooks) or the app's client secret.
The topic comes in `X-Shopify-Topic`. Shopify signs no timestamp; a replay is stopped by the
idempotency key instead: one order is fulfilled once and one fulfillment delivered once, so the
key is the order's or the fulfillment's id with its new state, which also makes Shopify's
retries (same `X-Shopify-Webhook-Id`) and its later updates of a delivered fulfillment
`duplicate`.

The contact is keyed by the customer's email (`shopify:<email>`): a fulfillment carries the
order's email and shipping address but not the customer id, and both topics must name the
same person.
"""

from __future__ import annotations

from typing import Any

from bot.intake.sources.base import (
    Event,
    Headers,
    Ignored,
    MissingField,
    Unauthorized,
    contact,
    dig,
    encoded,
    full_name,
    hmac_digest,
    need,
    properties,
    required_header,
    same,
    text,
    usable_phone,
)
from bot.texts import source_messages as texts

SIGNATURE = "X-Shopify-Hmac-Sha256"
TOPIC = "X-Shopify-Topic"


class ShopifySource:
    kind = "shopify"

    def __init__(self, name: str, secret: str) -> None:
        self.name = name
        self.secret = secret

    def verify(self, headers: Headers, body: bytes) -> None:
        signature = required_header(headers, SIGNATURE)
        if not same(signature, encoded(hmac_digest(self.secret, body), "base64")):
            raise Unauthorized(texts.bad_signature(SIGNATURE))

    def to_events(self, payload: Any, headers: Headers) -> list[Event] | Ignored:
        topic = text(headers.get(TOPIC))
        if topic is None:
            raise MissingField(TOPIC, "the event type (the header names the Shopify topic)")
        if topic == "orders/fulfilled":
            return [_fulfilled(payload)]
        if topic == "orders/create":
            return [_placed(payload)]
        if topic == "fulfillments/update":
            status = text(dig(payload, "shipment_status"))
            if status != "delivered":
                return Ignored(f"Shopify fulfillment update with shipment_status {status or 'null'}")
            return [_delivered(payload)]
        return Ignored(f"Shopify topic {topic[:64]}")


def _contact_id(email: str | None, customer_id: str | None, path: str) -> str:
    if email:
        return f"shopify:{email.lower()}"
    if customer_id:
        return f"shopify:customer:{customer_id}"
    raise MissingField(path, "contact.id")


def _placed(order: Any) -> Event:
    """The order as `orders/fulfilled` reads it, placed when it was created."""
    fulfilled = _fulfilled(order)
    return fulfilled | {
        "id": f"shopify:order:{fulfilled['properties']['order_id']}:placed",
        "type": "order.placed",
        "occurred_at": text(dig(order, "created_at")),
    }


def _fulfilled(order: Any) -> Event:
    order_id = need(order, "id", "the event id (idempotency key)")
    email = text(dig(order, "email")) or text(dig(order, "customer.email"))
    customer_id = text(dig(order, "customer.id"))
    phone = dig(order, "phone") or dig(order, "customer.phone") or dig(order, "shipping_address.phone")
    return {
        "id": f"shopify:order:{order_id}:fulfilled",
        "type": "order.fulfilled",
        "occurred_at": text(dig(order, "updated_at")),
        "contact": contact(
            _contact_id(email, customer_id, "email"),
            email=email,
            phone=usable_phone(phone),
            name=full_name(dig(order, "customer.first_name"), dig(order, "customer.last_name")),
            locale=text(dig(order, "customer_locale")),
        ),
        "properties": properties(
            order_id=order_id,
            order_name=text(dig(order, "name")),
            channel=text(dig(order, "source_name")),
            total_price=text(dig(order, "total_price")),
            currency=text(dig(order, "currency")),
        ),
    }


def _delivered(fulfillment: Any) -> Event:
    fulfillment_id = need(fulfillment, "id", "the event id (idempotency key)")
    email = text(dig(fulfillment, "email"))
    name = text(dig(fulfillment, "name"))  # "#1001.1": the order's name and the fulfillment's number
    return {
        "id": f"shopify:fulfillment:{fulfillment_id}:delivered",
        "type": "order.delivered",
        "occurred_at": text(dig(fulfillment, "updated_at")),
        "contact": contact(
            _contact_id(email, None, "email"),
            email=email,
            phone=usable_phone(dig(fulfillment, "destination.phone")),
            name=full_name(
                dig(fulfillment, "destination.first_name"), dig(fulfillment, "destination.last_name")
            ),
        ),
        "properties": properties(
            order_id=need(fulfillment, "order_id", "properties.order_id"),
            order_name=name.rpartition(".")[0] or name if name else None,
            fulfillment_id=fulfillment_id,
            carrier=text(dig(fulfillment, "tracking_company")),
        ),
    }
