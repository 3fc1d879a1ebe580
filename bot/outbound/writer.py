"""Writing outbox messages inside the caller's transaction: the change and its message commit
together or not at all, so a crash can lose neither alone.

Each room that makes a change worth telling (responses, alerts, opt-outs, failed sends) calls
one method here with its open connection. A method does nothing, not even a query, when no
configured target wants that event. Test sends (`surveybot send-test`) are never told.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Literal

from bot.outbound.events import (
    AlertData,
    EventData,
    OptOutData,
    ResponseData,
    SendFailedData,
    SourceEvent,
    webhook_body,
    zendesk_body,
)
from bot.outbound.settings import WebhookConfig, ZendeskWritebackConfig
from storage import outbox
from storage.db import Connection
from storage.outbox import Outgoing, SendFacts
from triggers.paths import lookup

KEEP_TRYING = timedelta(days=1)
ZENDESK_TARGET = "zendesk"
AlertEvent = Literal["alert.created", "alert.claimed", "alert.resolved"]
OptOutSource = Literal["sms_keyword", "whatsapp_keyword", "unsubscribe_link", "provider"]


class OutboxWriter:
    """Turns changes into outbox messages for the webhooks that want them and the write-back."""

    def __init__(
        self,
        webhooks: Sequence[WebhookConfig] = (),
        *,
        zendesk: ZendeskWritebackConfig | None = None,
        zendesk_sources: frozenset[str] = frozenset(),
        scales: Mapping[str, tuple[int, int]] | None = None,
    ) -> None:
        self.webhooks = list(webhooks)
        self.zendesk = zendesk
        self.zendesk_sources = zendesk_sources  # names of the `sources:` entries of kind zendesk
        self.scales = dict(scales or {})
        self.wanted = {event for hook in self.webhooks for event in hook.events}
        if zendesk:
            self.wanted |= {"response.created", "response.updated"}

    def response_recorded(
        self, conn: Connection, *, send_id: str, score: int, comment: str | None, counted: bool,
        updated: bool, now: datetime,
    ) -> None:  # fmt: skip
        event_type = "response.updated" if updated else "response.created"
        if event_type not in self.wanted:
            return
        facts = outbox.send_facts(conn, send_id)
        if facts is None or facts.test:
            return
        data = ResponseData(
            send_id=send_id, contact_id=facts.contact_id, survey=facts.survey, metric=facts.metric,
            score=score, comment=comment, counted=counted, channel=facts.channel, trigger=facts.trigger,
            event=SourceEvent(id=facts.event_id, type=facts.event_type, source=facts.event_source),
            properties=facts.properties, received_at=now,
        )  # fmt: skip
        messages = self._webhooks(event_type, data, now, contact_id=facts.contact_id, send_id=send_id)
        if ticket := self._ticket_id(facts):
            messages.append(self._zendesk(data, facts, ticket, updated=updated))
        self._write(conn, messages, now)

    def alert_changed(
        self, conn: Connection, event_type: AlertEvent, *, send_id: str, survey: str, score: int,
        by: str | None, now: datetime,
    ) -> None:  # fmt: skip
        if event_type not in self.wanted:
            return
        facts = outbox.send_facts(conn, send_id)
        contact_id = facts.contact_id if facts else None
        data = AlertData(send_id=send_id, contact_id=contact_id, survey=survey, score=score, by=by, at=now)
        self._write(conn, self._webhooks(event_type, data, now, contact_id=contact_id, send_id=send_id), now)

    def opted_out(
        self, conn: Connection, *, channel: str, source: OptOutSource, now: datetime,
        send_id: str | None = None, contact_id: str | None = None,
    ) -> None:  # fmt: skip
        if "contact.opted_out" not in self.wanted:
            return
        if contact_id is None and send_id is not None:
            facts = outbox.send_facts(conn, send_id)
            contact_id = facts.contact_id if facts else None
        data = OptOutData(contact_id=contact_id, send_id=send_id, channel=channel, source=source, at=now)
        messages = self._webhooks("contact.opted_out", data, now, contact_id=contact_id, send_id=send_id)
        self._write(conn, messages, now)

    def send_failed(
        self, conn: Connection, *, send_id: str, status: Literal["failed", "undelivered"],
        reason: str | None, now: datetime,
    ) -> None:  # fmt: skip
        if "send.failed" not in self.wanted:
            return
        facts = outbox.send_facts(conn, send_id)
        if facts is None or facts.test:
            return
        data = SendFailedData(
            send_id=send_id, contact_id=facts.contact_id, survey=facts.survey, trigger=facts.trigger,
            channel=facts.channel, status=status, reason=reason, at=now,
        )  # fmt: skip
        self._write(
            conn, self._webhooks("send.failed", data, now, contact_id=facts.contact_id, send_id=send_id), now
        )

    # --- building messages ------------------------------------------------------------------

    def _webhooks(
        self, event_type: str, data: EventData, now: datetime, *, contact_id: str | None, send_id: str | None
    ) -> list[Outgoing]:
        hooks = [hook for hook in self.webhooks if event_type in hook.events]
        if not hooks:
            return []
        body = webhook_body(event_type, data, now)
        return [
            Outgoing(hook.name, "webhook", event_type, body, contact_id=contact_id, send_id=send_id)
            for hook in hooks
        ]

    def _ticket_id(self, facts: SendFacts) -> str | None:
        """The Zendesk ticket the response is about: a Zendesk source's event always names it
        in `properties.ticket_id`; another event where `writeback.zendesk.ticket_id` points."""
        if self.zendesk is None:
            return None
        document = {"type": facts.event_type, "properties": facts.properties}
        if facts.event_source in self.zendesk_sources:
            value = lookup(document, "properties.ticket_id")
        elif self.zendesk.ticket_id:
            value = lookup(document, self.zendesk.ticket_id)
        else:
            return None
        ticket = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
        return ticket if ticket.isdigit() else None  # Zendesk's ticket ids are numbers

    def _zendesk(self, data: ResponseData, facts: SendFacts, ticket: str, *, updated: bool) -> Outgoing:
        assert self.zendesk is not None
        scale = self.scales.get(facts.survey, (0, 10))
        body = zendesk_body(data, tags=self.zendesk.tags, scale=scale, updated=updated)
        event_type = "response.updated" if updated else "response.created"
        return Outgoing(ZENDESK_TARGET, "zendesk", event_type, body, contact_id=facts.contact_id,
                        send_id=facts.send_id, ticket_id=ticket)  # fmt: skip

    def _write(self, conn: Connection, messages: list[Outgoing], now: datetime) -> None:
        if messages:
            outbox.enqueue(conn, messages, now=now, keep_trying=KEEP_TRYING)
