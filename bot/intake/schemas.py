"""The events API's bodies as pydantic models, for its OpenAPI description (`/openapi.json`).

`POST /v1/events` reads its raw body and judges each event alone (an invalid event is a
result, not a 422 for the whole batch), so these models describe the contract; they do not
parse requests. Parsing is `triggers.events.parse_event`, which these models must match.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.intake.ingest import MAX_BATCH
from triggers.events import MAX_TEXT
from triggers.outcomes import Outcome

Text = str | int  # ids and names may be sent as numbers; they are read as text


class ContactIn(BaseModel):
    """The customer. Addresses are optional; a survey goes to the first channel with one."""

    model_config = ConfigDict(extra="allow")
    id: Text = Field(description=f"The sender's own id for the contact (at most {MAX_TEXT} characters).")
    email: str | None = Field(None, examples=["ada@example.com"])
    phone: str | None = Field(
        None, description="E.164 (other forms are normalised)", examples=["+14155550100"]
    )
    name: Text | None = None
    timezone: str | None = Field(None, description="An IANA time zone", examples=["America/New_York"])
    locale: Text | None = Field(None, examples=["en"])


class EventIn(BaseModel):
    """A touchpoint event. `id` is an idempotency key: the same id again is `duplicate`."""

    model_config = ConfigDict(extra="allow")
    id: Text | None = Field(None, examples=["evt_123"])
    type: Text = Field(examples=["ticket.solved"])
    occurred_at: datetime | None = Field(None, description="ISO 8601; without offset it is UTC; default now")
    contact: ContactIn
    properties: dict[str, Any] | None = Field(None, examples=[{"ticket_id": "T-1", "team": "billing"}])


class EventBatch(BaseModel):
    events: list[Any] = Field(
        max_length=MAX_BATCH,
        description=f"Up to {MAX_BATCH} events (EventIn), each judged alone: an invalid one is "
        "reported in its result and the others still count.",
    )


class DecisionOut(BaseModel):
    trigger: str
    outcome: Outcome
    reason: str | None = Field(
        description="Why no send (suppressed: opted_out, no_address, stale, conditions, ...), "
        "or why later (deferred: quiet_hours)"
    )
    send_id: str | None
    due_at: datetime | None
    detail: str | None = Field(
        None,
        description="For people: a deferral's quiet hours, with the time zone used and where it "
        "came from (the contact, the phone number's region, or throttle.default_timezone)",
    )


class EventResult(BaseModel):
    id: str | None
    status: Literal["accepted", "duplicate", "invalid"]
    error: str | None = Field(description="For an invalid event: the field and what is wrong with it")
    field: str | None = Field(None, description="For an invalid event: the path of the field at fault")
    decisions: list[DecisionOut]


class EventResults(BaseModel):
    """One result per event sent, in order."""

    results: list[EventResult]


class ErrorOut(BaseModel):
    error: str


REQUEST_MODELS = (EventIn, EventBatch)
EVENTS_REQUEST: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/EventIn"},
                        {"$ref": "#/components/schemas/EventBatch"},
                    ]
                }
            }
        },
    },
    "security": [{"bearerAuth": []}],
}
EVENTS_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"model": EventResults, "description": "Each event's result and decisions"},
    400: {"model": ErrorOut, "description": "The body is not JSON, not an event, or `events` is not a list"},
    401: {"model": ErrorOut, "description": "Missing or wrong API key"},
    403: {"model": ErrorOut, "description": "The API key lacks the `ingest` scope"},
    413: {"model": ErrorOut, "description": "The body is over `server.max_body_bytes`, or over 1,000 events"},
    422: {"model": EventResults, "description": "The single event sent is invalid (its result says why)"},
    503: {"model": ErrorOut, "description": "The database is unreachable: nothing was stored, send again"},
}
