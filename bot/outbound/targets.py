"""Where outbox messages go: a Standard Webhooks receiver, or Zendesk's Tickets API.

`standardwebhooks` is imported here only: each attempt is signed afresh (`webhook-timestamp`
is the attempt's time, which the receiver checks against its own clock) under the message's
one `webhook-id`, so a receiver can drop a repeat it has seen.
"""

from __future__ import annotations

import base64
from typing import Protocol

from standardwebhooks import Webhook

from bot.outbound.http import HttpAnswer, send_request
from bot.outbound.settings import WebhookConfig, ZendeskWritebackConfig
from bot.runtime.clock import Clock
from storage.outbox import Message


class Target(Protocol):
    def attempt(self, message: Message) -> HttpAnswer:
        """Send `message` once; the answer, or why there was none."""


class WebhookTarget:
    def __init__(self, config: WebhookConfig, signing_clock: Clock) -> None:
        self.config = config
        self.signing_clock = signing_clock
        self._signer = Webhook(config.secret)

    def attempt(self, message: Message) -> HttpAnswer:
        return send_request(
            "POST",
            self.config.url,
            body=message.body.encode(),
            headers=self.headers(message),
            timeout=self.config.timeout.total_seconds(),
        )

    def headers(self, message: Message) -> dict[str, str]:
        now = self.signing_clock.now()
        return {
            "Content-Type": "application/json",
            "webhook-id": message.id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": self._signer.sign(message.id, now, message.body),
        }


class ZendeskTarget:
    """`PUT /api/v2/tickets/{id}.json` with the message's ticket update, API-token auth."""

    def __init__(self, config: ZendeskWritebackConfig) -> None:
        self.config = config
        login = f"{config.email}/token:{config.api_token}".encode()
        self._authorization = "Basic " + base64.b64encode(login).decode()

    def attempt(self, message: Message) -> HttpAnswer:
        if not message.ticket_id or not message.ticket_id.isdigit():
            return HttpAnswer(None, error=f"no Zendesk ticket id on message {message.id}")
        return send_request(
            "PUT",
            f"{self.config.base_url}/api/v2/tickets/{message.ticket_id}.json",
            body=message.body.encode(),
            headers={"Content-Type": "application/json", "Authorization": self._authorization},
            timeout=self.config.timeout.total_seconds(),
        )
