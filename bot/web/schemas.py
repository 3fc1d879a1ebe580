"""The HTTP API's bodies as pydantic models, for its OpenAPI description (`/openapi.json`).

`POST /v1/events` reads its raw body and judges each event alone (an invalid event is a
result, not a 422 for the whole batch), so these models describe the contract; they do not
parse requests. Parsing is `triggers.events.parse_event`, which these models must match.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

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
    413: {"model": ErrorOut, "description": "The body is over `server.max_body_bytes`, or over 1,000 events"},
    422: {"model": EventResults, "description": "The single event sent is invalid (its result says why)"},
    503: {"model": ErrorOut, "description": "The database is unreachable: nothing was stored, send again"},
}
PAGE_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "The link is not valid (changed, cut short, not ours)",
        "content": {"text/html": {}},
    },
    404: {"description": "The link's send is unknown", "content": {"text/html": {}}},
    410: {"description": "The link is genuine but too old", "content": {"text/html": {}}},
}
_PLAIN = {"text/plain": {"schema": {"type": "string"}}}
WEBHOOK_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "A form field is missing, or a message SID is malformed", "content": _PLAIN},
    403: {"description": "Missing or wrong X-Twilio-Signature: nothing changed", "content": _PLAIN},
    503: {"description": "The database is unreachable; Twilio may retry", "content": _PLAIN},
}
TWIML: dict[int | str, dict[str, Any]] = {
    200: {"description": "TwiML: our answer", "content": {"application/xml": {}}}
}


def install_openapi(app: FastAPI) -> None:
    """Make `app.openapi()` include the request models and the bearer scheme it refers to."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)  # fmt: skip
            _, defs = models_json_schema(
                [(model, "validation") for model in REQUEST_MODELS],
                ref_template="#/components/schemas/{model}",
            )
            components = schema.setdefault("components", {})
            components.setdefault("schemas", {}).update(defs.get("$defs", {}))
            components["securitySchemes"] = {"bearerAuth": {"type": "http", "scheme": "bearer"}}
            _add_too_large(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_too_large(schema: dict[str, Any]) -> None:
    """Every POST may be refused by `bot.web.limits.BodyLimit` before its handler runs."""
    too_large = {
        "description": "The request body is too large",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
    }
    for operations in schema["paths"].values():
        if "post" in operations:
            operations["post"]["responses"].setdefault("413", too_large)
