"""Stripe's events through the HTTP app, signed as Stripe signs them."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from bot.app import Services
from bot.runtime.clock import FakeClock
from tests.helpers import sends
from tests.intake.sources.conftest import explained, metric, post, stored_events
from tests.intake.sources.vendors import (
    STRIPE_CHECKOUT_SESSION,
    STRIPE_SUBSCRIPTION,
    body_of,
    stripe_event,
    stripe_headers,
)

CONTACT = "stripe:cus_NeZwdNtLEOXuvB"


def now(clock: FakeClock) -> int:
    return int(clock.now().timestamp())


def test_a_completed_checkout_becomes_checkout_completed(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    payload = stripe_event(
        "evt_1NG8Du2eZvKYlo2CUI79vXWy", "checkout.session.completed", STRIPE_CHECKOUT_SESSION, now(clock)
    )
    body = body_of(payload)
    response = post(client, "billing", body, stripe_headers(body, now(clock)))
    assert response.status_code == 202
    [result] = response.json()["results"]
    assert result["id"] == "stripe:evt_1NG8Du2eZvKYlo2CUI79vXWy"
    assert [(d["trigger"], d["outcome"]) for d in result["decisions"]] == [
        ("nps_after_checkout", "scheduled")
    ]
    assert sends(services.db)[0].to_address == "ada@example.com"
    [event] = stored_events(services, CONTACT)
    assert event["properties"]["checkout_session_id"].startswith("cs_test_")
    assert any("via stripe:billing" in line for line in explained(services, CONTACT))


def test_a_deleted_subscription_becomes_subscription_cancelled(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    body = body_of(
        stripe_event("evt_sub_deleted_1", "customer.subscription.deleted", STRIPE_SUBSCRIPTION, now(clock))
    )
    response = post(client, "billing", body, stripe_headers(body, now(clock)))
    assert response.status_code == 202
    [event] = stored_events(services, CONTACT)
    assert event["type"] == "subscription.cancelled"
    assert event["properties"] == {
        "subscription_id": "sub_1MowQVLkdIwHu7ixeRlqHVzs",
        "price_id": "price_1MowQULkdIwHu7ixraBm864M",
        "cancel_reason": "cancellation_requested",
        "feedback": "too_expensive",
    }


def test_a_retried_event_is_a_duplicate(client: TestClient, services: Services, clock: FakeClock) -> None:
    body = body_of(
        stripe_event("evt_retry", "checkout.session.completed", STRIPE_CHECKOUT_SESSION, now(clock))
    )
    post(client, "billing", body, stripe_headers(body, now(clock)))
    clock.advance(timedelta(minutes=1))  # Stripe signs each attempt anew
    again = post(client, "billing", body, stripe_headers(body, now(clock)))
    assert again.json()["results"][0]["status"] == "duplicate"
    assert len(sends(services.db)) == 1


def test_a_signature_older_than_five_minutes_is_refused(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    body = body_of(
        stripe_event("evt_replayed", "checkout.session.completed", STRIPE_CHECKOUT_SESSION, now(clock))
    )
    headers = stripe_headers(body, now(clock))
    clock.advance(timedelta(minutes=5, seconds=1))
    response = post(client, "billing", body, headers)
    assert response.status_code == 401
    assert "Stripe-Signature t" in response.json()["error"]
    assert sends(services.db) == []
    assert metric(client, "billing", "refused_stale") == 1


def test_a_forged_or_malformed_signature_gets_401(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    body = body_of(
        stripe_event("evt_forged", "checkout.session.completed", STRIPE_CHECKOUT_SESSION, now(clock))
    )
    forged = stripe_headers(body, now(clock), secret="whsec_wrong")
    assert post(client, "billing", body, forged).status_code == 401
    for header in ("v1=abc", f"t={now(clock)}", "garbage", f"t=soon,v1={'0' * 64}"):
        assert post(client, "billing", body, {"Stripe-Signature": header}).status_code == 401
    assert sends(services.db) == []


def test_one_matching_v1_of_several_is_enough(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    """While a secret is rolled Stripe sends one v1 per secret."""
    body = body_of(
        stripe_event("evt_rolled", "checkout.session.completed", STRIPE_CHECKOUT_SESSION, now(clock))
    )
    header = stripe_headers(body, now(clock))["Stripe-Signature"]
    t, v1 = header.split(",")
    v0 = "v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"
    rolled = {"Stripe-Signature": f"{t},v1={'f' * 64},{v1},{v0}"}
    assert post(client, "billing", body, rolled).status_code == 202


def test_other_event_types_are_ignored(client: TestClient, services: Services, clock: FakeClock) -> None:
    body = body_of(stripe_event("evt_pi", "payment_intent.succeeded", {"id": "pi_1"}, now(clock)))
    response = post(client, "billing", body, stripe_headers(body, now(clock)))
    assert response.status_code == 200
    assert "payment_intent.succeeded" in response.json()["ignored"]


def test_a_subscription_without_customer_gets_422_naming_the_path(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    body = body_of(
        stripe_event(
            "evt_nocus", "customer.subscription.deleted", STRIPE_SUBSCRIPTION | {"customer": None}, now(clock)
        )
    )
    response = post(client, "billing", body, stripe_headers(body, now(clock)))
    assert response.status_code == 422
    assert response.json()["field"] == "customer"


def test_a_created_subscription_becomes_subscription_started_at_its_start_date(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    started = now(clock) - 3600
    subscription = STRIPE_SUBSCRIPTION | {"status": "active", "start_date": started}
    body = body_of(
        stripe_event("evt_sub_created_1", "customer.subscription.created", subscription, now(clock))
    )
    response = post(client, "billing", body, stripe_headers(body, now(clock)))
    assert response.status_code == 202
    [event] = stored_events(services, CONTACT)
    assert event["type"] == "subscription.started"
    assert event["occurred_at"].startswith((clock.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    assert event["properties"]["subscription_id"] == "sub_1MowQVLkdIwHu7ixeRlqHVzs"
