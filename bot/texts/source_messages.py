"""What surveybot answers a vendor's webhook (and the person reading the vendor's delivery log)."""

from __future__ import annotations


def unknown_source(name: str) -> str:
    return f"no source named {name!r} is configured (sources: in config.yaml)"


def missing_header(header: str) -> str:
    return f"the {header} header is missing: the request is not signed, nothing was stored"


def bad_signature(header: str) -> str:
    return f"the {header} signature does not match the body and the source's secret; nothing was stored"


def stale_timestamp(header: str, age_seconds: float, tolerance_seconds: float) -> str:
    return (
        f"the signed timestamp ({header}) is {abs(age_seconds):.0f}s away from now, more than the "
        f"{tolerance_seconds:.0f}s allowed: a replayed or delayed delivery; nothing was stored"
    )


def unreadable_timestamp(header: str, value: str) -> str:
    return f"the {header} header {value[:40]!r} is not a Unix time or an ISO 8601 time; nothing was stored"


def missing_field(path: str, needed_for: str) -> str:
    return f"{path}: is missing or empty in the payload, and {needed_for} needs it; nothing was stored"


def not_an_object() -> str:
    return "the body must be a JSON object; nothing was stored"


def ignored(what: str) -> str:
    return f"{what}: not an event this source maps, ignored (answered 2xx so the webhook stays on)"


NOT_A_ZENDESK_BODY = (
    "the body is neither a Zendesk event (type zen:event-type:...) nor the trigger body that "
    "docs/sources.md describes (event, ticket, requester)"
)
