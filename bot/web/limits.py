"""Every request body is bounded, on every route, before any handler reads it.

`BodyLimit` is plain ASGI middleware: a declared `Content-Length` over the limit is refused
with 413 at once; a body without one (chunked) is counted as it streams and refused as soon as
it passes the limit. `/v1/events` takes `server.max_body_bytes`; everything else (rating and
unsubscribe forms, Twilio's and Slack's webhooks) a small fixed limit, far above what a real
form or webhook holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.texts import messages

FORM_LIMIT = 256 * 1024


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int, detail: str) -> None:
        super().__init__(413, detail)
        self.limit = limit


class BodyLimit:
    def __init__(self, app: ASGIApp, *, default: int = FORM_LIMIT, by_prefix: Mapping[str, int]) -> None:
        self.app = app
        self.default = default
        self.by_prefix = dict(by_prefix)

    def limit_for(self, path: str) -> tuple[int, str]:
        """The limit for `path` and the error that names it."""
        for prefix, limit in self.by_prefix.items():
            if path.startswith(prefix):
                return limit, messages.body_too_large(limit)
        return self.default, messages.request_too_large(self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, error = self.limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await too_large(send, error)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit, error)  # FastAPI lets HTTPExceptions through its body parsing
            return message

        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge as exc:
            if started:
                raise
            await too_large(send, exc.detail)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def too_large(send: Send, error: str) -> None:
    body = orjson.dumps({"error": error})
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
