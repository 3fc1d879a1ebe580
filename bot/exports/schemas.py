"""The responses feed's answers as pydantic models, for the OpenAPI description only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from bot.intake.schemas import ErrorOut


class ResponseOut(BaseModel):
    id: int = Field(description="The response's id (stable)")
    send_id: str
    survey: str
    metric: str = Field(description="csat, ces or nps")
    score: int
    comment: str | None = Field(description="The comment; null when none, or the contact was forgotten")
    counted: bool = Field(description="False for a reply after the survey expired, or to a test send")
    channel: str
    trigger: str
    contact_id: str = Field(description="Your id for the contact")
    event_id: str | None = Field(description="Your id for the event; null when none, or the event was purged")
    event_type: str | None
    received_at: datetime
    updated_at: datetime = Field(description="Later than received_at when the answer was changed")


class ResponsesPage(BaseModel):
    data: list[ResponseOut] = Field(description="Oldest first, at most `limit`")
    next_cursor: str = Field(description="Pass it as `cursor` for the next page, now or later")
    has_more: bool = Field(description="True when more responses are ready right now")


RESPONSES_PARAMETERS: dict[str, Any] = {
    "parameters": [
        {"name": "cursor", "in": "query", "required": False,
         "description": "`next_cursor` of the previous page; without it, the first page",
         "schema": {"type": "string"}},
        {"name": "limit", "in": "query", "required": False,
         "description": "How many responses at most (1 to 1000, default 100)",
         "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
        {"name": "since", "in": "query", "required": False,
         "description": "Only responses received at or after this time (ISO 8601; UTC without offset)",
         "schema": {"type": "string", "format": "date-time"}},
    ],
    "security": [{"bearerAuth": []}],
}  # fmt: skip
RESPONSES_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": ResponsesPage, "description": "A page of responses and the cursor for the next"},
    400: {"model": ErrorOut, "description": "`cursor`, `limit` or `since` is not valid (the error names it)"},
    401: {"model": ErrorOut, "description": "Missing or wrong API key"},
    403: {"model": ErrorOut, "description": "The API key lacks the `read` scope"},
    503: {"model": ErrorOut, "description": "The database is unreachable: ask again"},
}
