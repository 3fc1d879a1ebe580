"""The `log` provider: sends nothing, appends what it would have sent as one JSON line."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import orjson

from bot.channels.base import OutboundMessage, SendOutcome
from storage.models import SendStatus


class LogChannel:
    """Writes each message to `path` (one JSON object a line), flushed before it reports `sent`."""

    def __init__(self, name: str, path: str | Path) -> None:
        self.name = name
        self.path = Path(path)
        self._lock = threading.Lock()

    def send(self, message: OutboundMessage) -> SendOutcome:
        record: dict[str, Any] = {
            "send_id": message.send_id,
            "channel": message.channel,
            "to": message.to,
            "survey": message.survey,
            "body": message.body,
        }
        if message.subject is not None:
            record["subject"] = message.subject
        if message.links:
            record["links"] = {str(score): url for score, url in message.links.items()}
        if message.variables:
            record["content_variables"] = message.variables
        if message.unsubscribe_url:
            record["unsubscribe_url"] = message.unsubscribe_url
        if message.locale:
            record["locale"] = message.locale
        line = orjson.dumps(record) + b"\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab") as out:
                out.write(line)
        return SendOutcome(status=SendStatus.SENT, provider_id=f"log:{message.send_id}")

    def close(self) -> None:
        return None
