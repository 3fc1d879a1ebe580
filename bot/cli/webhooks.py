"""`surveybot webhooks`: the outbox's recent deliveries and failures, and retrying a failed one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from bot.cli.commands import open_database
from bot.config import Config
from bot.outbound.writer import KEEP_TRYING
from bot.runtime.clock import SystemClock
from bot.texts.times import when
from storage import outbox
from storage.outbox import Message

STATUS_STYLES = {"pending": "yellow", "delivered": "green", "failed": "red", "dropped": "dim"}


def recent_deliveries(
    config: Config, *, limit: int, status: str | None
) -> tuple[list[Message], dict[str, int]]:
    """The newest `limit` messages (only those in `status` when given), and counts by status."""
    db = open_database(config)
    try:
        with db.read() as conn:
            return outbox.recent(conn, limit=limit, status=status), outbox.counts_by_status(conn)
    finally:
        db.dispose()


def retry_delivery(config: Config, message_id: str, keep_trying: timedelta = KEEP_TRYING) -> Message | None:
    """Put a failed message back in the queue, due now; None when no failed message has that id."""
    db = open_database(config)
    try:
        with db.write() as conn:
            return outbox.retry(conn, message_id=message_id, now=SystemClock().now(), keep_trying=keep_trying)
    finally:
        db.dispose()


def message_json(message: Message) -> dict[str, Any]:
    """A message for programs: everything but the body (it may hold a comment)."""
    return {
        "id": message.id,
        "target": message.target,
        "kind": message.kind,
        "event_type": message.event_type,
        "status": message.status,
        "attempts": message.attempts,
        "contact_id": message.contact_id,
        "send_id": message.send_id,
        "ticket_id": message.ticket_id,
        "created_at": message.created_at.isoformat(),
        "next_attempt_at": message.next_attempt_at.isoformat() if message.status == "pending" else None,
        "delivered_at": message.delivered_at.isoformat() if message.delivered_at else None,
        "last_status": message.last_status,
        "last_error": message.last_error,
    }


def deliveries_table(messages: list[Message], counts: dict[str, int]) -> Table:
    summary = ", ".join(f"{counts.get(s, 0):,} {s}" for s in STATUS_STYLES)
    table = Table(title=f"outbox: {summary}", title_justify="left", box=box.SIMPLE_HEAD)
    for name in ("id", "created (UTC)", "target", "event", "status", "tries", "last answer"):
        table.add_column(name, no_wrap=name != "last answer")
    for m in messages:
        answer = m.last_error or (f"HTTP {m.last_status}" if m.last_status else "")
        if m.status == "pending" and m.attempts:
            answer = f"{answer}; again at {when(m.next_attempt_at)}"
        table.add_row(m.id, when(m.created_at), m.target, m.event_type,
                      Text(m.status, style=STATUS_STYLES.get(m.status, "")), str(m.attempts),
                      Text(answer))  # fmt: skip
    return table
