"""The events surveybot sends out, each `data` shape defined once (docs/webhooks.md shows them).

A webhook's body is `{"type": ..., "timestamp": ..., "data": {...}}` (Standard Webhooks); the
Zendesk write-back's is the ticket update Zendesk's Tickets API takes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict


class EventData(BaseModel):
    model_config = ConfigDict(frozen=True)


class SourceEvent(EventData):
    """The touchpoint event that led to the survey."""

    id: str | None  # the sender's event id (null when it gave none)
    type: str | None
    source: str | None  # `api`, `import`, or the name of the entry under `sources:`


class ResponseData(EventData):
    """`response.created` (a first score for a send) and `response.updated` (changed while open)."""

    send_id: str
    contact_id: str
    survey: str
    metric: str
    score: int
    comment: str | None
    counted: bool  # false for a reply after the survey expired: kept, not in the metrics
    channel: str
    trigger: str
    event: SourceEvent
    properties: dict[str, object]
    received_at: datetime


class AlertData(EventData):
    """`alert.created` (posted to Slack), `alert.claimed` ("I'll follow up"), `alert.resolved`."""

    send_id: str
    contact_id: str | None
    survey: str
    score: int
    by: str | None  # the Slack user who claimed or resolved it; null for `alert.created`
    at: datetime


class OptOutData(EventData):
    """`contact.opted_out`: an address asked not to be surveyed again (STOP, unsubscribe link,
    or the provider reports it). The address itself is not sent: only whose it was, if known."""

    contact_id: str | None
    send_id: str | None
    channel: str
    source: Literal["sms_keyword", "whatsapp_keyword", "unsubscribe_link", "provider"]
    at: datetime


class SendFailedData(EventData):
    """`send.failed`: a survey did not reach its contact (refused, undelivered, unrenderable)."""

    send_id: str
    contact_id: str
    survey: str
    trigger: str
    channel: str
    status: Literal["failed", "undelivered"]
    reason: str | None
    at: datetime


DATA_SHAPES: dict[str, type[EventData]] = {
    "response.created": ResponseData,
    "response.updated": ResponseData,
    "alert.created": AlertData,
    "alert.claimed": AlertData,
    "alert.resolved": AlertData,
    "contact.opted_out": OptOutData,
    "send.failed": SendFailedData,
}


def webhook_body(event_type: str, data: EventData, now: datetime) -> str:
    """The exact JSON a webhook receiver gets; it is stored and signed as is."""
    envelope = {"type": event_type, "timestamp": now, "data": data.model_dump(mode="json")}
    return orjson.dumps(envelope, option=orjson.OPT_UTC_Z).decode()


def zendesk_note(data: ResponseData, scale: tuple[int, int], *, updated: bool) -> str:
    """The internal note on the ticket; the comment is quoted as plain text."""
    low, high = scale
    verb = "changed their answer to" if updated else "answered"
    lines = [f"surveybot: the customer {verb} the {data.metric.upper()} survey {data.survey!r}: "
             f"{data.score} on {low}-{high}."]  # fmt: skip
    if data.comment:
        lines += ["", "Comment:", *(f"> {line}" for line in data.comment.splitlines())]
    return "\n".join(lines)


def zendesk_body(data: ResponseData, *, tags: list[str], scale: tuple[int, int], updated: bool) -> str:
    """A ticket update: an internal note (`public: false`) and tags added to those it has."""
    score_tag = f"surveybot_{data.metric}_{data.score}"
    ticket = {
        "comment": {"body": zendesk_note(data, scale, updated=updated), "public": False},
        "additional_tags": [*tags, score_tag],
    }
    return orjson.dumps({"ticket": ticket}).decode()
