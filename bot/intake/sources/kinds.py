"""The kinds of source, checked and built from the config's `sources:`."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.intake.sources.base import Source
from bot.intake.sources.intercom import IntercomSource
from bot.intake.sources.shopify import ShopifySource
from bot.intake.sources.stripe import StripeSource
from bot.intake.sources.zendesk import ZendeskSource
from bot.runtime.clock import Clock

if TYPE_CHECKING:
    from bot.config import Config, SourceConfig

NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SECRET_HINTS = {
    "zendesk": "the webhook's signing secret (Admin Center > Apps and integrations > Webhooks > "
    "your webhook > Signing secret > Reveal secret)",
    "shopify": "the secret that signs your webhooks (Settings > Notifications > Webhooks, "
    "'Your webhooks will be signed with ...'), or your app's client secret",
    "stripe": "the endpoint's signing secret, whsec_... (Developers > Webhooks > your endpoint)",
    "intercom": "your app's client secret (Developer Hub > your app > Basic information)",
    "webhook": "the shared secret your system signs its deliveries with",
}


def label(source: Source) -> str:
    """How an event remembers where it came from (`explain` shows it): `zendesk:helpdesk`."""
    return f"{source.kind}:{source.name}"


def source_problems(name: str, source: SourceConfig) -> list[str]:
    where = f"sources.{name}"
    problems: list[str] = []
    if not NAME.match(name):
        problems.append(
            f"{where}: the name is part of the URL /v1/sources/<name>: use letters, digits, _ and -"
        )
    if not (source.secret or "").strip():
        problems.append(f"{where}.secret: is required: {SECRET_HINTS[source.kind]}")
    if source.kind != "webhook":
        for key in ("signature", "map"):
            if getattr(source, key) is not None:
                problems.append(f"{where}.{key}: only kind webhook takes {key}; {source.kind} has its own")
        return problems
    from bot.intake.sources.webhook import map_problems  # JSONPath loads only where a map is used

    if source.signature is None:
        problems.append(
            f"{where}.signature: is required for kind webhook, e.g. "
            "{header: X-Signature, algorithm: sha256, encoding: hex, prefix: 'sha256='}"
        )
    else:
        problems.extend(_signed_problems(f"{where}.signature", source))
    if source.map is None:
        problems.append(f"{where}.map: is required for kind webhook: JSON paths for id, type and contact.id")
    else:
        problems.extend(map_problems(f"{where}.map", source.map))
    return problems


def _signed_problems(where: str, source: SourceConfig) -> list[str]:
    signature = source.signature
    assert signature is not None
    signed = signature.signed or "{body}"
    if "{body}" not in signed:
        return [f"{where}.signed: must contain {{body}}, e.g. '{{timestamp}}.{{body}}'"]
    if "{timestamp}" in signed and not signature.timestamp_header:
        return [f"{where}.signed: uses {{timestamp}}, so timestamp_header is required"]
    return []


def build_sources(config: Config, clock: Clock) -> dict[str, Source]:
    """Every configured source by name (the config was checked: each has its secret)."""
    return {name: _build(name, settings, clock) for name, settings in config.sources.items()}


def _build(name: str, settings: SourceConfig, clock: Clock) -> Source:
    secret = settings.secret or ""
    if settings.kind == "zendesk":
        return ZendeskSource(name, secret, clock, settings.tolerance)
    if settings.kind == "shopify":
        return ShopifySource(name, secret)
    if settings.kind == "stripe":
        return StripeSource(name, secret, clock, settings.tolerance)
    if settings.kind == "intercom":
        return IntercomSource(name, secret)
    from bot.intake.sources.webhook import Signature, WebhookSource

    sig = settings.signature
    assert sig is not None and settings.map is not None
    signed = sig.signed or ("{timestamp}.{body}" if sig.timestamp_header else "{body}")
    signature = Signature(
        sig.header, sig.algorithm, sig.encoding, sig.prefix, sig.timestamp_header, sig.tolerance, signed
    )
    return WebhookSource(name, secret, signature, settings.map, clock)
