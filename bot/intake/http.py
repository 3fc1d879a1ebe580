"""`POST /v1/events`: one event or `{"events": [...]}`, judged event by event."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from bot.config import ServerConfig
from bot.intake.batcher import IngestQueue
from bot.intake.ingest import MAX_BATCH
from bot.intake.schemas import EVENTS_REQUEST, EVENTS_RESPONSES
from bot.texts import messages
from bot.web.auth import ApiKeys
from storage.errors import DatabaseUnavailable

log = logging.getLogger(__name__)


def json_response(body: object, status: int) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


class RequestRejected(Exception):
    def __init__(self, status: int, error: str) -> None:
        self.status = status
        self.error = error


def events_router(server: ServerConfig, api_keys: ApiKeys, ingest_queue: IngestQueue) -> APIRouter:
    """`POST /v1/events` on the group commit `ingest_queue`, for keys with the `ingest` scope."""
    router = APIRouter(tags=["events"])
    limit = server.max_body_bytes

    @router.post(
        "/v1/events",
        status_code=202,
        summary="Send one touchpoint event, or a batch of up to 1,000",
        response_class=Response,
        responses=EVENTS_RESPONSES,
        openapi_extra=EVENTS_REQUEST,
        dependencies=[Depends(api_keys.require("ingest"))],
    )
    async def post_events(request: Request) -> Response:
        try:
            raws, single = _events_of(await _read_body(request, limit))
        except RequestRejected as exc:
            return json_response({"error": exc.error}, exc.status)
        try:
            results = await ingest_queue.submit(raws)
        except DatabaseUnavailable:
            log.exception("events not stored: the database is unreachable")
            return json_response({"error": messages.STORAGE_UNAVAILABLE}, 503)
        status = 422 if single and results[0].status == "invalid" else 202
        return json_response({"results": [r.to_json() for r in results]}, status)

    return router


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise RequestRejected(413, messages.body_too_large(limit))
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise RequestRejected(413, messages.body_too_large(limit))
    return bytes(body)


def _events_of(body: bytes) -> tuple[list[Any], bool]:
    """The events in the body, and whether it was one event rather than a batch."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestRejected(400, messages.invalid_json(str(exc))) from None
    if isinstance(document, dict) and "events" in document:
        events = document["events"]
        if not isinstance(events, list):
            raise RequestRejected(400, messages.EVENTS_NOT_A_LIST)
        if len(events) > MAX_BATCH:
            raise RequestRejected(413, messages.batch_too_large(len(events), MAX_BATCH))
        return events, False
    if isinstance(document, dict):
        return [document], True
    raise RequestRejected(400, messages.BODY_NOT_AN_EVENT)
