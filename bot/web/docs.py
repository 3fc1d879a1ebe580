"""`GET /docs`: the HTTP API's reference as one HTML page, drawn on the server from the same
OpenAPI document as `/openapi.json`. It needs nothing from a CDN (no script, no font, no
stylesheet from anywhere): it works offline, behind a firewall, and under a strict CSP.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from bot.texts.rendering import layout_templates

METHODS = ("get", "post", "put", "patch", "delete")
CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def install_docs(app: FastAPI) -> None:
    templates = layout_templates()

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    def docs() -> HTMLResponse:
        page = templates.get_template("api_docs.html").render(**reference(app.openapi()))
        return HTMLResponse(page, headers={"Content-Security-Policy": CSP})


def reference(schema: dict[str, Any]) -> dict[str, Any]:
    """What the page shows: the API's title, each operation, and each model with its fields."""
    operations = []
    for path, item in schema.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                operations.append(_operation(method, path, item[method]))
    models = [
        {"name": name, "description": model.get("description", ""), "fields": _fields(model)}
        for name, model in sorted(schema.get("components", {}).get("schemas", {}).items())
    ]
    info = schema.get("info", {})
    return {
        "title": info.get("title", ""),
        "version": info.get("version", ""),
        "description": info.get("description", ""),
        "operations": operations,
        "models": models,
    }


def _operation(method: str, path: str, operation: dict[str, Any]) -> dict[str, Any]:
    body = operation.get("requestBody", {}).get("content", {})
    return {
        "method": method.upper(),
        "path": path,
        "anchor": f"{method}-{path.strip('/').replace('/', '-').replace('{', '').replace('}', '')}",
        "summary": operation.get("summary", ""),
        "description": operation.get("description", ""),
        "auth": bool(operation.get("security")),
        "request": [(kind, type_name(content.get("schema", {}))) for kind, content in body.items()],
        "responses": [
            {
                "status": status,
                "description": answer.get("description", ""),
                "content": [
                    (kind, type_name(c.get("schema", {}))) for kind, c in answer.get("content", {}).items()
                ],
            }
            for status, answer in sorted(operation.get("responses", {}).items())
        ],
    }


def _fields(model: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(model.get("required", []))
    return [
        {"name": name, "type": type_name(field), "required": name in required,
         "description": field.get("description", "")}
        for name, field in model.get("properties", {}).items()
    ]  # fmt: skip


def type_name(schema: dict[str, Any]) -> str:
    """A JSON Schema as a reader says it: `EventIn`, `list of EventResult`, `string or null`."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(type_name(part) for part in schema[key])
    if schema.get("type") == "array":
        return f"list of {type_name(schema.get('items', {}))}"
    if "enum" in schema:
        return " | ".join(repr(value) for value in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    if schema.get("type") == "string" and schema.get("format"):
        return f"string ({schema['format']})"
    return str(schema.get("type", "any"))
