"""`POST /v1/sources/<name>`: a vendor's webhook in, our events through the events API's path.

The answer is the events API's (`results` with each event's status and decisions; 422 when the
one event is invalid). Before anything is read: a bad or missing signature, or a stale signed
timestamp, is 401 and stores nothing. A topic the kind does not map is 200 with `ignored`, and
only counted (`surveybot_source_deliveries{outcome="ignored"}`), so the vendor keeps the
webhook on and `explain` stays about real events.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot.config import Config
from bot.intake.batcher import IngestQueue
from bot.intake.http import json_response
from bot.intake.sources.base import Event, Ignored, MissingField, Source, Unauthorized
from bot.intake.sources.kinds import build_sources, label
from bot.runtime.clock import Clock
from bot.runtime.telemetry import Telemetry
from bot.texts import messages
from bot.texts import source_messages as texts
from storage.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

SOURCE_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"description": "A topic this source does not map: ignored, nothing stored"},
    202: {"description": "The vendor's event, taken in: per-event results and decisions, as POST /v1/events"},
    401: {"description": "Missing or bad signature, or a stale signed timestamp: nothing stored"},
    404: {"description": "No source of that name in the config"},
    422: {
        "description": "The payload lacks what the mapping needs (the path is named), or the event is invalid"
    },
}


def sources_router(
    config: Config, clock: Clock, telemetry: Telemetry, ingest_queue: IngestQueue
) -> APIRouter:
    """`POST /v1/sources/<name>` for each configured source, on the group commit `ingest_queue`."""
    router = APIRouter(tags=["sources"])
    sources = build_sources(config, clock)

    @router.post(
        "/v1/sources/{name}",
        status_code=202,
        summary="Take a vendor's webhook (Zendesk, Shopify, Stripe, Intercom, or any mapped JSON)",
        response_class=Response,
        responses=SOURCE_RESPONSES,
    )
    async def post_source(name: str, request: Request) -> Response:
        source = sources.get(name)
        if source is None:
            return json_response({"error": texts.unknown_source(name[:64])}, 404)
        body = await request.body()
        outcome, events = _events_of(source, request.headers, body)
        telemetry.source_deliveries.labels(name, outcome).inc()
        if isinstance(events, Response):
            return events
        try:
            results = await ingest_queue.submit(events, source=label(source))
        except DatabaseUnavailable:
            log.exception("events of source %s not stored: the database is unreachable", name)
            return json_response({"error": messages.STORAGE_UNAVAILABLE}, 503)
        status = 422 if len(results) == 1 and results[0].status == "invalid" else 202
        return json_response({"results": [r.to_json() for r in results]}, status)

    return router


def _events_of(source: Source, headers: Mapping[str, str], body: bytes) -> tuple[str, list[Event] | Response]:
    """The events the delivery means, or the answer that refuses or ignores it; with the
    outcome counted (a bounded label: the config's source names and these few words)."""
    try:
        source.verify(headers, body)
    except Unauthorized as exc:
        log.warning("source %s: delivery refused (%s)", source.name, exc.reason)
        return f"refused_{exc.reason}", json_response({"error": exc.error}, 401)
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return "unreadable", json_response({"error": messages.invalid_json(str(exc))}, 400)
    if not isinstance(payload, dict):
        return "unreadable", json_response({"error": texts.not_an_object()}, 400)
    try:
        events = source.to_events(payload, headers)
    except MissingField as exc:
        return "missing_field", json_response({"error": exc.error, "field": exc.path}, 422)
    if isinstance(events, Ignored):
        return "ignored", json_response({"results": [], "ignored": texts.ignored(events.what)}, 200)
    return "taken", events
