"""Stripe: `checkout.session.completed` → `checkout.completed`; `customer.subscription.deleted`
→ `subscription.cancelled` (an exit survey is a touchpoint too); `customer.subscription.created`
→ `subscription.started`, at the subscription's `start_date` (churn's customers: docs/outcomes.md).

Signature: `Stripe-Signature: t=<unix time>,v1=<hex>[,v1=...]`, each v1 the hex HMAC-SHA256 of
`<t>.<raw body>` keyed with the endpoint's signing secret (`whsec_...`); `t` must be within the
source's tolerance (5 minutes, as Stripe's own libraries default). The event id (`evt_...`) is
the idempotency key: Stripe's retries carry the same one.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.intake.sources.base import (
    Event,
    Headers,
    Ignored,
    MissingField,
    Unauthorized,
    check_fresh,
    contact,
    dig,
    encoded,
    hmac_digest,
    need,
    properties,
    required_header,
    same,
    signed_at,
    text,
    unix_time,
    usable_phone,
)
from bot.runtime.clock import Clock
from bot.texts import source_messages as texts

SIGNATURE = "Stripe-Signature"
TYPES = {
    "checkout.session.completed": "checkout.completed",
    "customer.subscription.deleted": "subscription.cancelled",
    "customer.subscription.created": "subscription.started",
}


class StripeSource:
    kind = "stripe"

    def __init__(self, name: str, secret: str, clock: Clock, tolerance: timedelta) -> None:
        self.name = name
        self.secret = secret
        self.clock = clock
        self.tolerance = tolerance

    def verify(self, headers: Headers, body: bytes) -> None:
        header = required_header(headers, SIGNATURE)
        pairs = [part.strip().partition("=") for part in header.split(",")]
        timestamps = [value for key, _, value in pairs if key == "t"]
        signatures = [value for key, _, value in pairs if key == "v1"]
        if len(timestamps) != 1 or not timestamps[0].isdigit() or not signatures:
            raise Unauthorized(texts.bad_signature(SIGNATURE))
        expected = encoded(hmac_digest(self.secret, timestamps[0].encode() + b"." + body), "hex")
        # Every v1 is compared: during a secret roll Stripe signs with both secrets.
        if not any([same(signature, expected) for signature in signatures]):
            raise Unauthorized(texts.bad_signature(SIGNATURE))
        check_fresh(SIGNATURE + " t", signed_at(SIGNATURE, timestamps[0]), self.clock.now(), self.tolerance)

    def to_events(self, payload: Any, headers: Headers) -> list[Event] | Ignored:
        stripe_type = need(payload, "type", "type")
        if stripe_type not in TYPES:
            return Ignored(f"Stripe event {stripe_type[:64]}")
        event_id = need(payload, "id", "the event id (idempotency key)")
        session = dig(payload, "data.object")
        if stripe_type == "checkout.session.completed":
            found, props = _checkout(session)
        else:
            found, props = _subscription(session)
        at = dig(session, "start_date") if stripe_type == "customer.subscription.created" else None
        return [
            {
                "id": f"stripe:{event_id}",
                "type": TYPES[stripe_type],
                "occurred_at": unix_time(at if at is not None else dig(payload, "created")),
                "contact": found,
                "properties": props,
            }
        ]


def _checkout(session: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    customer = text(dig(session, "customer"))
    email = text(dig(session, "customer_details.email")) or text(dig(session, "customer_email"))
    if customer:
        contact_id = f"stripe:{customer}"
    elif email:
        contact_id = f"stripe:{email.lower()}"  # a guest checkout: no customer object
    else:
        raise MissingField("data.object.customer", "contact.id")
    locale = text(dig(session, "locale"))
    found = contact(
        contact_id,
        email=email,
        phone=usable_phone(dig(session, "customer_details.phone")),
        name=text(dig(session, "customer_details.name")),
        locale=None if locale == "auto" else locale,
    )
    props = properties(
        checkout_session_id=text(dig(session, "id")),
        mode=text(dig(session, "mode")),
        amount_total=text(dig(session, "amount_total")),
        currency=text(dig(session, "currency")),
        channel="checkout",
    )
    return found, props


def _subscription(subscription: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    customer = need(subscription, "customer", "contact.id")
    found = contact(f"stripe:{customer}")
    props = properties(
        subscription_id=text(dig(subscription, "id")),
        price_id=text(dig(subscription, "items.data.0.price.id")),
        cancel_reason=text(dig(subscription, "cancellation_details.reason")),
        feedback=text(dig(subscription, "cancellation_details.feedback")),
    )
    return found, props
