"""Zendesk: ticket solved → `ticket.solved`, back from solved or closed → `ticket.reopened`.

Signature: `X-Zendesk-Webhook-Signature` = base64 HMAC-SHA256 of the
`X-Zendesk-Webhook-Signature-Timestamp` value followed by the raw body, keyed with the webhook's
signing secret; the timestamp must be within the source's tolerance.

Two bodies are understood. A webhook subscribed to the Zendesk event
`zen:event-type:ticket.status_changed` sends Zendesk's own envelope (`id`, `type`, `time`,
`detail` = the ticket, `event` = {current, previous}); it names the requester by id only. A
webhook connected to a trigger sends the body the trigger defines: docs/sources.md gives the
one to paste (`event`, `ticket`, `requester`), which carries the requester's email and phone.
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
    usable_phone,
)
from bot.runtime.clock import Clock
from bot.texts import source_messages as texts

SIGNATURE = "X-Zendesk-Webhook-Signature"
TIMESTAMP = "X-Zendesk-Webhook-Signature-Timestamp"
INVOCATION = "X-Zendesk-Webhook-Invocation-Id"
STATUS_CHANGED = "zen:event-type:ticket.status_changed"
DONE = {"SOLVED", "CLOSED"}
ACTIVE = {"NEW", "OPEN", "PENDING", "HOLD"}
TRIGGER_EVENTS = {"ticket.solved", "ticket.reopened"}


class ZendeskSource:
    kind = "zendesk"

    def __init__(self, name: str, secret: str, clock: Clock, tolerance: timedelta) -> None:
        self.name = name
        self.secret = secret
        self.clock = clock
        self.tolerance = tolerance

    def verify(self, headers: Headers, body: bytes) -> None:
        signature = required_header(headers, SIGNATURE)
        timestamp = required_header(headers, TIMESTAMP)
        expected = encoded(hmac_digest(self.secret, timestamp.encode() + body), "base64")
        if not same(signature, expected):
            raise Unauthorized(texts.bad_signature(SIGNATURE))
        check_fresh(TIMESTAMP, signed_at(TIMESTAMP, timestamp), self.clock.now(), self.tolerance)

    def to_events(self, payload: Any, headers: Headers) -> list[Event] | Ignored:
        kind = text(dig(payload, "type"))
        if kind is not None and kind.startswith("zen:event-type:"):
            return _from_event(payload, kind)
        if isinstance(dig(payload, "ticket"), dict):
            return _from_trigger(payload, headers)
        raise MissingField("type", texts.NOT_A_ZENDESK_BODY)


def _from_event(payload: Any, kind: str) -> list[Event] | Ignored:
    if kind != STATUS_CHANGED:
        return Ignored(f"Zendesk event {kind}")
    current = (text(dig(payload, "event.current")) or "").upper()
    previous = (text(dig(payload, "event.previous")) or "").upper()
    if current == "SOLVED" and previous != "SOLVED":
        event_type = "ticket.solved"
    elif previous in DONE and current in ACTIVE:
        event_type = "ticket.reopened"
    else:
        return Ignored(f"Zendesk status change {previous or '?'} -> {current or '?'}")
    ticket = dig(payload, "detail")
    requester = need(payload, "detail.requester_id", "contact.id")
    event = {
        "id": "zendesk:" + need(payload, "id", "the event id (idempotency key)"),
        "type": event_type,
        "occurred_at": text(dig(payload, "time")),
        "contact": contact(f"zendesk:{requester}"),
        "properties": properties(
            ticket_id=need(payload, "detail.id", "properties.ticket_id"),
            agent=text(dig(ticket, "assignee_id")),
            team=text(dig(ticket, "group_id")),
            channel=text(dig(ticket, "via.channel")),
            brand=text(dig(ticket, "brand_id")),
            priority=(text(dig(ticket, "priority")) or "").lower() or None,
            status=current.lower(),
        ),
    }
    return [event]


def _from_trigger(payload: Any, headers: Headers) -> list[Event] | Ignored:
    event_type = need(payload, "event", "type")
    if event_type not in TRIGGER_EVENTS:
        return Ignored(f"Zendesk trigger event {event_type[:64]}")
    ticket_id = need(payload, "ticket.id", "properties.ticket_id")
    requester = need(payload, "requester.id", "contact.id")
    updated = text(dig(payload, "ticket.updated_at"))
    # The same ticket solved twice is two moments; a trigger re-sent is one.
    key = f"{ticket_id}:{event_type}:{updated}" if updated else text(headers.get(INVOCATION))
    event = {
        "id": f"zendesk:ticket:{key}" if key else None,
        "type": event_type,
        "occurred_at": updated,
        "contact": contact(
            f"zendesk:{requester}",
            email=text(dig(payload, "requester.email")),
            phone=usable_phone(dig(payload, "requester.phone")),
            name=text(dig(payload, "requester.name")),
            locale=text(dig(payload, "requester.locale")),
        ),
        "properties": properties(
            ticket_id=ticket_id,
            agent=text(dig(payload, "ticket.assignee")),
            team=text(dig(payload, "ticket.group")),
            channel=text(dig(payload, "ticket.via")),
            brand=text(dig(payload, "ticket.brand")),
        ),
    }
    return [event]
