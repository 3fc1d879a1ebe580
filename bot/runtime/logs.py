"""Logging: one JSON object a line for machines, readable lines in a terminal.

Log records carry ids (event, send, contact) as `extra`, never an address or a comment. As a
second line of defence, whatever reaches the output (a message, an exception's text) has
email addresses, E.164 phone numbers and bearer tokens masked: an exception raised by a
library can quote what we handed it.
"""

from __future__ import annotations

import logging
import re
import sys
from datetime import UTC, datetime

import orjson

CONTEXT_FIELDS = ("event_id", "send_id", "contact_id", "trigger", "survey")
_MASKS = (
    (re.compile(r"[^\s@<>\"'(),;:\[\]]+@[^\s@<>\"'(),;:\[\]]+\.[A-Za-z]{2,}"), "[email]"),
    (re.compile(r"\+[1-9]\d{6,14}\b"), "[phone]"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 [secret]"),
)


def redact(text: str) -> str:
    """`text` with email addresses, phone numbers and bearer or basic credentials masked."""
    for pattern, mask in _MASKS:
        text = pattern.sub(mask, text)
    return text


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        entry |= {name: getattr(record, name) for name in CONTEXT_FIELDS if hasattr(record, name)}
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(entry).decode()


class Readable(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure_logging(*, json_lines: bool, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(Readable("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # twilio.http_client logs ten lines of headers per message sent at INFO.
    for noisy in ("apscheduler", "alembic", "uvicorn.access", "httpx", "twilio.http_client"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
