"""Logging: one JSON object a line for machines, readable lines in a terminal.

Log records carry ids (event, send, contact), never an address or a comment.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

import orjson

CONTEXT_FIELDS = ("event_id", "send_id", "contact_id", "trigger", "survey")


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry |= {name: getattr(record, name) for name in CONTEXT_FIELDS if hasattr(record, name)}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def configure_logging(*, json_lines: bool, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # twilio.http_client logs ten lines of headers per message sent at INFO.
    for noisy in ("apscheduler", "alembic", "uvicorn.access", "httpx", "twilio.http_client"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
