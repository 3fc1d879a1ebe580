"""Each kind's signature check against fixed vectors computed outside Python (OpenSSL's
`openssl dgst -hmac`), so the check and the tests' own signing cannot share a mistake.

Zendesk's vector uses the fixed secret Zendesk publishes for test deliveries and the timestamp
of its documented request headers. No vendor publishes a full (secret, body, signature) triple.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.intake.sources.base import Unauthorized
from bot.intake.sources.intercom import IntercomSource
from bot.intake.sources.shopify import ShopifySource
from bot.intake.sources.stripe import StripeSource
from bot.intake.sources.zendesk import ZendeskSource
from bot.runtime.clock import FakeClock

FIVE_MINUTES = timedelta(minutes=5)


def test_zendesk_vector() -> None:
    body = b'{"id":"a8b9c1d2","type":"zen:event-type:ticket.status_changed"}'
    clock = FakeClock(datetime(2021, 3, 25, 5, 10, tzinfo=UTC))
    source = ZendeskSource("z", "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==", clock, FIVE_MINUTES)
    headers = {
        "X-Zendesk-Webhook-Signature": "qSM9DtDE+4BqvzimeHcENiW9cvDaYljueq8Xa6yPCM8=",
        "X-Zendesk-Webhook-Signature-Timestamp": "2021-03-25T05:09:27Z",
    }
    source.verify(headers, body)
    with pytest.raises(Unauthorized):
        source.verify(headers, body + b" ")


def test_shopify_vector() -> None:
    body = b'{"id":123456,"shipment_status":"delivered"}'
    source = ShopifySource("s", "shpss_0123456789abcdef")
    source.verify({"X-Shopify-Hmac-Sha256": "KEuVaedA6tuyzHmhEFA+8qzrDJmJOSZ0aLDvjeMzuHw="}, body)
    with pytest.raises(Unauthorized):
        source.verify({"X-Shopify-Hmac-Sha256": "KEuVaedA6tuyzHmhEFA+8qzrDJmJOSZ0aLDvjeMzuHw="}, body[:-1])


def test_stripe_vector() -> None:
    body = b'{"id":"evt_1","type":"checkout.session.completed"}'
    source = StripeSource(
        "b", "whsec_test_5f2a1c", FakeClock(datetime(2026, 11, 22, 12, 1, tzinfo=UTC)), FIVE_MINUTES
    )
    signature = "t=1795348800,v1=3b3887c429f4e1c9d8a55a927992284eea4dbf02805391b91051e3c1521d04b0"
    source.verify({"Stripe-Signature": signature}, body)
    with pytest.raises(Unauthorized):
        source.verify({"Stripe-Signature": signature.replace("t=1795348800", "t=1795348801")}, body)


def test_intercom_vector() -> None:
    body = b'{"type":"notification_event","topic":"ping","id":"notif_1"}'
    source = IntercomSource("i", "c1ient-secret-of-the-app")
    source.verify({"X-Hub-Signature": "sha1=3ff366ad3b964cd0e2d65319eea6d6b7cbff7a77"}, body)
    with pytest.raises(Unauthorized):
        source.verify({"X-Hub-Signature": "sha1=3ff366ad3b964cd0e2d65319eea6d6b7cbff7a78"}, body)
