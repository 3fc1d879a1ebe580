"""Steps the Slack tests share: a survey sent and answered through the real paths, and the text
of the blocks Slack was sent."""

from __future__ import annotations

from typing import Any

from bot.app import Services
from tests.helpers import event, sends


def record_score(
    services: Services,
    event_id: str,
    *,
    score: int,
    comment: str | None = None,
    contact: str = "c1",
    properties: dict[str, Any] | None = None,
) -> str:
    """Ingest a ticket.solved event, send its survey, record the answer as the rating page
    does (listeners hear it); returns the send id."""
    [result] = services.ingestor.ingest(
        [event(event_id, contact=contact, properties=properties or {"ticket_id": "T-1", "team": "billing"})]
    )
    send_id = result.decisions[0].send_id
    assert send_id is not None
    services.dispatcher.run_once()
    assert next(s for s in sends(services.db) if s.id == send_id).status == "sent"
    outcome = services.responses.record_rating(send_id, score, comment, services.clock.now())
    assert outcome in ("recorded", "updated")
    return send_id


def all_text(blocks: list[dict[str, Any]]) -> str:
    """The texts of Slack blocks and of their elements, one per line, in order."""
    parts = []
    for block in blocks:
        if "text" in block:
            parts.append(block["text"]["text"])
        parts += [e.get("text", "") for e in block.get("elements", []) if isinstance(e.get("text"), str)]
    return "\n".join(parts)
