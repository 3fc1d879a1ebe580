"""`GET /v1/responses`: the responses feed for programs, page by page, behind the `read` scope.

The cursor is an opaque token for a feed position (see storage.feed for why the feed never
skips nor repeats a row); it is always returned, also with an empty page, so a program can
keep it and ask again later for what came since.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from bot.exports.schemas import RESPONSES_PARAMETERS, RESPONSES_RESPONSES
from bot.texts import messages
from bot.web.auth import ApiKeys
from storage.db import Database
from storage.errors import DatabaseUnavailable
from storage.feed import START, feed_horizon, feed_page

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
_MAX_INT = 2**63 - 1
_POSITION = re.compile(r"^(-?\d{1,19})\.(\d{1,19})$")


class BadQuery(Exception):
    pass


def responses_router(db: Database, api_keys: ApiKeys) -> APIRouter:
    router = APIRouter(tags=["responses"])

    @router.get(
        "/v1/responses",
        summary="Page through the responses, oldest first; keep the cursor to ask for newer ones",
        response_class=Response,
        responses=RESPONSES_RESPONSES,
        openapi_extra=RESPONSES_PARAMETERS,
        dependencies=[Depends(api_keys.require("read"))],
    )
    def list_responses(request: Request) -> Response:
        try:
            after, limit, since = read_query(dict(request.query_params))
        except BadQuery as exc:
            return _json({"error": str(exc)}, 400)
        try:
            with db.read() as conn:
                horizon = feed_horizon(conn)
            with db.read() as conn:
                page = feed_page(conn, after=after, limit=limit, horizon=horizon, since=since)
        except DatabaseUnavailable:
            return _json({"error": messages.STORAGE_UNAVAILABLE_READ}, 503)
        body = {
            "data": [_item(row._mapping) for row in page.rows],
            "next_cursor": encode_cursor(page.position),
            "has_more": page.has_more,
        }
        return _json(body, 200)

    return router


def read_query(params: dict[str, str]) -> tuple[tuple[int, int], int, datetime | None]:
    """The cursor's position, the limit and `since`; `BadQuery` naming the parameter at fault."""
    after = decode_cursor(params["cursor"]) if params.get("cursor") else START
    limit = DEFAULT_LIMIT
    if "limit" in params:
        text = params["limit"].strip()
        if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
            raise BadQuery(messages.bad_limit(params["limit"], MAX_LIMIT))
        limit = int(text)
    since = _since(params["since"]) if "since" in params else None
    return after, limit, since


def encode_cursor(position: tuple[int, int]) -> str:
    return base64.urlsafe_b64encode(f"{position[0]}.{position[1]}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadQuery(messages.BAD_CURSOR) from None
    match = _POSITION.match(text)
    if not match or not all(-1 <= int(n) <= _MAX_INT for n in match.groups()):
        raise BadQuery(messages.BAD_CURSOR)
    return int(match.group(1)), int(match.group(2))


def _since(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BadQuery(messages.bad_since(text)) from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise BadQuery(messages.bad_since(text)) from None


def _item(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "send_id": row["send_id"],
        "survey": row["survey"],
        "metric": row["metric"],
        "score": row["score"],
        "comment": row["comment"],
        "counted": row["counted"],
        "channel": row["channel"],
        "trigger": row["trigger"],
        "contact_id": row["contact_id"],
        "event_id": row["event_id"],
        "event_type": row["event_type"],
        "received_at": row["received_at"],
        "updated_at": row["updated_at"],
    }


def _json(body: object, status: int) -> Response:
    content = orjson.dumps(body, option=orjson.OPT_UTC_Z)
    return Response(content, status_code=status, media_type="application/json")
