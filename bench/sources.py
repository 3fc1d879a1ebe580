"""Events through a source beside `POST /v1/events`, in the same run, and what a source adds.

    python bench/sources.py [--requests 3000] [--concurrency 8] [--micro 20000]

1. One real `surveybot run` on SQLite with a Shopify source and a generic `webhook` source.
   Vendors deliver one event per request, so each path gets single-event requests from
   `--concurrency` clients at once (the group commit batches them): `POST /v1/events`, a signed
   Shopify `fulfillments/update` (delivered) and a signed mapped JSON webhook, one after another.
2. In process, the per-event cost of what a source adds before ingestion: the signature check
   and the mapping (JSON parse included), for Shopify and for the generic webhook (JSONPath).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import start_bot, stop_bot  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.intake.sources.kinds import build_sources  # noqa: E402
from bot.runtime.clock import SystemClock  # noqa: E402

SHOP_SECRET, CRM_SECRET = "shpss_bench", "crm_bench"
CONFIG: dict[str, Any] = {
    "server": {"api_keys": ["bench-key"], "secret_key": "bench"},
    "surveys": {
        "nps": {"metric": "nps", "question": {"email": {"subject": "Recommend us?", "body": "0-10?"}}}
    },
    "triggers": [
        {"name": "d", "on": "order.delivered", "survey": "nps", "channels": ["email"], "delay": "1d"},
        {"name": "t", "on": "ticket.solved", "survey": "nps", "channels": ["email"], "delay": "1d"},
    ],
    "throttle": {"quiet_hours": None, "daily_cap": None},
    "sources": {
        "shop": {"kind": "shopify", "secret": SHOP_SECRET},
        "crm": {
            "kind": "webhook",
            "secret": CRM_SECRET,
            "signature": {"header": "X-Signature", "prefix": "sha256="},
            "map": {
                "id": "$.delivery_id",
                "type": "$.event",
                "contact.id": "$.customer.id",
                "contact.email": "$.customer.email",
                "properties.owner": "$.owner.name",
                "properties.ticket_id": "$.items[0].ref",
            },
        },
    },
}


def api_request(i: int) -> tuple[str, bytes, dict[str, str]]:
    event = {
        "id": f"api-{i}",
        "type": "ticket.solved",
        "contact": {"id": f"api-c{i}", "email": f"a{i}@example.com"},
        "properties": {"ticket_id": f"T-{i}", "agent": "sam"},
    }
    return "/v1/events", orjson.dumps(event), {"Authorization": "Bearer bench-key"}


def shopify_request(i: int) -> tuple[str, bytes, dict[str, str]]:
    fulfillment = {
        "id": 100000 + i,
        "order_id": 900000 + i,
        "status": "success",
        "updated_at": "2026-11-22T06:59:00-05:00",
        "tracking_company": "UPS",
        "shipment_status": "delivered",
        "email": f"s{i}@example.com",
        "destination": {"first_name": "Steve", "last_name": "Shipper", "phone": "+14155550123"},
        "line_items": [{"id": 1, "title": "Aviator sunglasses", "quantity": 1}],
        "tracking_number": "1z827wk74630",
        "name": f"#{1000 + i}.1",
    }
    body = orjson.dumps(fulfillment)
    mac = base64.b64encode(hmac.new(SHOP_SECRET.encode(), body, hashlib.sha256).digest()).decode()
    headers = {
        "X-Shopify-Topic": "fulfillments/update",
        "X-Shopify-Hmac-Sha256": mac,
        "X-Shopify-Webhook-Id": f"w-{i}",
    }
    return "/v1/sources/shop", body, headers


def webhook_request(i: int) -> tuple[str, bytes, dict[str, str]]:
    delivery = {
        "delivery_id": f"dlv-{i}",
        "event": "ticket.solved",
        "customer": {"id": f"crm-{i}", "email": f"c{i}@example.com"},
        "owner": {"name": "sam"},
        "items": [{"ref": f"T-{i}"}],
    }
    body = orjson.dumps(delivery)
    digest = hmac.new(CRM_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return "/v1/sources/crm", body, {"X-Signature": f"sha256={digest}"}


def drive(
    base: str, make: Callable[[int], tuple[str, bytes, dict[str, str]]], count: int, clients: int
) -> float:
    """Events per second for `count` single-event requests from `clients` clients at once."""
    requests = [make(i) for i in range(count)]

    def run(share: list[tuple[str, bytes, dict[str, str]]]) -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            for path, body, headers in share:
                response = client.post(
                    path, content=body, headers={**headers, "Content-Type": "application/json"}
                )
                assert response.status_code == 202, response.text
                assert response.json()["results"][0]["status"] == "accepted", response.text

    shares = [requests[i::clients] for i in range(clients)]
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(run, shares))
    return count / (time.perf_counter() - start)


def per_event_cost(make: Callable[[int], tuple[str, bytes, dict[str, str]]], name: str, count: int) -> float:
    """Microseconds per event for the signature check and the mapping (JSON parse included)."""
    config = parse_config(orjson.dumps({**CONFIG, "storage": {"url": "sqlite://"}}).decode())
    source = build_sources(config, SystemClock())[name]
    deliveries = [make(i)[1:] for i in range(count)]
    start = time.perf_counter()
    for body, headers in deliveries:
        source.verify(headers, body)
        source.to_events(orjson.loads(body), headers)
    return (time.perf_counter() - start) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=3000, help="single-event requests per path")
    parser.add_argument("--concurrency", type=int, default=8, help="clients posting at once")
    parser.add_argument("--micro", type=int, default=20000, help="deliveries for the per-event cost")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        process, base = start_bot(Path(folder), CONFIG, "bench")
        try:
            api = drive(base, api_request, args.requests, args.concurrency)
            shop = drive(base, shopify_request, args.requests, args.concurrency)
            crm = drive(base, webhook_request, args.requests, args.concurrency)
        finally:
            stop_bot(process)
    shop_cost = per_event_cost(shopify_request, "shop", args.micro)
    crm_cost = per_event_cost(webhook_request, "crm", args.micro)
    print(f"{args.requests} single-event requests per path, {args.concurrency} clients at once, SQLite")
    print(f"POST /v1/events (baseline):         {api:8,.0f} events/s")
    print(f"POST /v1/sources/shop (Shopify):    {shop:8,.0f} events/s  ratio {shop / api:.2f}")
    print(f"POST /v1/sources/crm (webhook map): {crm:8,.0f} events/s  ratio {crm / api:.2f}")
    print(f"signature + mapping per event: Shopify {shop_cost:.1f} us, webhook (JSONPath) {crm_cost:.1f} us")


if __name__ == "__main__":
    main()
