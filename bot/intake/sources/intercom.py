"""Intercom: `conversation.admin.closed` → `conversation.closed`.

Signature: `X-Hub-Signature: sha1=<hex>`, the hex HMAC-SHA1 of the raw body keyed with the
app's client secret (Developer Hub → your app → Basic information). Intercom signs no
timestamp; the notification id (`notif_...`) is the idempotency key, so a retried or replayed
notification is `duplicate`.

Both conversation models are read: the current one (`contacts.contacts[0]`, `source.author`,
`admin_assignee_id`, `team_assignee_id`) and the 1.x one (`user`, `assignee`).
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
    hmac_digest,
    need,
    properties,
    required_header,
    same,
    text,
    unix_time,
)
from bot.texts import source_messages as texts

SIGNATURE = "X-Hub-Signature"
PEOPLE = {"user", "lead", "contact"}


class IntercomSource:
    kind = "intercom"

    def __init__(self, name: str, secret: str) -> None:
        self.name = name
        self.secret = secret

    def verify(self, headers: Headers, body: bytes) -> None:
        signature = required_header(headers, SIGNATURE)
        expected = "sha1=" + encoded(hmac_digest(self.secret, body, "sha1"), "hex")
        if not same(signature, expected):
            raise Unauthorized(texts.bad_signature(SIGNATURE))

    def to_events(self, payload: Any, headers: Headers) -> list[Event] | Ignored:
        topic = need(payload, "topic", "type")
        if topic != "conversation.admin.closed":
            return Ignored(f"Intercom topic {topic[:64]}")
        item = dig(payload, "data.item")
        author = dig(item, "source.author")
        person = author if text(dig(author, "type")) in PEOPLE else dig(item, "user")
        contact_id = text(dig(item, "contacts.contacts.0.id")) or text(dig(person, "id"))
        if contact_id is None:
            raise MissingField("data.item.contacts.contacts[0].id", "contact.id")
        agent = text(dig(item, "admin_assignee_id")) or text(dig(item, "assignee.name"))
        event = {
            "id": "intercom:" + need(payload, "id", "the event id (idempotency key)"),
            "type": "conversation.closed",
            "occurred_at": unix_time(dig(payload, "created_at")),
            "contact": contact(
                f"intercom:{contact_id}",
                email=text(dig(person, "email")),
                name=text(dig(person, "name")),
            ),
            "properties": properties(
                conversation_id=text(dig(item, "id")),
                agent=agent or text(dig(item, "assignee.id")),
                team=text(dig(item, "team_assignee_id")),
                channel=text(dig(item, "source.delivered_as")) or text(dig(item, "source.type")),
            ),
        }
        return [event]
