"""The HTTP API's OpenAPI description (`/openapi.json`), and the error answers routes share.

Each room describes its own bodies (the events API's in `bot.intake.schemas`); this module adds
the request models and the bearer scheme to the document, and the 413 any POST may get.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from bot.intake.schemas import REQUEST_MODELS

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
