"""Every request body is bounded, on every route, before any handler reads it.

`BodyLimit` is plain ASGI middleware: a declared `Content-Length` over the limit is refused
with 413 at once; a body without one (chunked) is counted as it streams and refused as soon as
it passes the limit. `/v1/events` takes `server.max_body_bytes`; everything else (rating and
unsubscribe forms, Twilio's and Slack's webhooks) a small fixed limit, far above what a real
form or webhook holds.

Time is bounded too: the whole body must arrive within `server.body_timeout` of the request's
start, or the answer is 408 (a client trickling a byte a second holds nothing for long). A
client that goes away in the middle of its body gets no answer and leaves one short log line,
not a traceback.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.texts import messages

log = logging.getLogger(__name__)

FORM_LIMIT = 256 * 1024
BODY_TIMEOUT = 30.0


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int, detail: str) -> None:
        super().__init__(413, detail)
        self.limit = limit


class BodyTooSlow(HTTPException):
    def __init__(self, detail: str) -> None:
        super().__init__(408, detail, headers={"Connection": "close"})


class BodyLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        default: int = FORM_LIMIT,
        by_prefix: Mapping[str, int],
        timeout: float = BODY_TIMEOUT,
    ) -> None:
        self.app = app
        self.default = default
        self.by_prefix = dict(by_prefix)
        self.timeout = timeout

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
        complete = False
        deadline = asyncio.get_running_loop().time() + self.timeout

        async def counted() -> Message:
            nonlocal received, complete
            if complete:  # after the body, receive() only waits for a disconnect: no deadline
                return await receive()
            left = deadline - asyncio.get_running_loop().time()
            try:
                message = await asyncio.wait_for(receive(), timeout=max(left, 0))
            except TimeoutError:
                log.info("the body of a request to %s was too slow: answered 408", scope["path"])
                raise BodyTooSlow(messages.body_too_slow(self.timeout)) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
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
        except ClientDisconnect:
            log.info("a client went away before its request to %s was read", scope["path"])


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
