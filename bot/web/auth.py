"""The API keys of `server.api_keys` and the one check every keyed route makes.

A key is presented as `Authorization: Bearer <key>`. A missing or unknown key is 401; a known
key without the route's scope (`ingest` for `POST /v1/events`, `read` for `GET /v1/responses`)
is 403. The refusal is raised as an `HTTPException`, which the app answers as `{"error": ...}`.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable

from fastapi import Request
from starlette.exceptions import HTTPException

from bot.config import ApiScope, ServerConfig
from bot.texts import messages

log = logging.getLogger(__name__)


class ApiKeys:
    """The configured keys, each with its scopes."""

    def __init__(self, server: ServerConfig) -> None:
        self._keys = [(entry.key.encode(), frozenset(entry.scopes)) for entry in server.api_keys]
        for index in server.padded_api_keys:
            log.warning(messages.api_key_padded(index))

    def scopes_of(self, header: str) -> frozenset[str] | None:
        """The scopes of the key in an `Authorization` header; None when it holds no known key."""
        scheme, _, token = header.partition(" ")
        given = token.strip().encode()
        found: frozenset[str] | None = None
        # Compare against every key, always, so timing does not tell which one nearly matched.
        for key, scopes in self._keys:
            if hmac.compare_digest(given, key) and scheme.lower() == "bearer":
                found = scopes if found is None else found | scopes
        return found

    def check(self, request: Request, scope: ApiScope) -> None:
        """Raise 401 for a missing or unknown key, 403 for a key without `scope`."""
        scopes = self.scopes_of(request.headers.get("authorization", ""))
        if scopes is None:
            raise HTTPException(401, messages.API_KEY_REJECTED)
        if scope not in scopes:
            raise HTTPException(403, messages.api_key_lacks_scope(scope, request.method, request.url.path))

    def require(self, scope: ApiScope) -> Callable[[Request], Awaitable[None]]:
        """A route dependency: `dependencies=[Depends(api_keys.require("read"))]`.

        A coroutine, though it awaits nothing: FastAPI runs a plain function dependency in its
        thread pool, a hand-over to another thread and back on every request for a check of a
        few microseconds."""

        async def dependency(request: Request) -> None:
            self.check(request, scope)

        return dependency
