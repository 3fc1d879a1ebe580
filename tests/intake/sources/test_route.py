"""What every source shares: the route, the events API's path, the config's checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.app import Services
from bot.config import parse_config
from bot.errors import ConfigError
from tests.helpers import event
from tests.intake.sources.conftest import post, stored_events
from tests.intake.sources.vendors import body_of


def test_an_unknown_source_gets_404(client: TestClient) -> None:
    response = post(client, "nosuch", b"{}", {})
    assert response.status_code == 404
    assert "no source named 'nosuch'" in response.json()["error"]


def test_a_source_and_the_events_api_share_one_path_and_one_id_space(
    client: TestClient, services: Services
) -> None:
    """An id the API took first is a duplicate when a source sends it: one ingestion, one dedupe."""
    taken = client.post(
        "/v1/events", json=event("dlv_0001", contact="crm-42"), headers={"Authorization": "Bearer test-key"}
    )
    assert taken.json()["results"][0]["status"] == "accepted"
    import hashlib
    import hmac

    body = body_of({"delivery_id": "dlv_0001", "event": "ticket.solved", "customer": {"id": "crm-42"}})
    digest = hmac.new(b"crm-shared-secret", body, hashlib.sha256).hexdigest()
    again = post(client, "crm", body, {"X-Signature": f"sha256={digest}"})
    assert again.json()["results"][0]["status"] == "duplicate"
    assert [e["source"] for e in stored_events(services, "crm-42")] == ["api"]


def test_a_body_that_is_not_json_gets_400_after_the_signature(client: TestClient) -> None:
    import hashlib
    import hmac

    digest = hmac.new(b"crm-shared-secret", b"{not json", hashlib.sha256).hexdigest()
    response = post(client, "crm", b"{not json", {"X-Signature": f"sha256={digest}"})
    assert response.status_code == 400
    assert post(client, "crm", b"{not json", {"X-Signature": "sha256=00"}).status_code == 401


def problems(yaml: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_config(yaml, environ={})
    return raised.value.problems


def test_check_config_names_each_source_problem_by_its_path() -> None:
    found = problems(
        """
sources:
  helpdesk: {kind: zendesk}
  shop: {kind: shopify, secret: x, map: {id: $.id}}
  crm:
    kind: webhook
    secret: x
    map: {type: $.event, contact.nickname: $.n, properties.owner: "$.[", id: $.id}
  bare: {kind: webhook, secret: x}
  "bad name": {kind: stripe, secret: x}
"""
    )
    assert any(
        p.startswith("sources.helpdesk.secret: is required: the webhook's signing secret") for p in found
    )
    assert "sources.shop.map: only kind webhook takes map; shopify has its own" in found
    assert any(
        p.startswith("sources.crm.map: needs id, type, contact.id (missing: contact.id)") for p in found
    )
    assert any(p.startswith("sources.crm.map.contact.nickname: is not an event field") for p in found)
    assert any(p.startswith("sources.crm.map.properties.owner: '$.[' is not a JSON path") for p in found)
    assert any(p.startswith("sources.crm.signature: is required for kind webhook") for p in found)
    assert any(p.startswith("sources.bare.map: is required for kind webhook") for p in found)
    assert any(p.startswith("sources.bad name: the name is part of the URL") for p in found)


def test_an_unknown_kind_is_named_with_the_known_ones() -> None:
    found = problems("sources:\n  desk: {kind: freshdesk, secret: x}\n")
    known = "'zendesk', 'shopify', 'stripe', 'intercom' or 'webhook'"
    assert found == [f"sources.desk.kind: 'freshdesk' is not one of: {known}"]


def test_a_secret_from_an_unset_variable_is_a_problem_of_its_own() -> None:
    found = problems("sources:\n  shop: {kind: shopify, secret: '${SHOPIFY_WEBHOOK_SECRET}'}\n")
    assert any("environment variable SHOPIFY_WEBHOOK_SECRET is not set" in p for p in found)
    assert any(p.startswith("sources.shop.secret: is required") for p in found)


def test_the_shipped_config_parses_with_its_sources_example_uncommented(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[3]
    lines = (root / "config.yaml").read_text().splitlines()
    start = lines.index("# sources:")
    block = []
    for line in lines[start:]:
        if not line.startswith("#"):
            break
        block.append(line.removeprefix("# ").removeprefix("#"))
    environ = {
        name: "x"
        for name in ("ZENDESK_WEBHOOK_SECRET", "SHOPIFY_WEBHOOK_SECRET", "STRIPE_WEBHOOK_SECRET",
                     "INTERCOM_CLIENT_SECRET", "CRM_WEBHOOK_SECRET")
    }  # fmt: skip
    config = parse_config("\n".join(block), environ=environ)
    assert set(config.sources) == {"helpdesk", "shop", "billing", "inbox", "crm"}
