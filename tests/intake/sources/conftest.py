"""A bot with one source of each kind, and its HTTP app."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.app import Services
from bot.web.app import create_web_app
from storage.explain import contact_history, timeline
from tests.conftest import BASE_CONFIG, ServicesFactory
from tests.intake.sources.vendors import INTERCOM_SECRET, SHOPIFY_SECRET, STRIPE_SECRET, ZENDESK_TEST_SECRET

CRM_SECRET = "crm-shared-secret"
SOURCES: dict[str, Any] = {
    "helpdesk": {"kind": "zendesk", "secret": ZENDESK_TEST_SECRET},
    "shop": {"kind": "shopify", "secret": SHOPIFY_SECRET},
    "billing": {"kind": "stripe", "secret": STRIPE_SECRET},
    "inbox": {"kind": "intercom", "secret": INTERCOM_SECRET},
    "crm": {
        "kind": "webhook",
        "secret": CRM_SECRET,
        "signature": {"header": "X-Signature", "algorithm": "sha256", "encoding": "hex", "prefix": "sha256="},
        "map": {
            "id": "$.delivery_id",
            "type": "$.event",
            "occurred_at": "$.at",
            "contact.id": "$.customer.id",
            "contact.email": "$.customer.email",
            "contact.name": "$.customer['full name']",
            "properties.owner": "$.owner.name",
            "properties.ticket_id": "$.items[0].ref",
            "properties.channel": "crm",
        },
    },
}
EXTRA_TRIGGERS = [
    {"name": "csat_after_chat", "on": "conversation.closed", "survey": "support_csat", "channels": ["email"]},
    {
        "name": "nps_after_checkout",
        "on": "checkout.completed",
        "survey": "delivery_nps",
        "channels": ["email"],
    },
    {"name": "exit_survey", "on": "subscription.cancelled", "survey": "delivery_nps", "channels": ["email"]},
]


@pytest.fixture
def services(make_services: ServicesFactory) -> Services:
    triggers = copy.deepcopy(BASE_CONFIG["triggers"]) + EXTRA_TRIGGERS
    return make_services(sources=SOURCES, triggers=triggers)


@pytest.fixture
def client(services: Services) -> TestClient:
    return TestClient(create_web_app(services))


def post(client: TestClient, source: str, body: bytes, headers: dict[str, str]) -> Any:
    return client.post(f"/v1/sources/{source}", content=body, headers=headers)


def stored_events(services: Services, contact_id: str) -> list[dict[str, Any]]:
    with services.db.read() as conn:
        return contact_history(conn, contact_id).events


def explained(services: Services, contact_id: str) -> list[str]:
    """The lines `surveybot explain` shows for the contact."""
    with services.db.read() as conn:
        return [moment.what for moment in timeline(contact_history(conn, contact_id))]


def metric(client: TestClient, source: str, outcome: str) -> float:
    needle = f'surveybot_source_deliveries_total{{outcome="{outcome}",source="{source}"}}'
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(needle):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
