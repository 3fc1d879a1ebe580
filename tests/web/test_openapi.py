"""The OpenAPI description is true: schemathesis sends what it describes (and what it does
not) to the real app and finds no server error and no answer outside the description; and the
copy in docs/ is the one the app serves."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bot.app import Services
from bot.web.app import create_web_app
from tests.conftest import ServicesFactory
from tests.helpers import event

DOCS_COPY = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
AUTH = {"Authorization": "Bearer test-key"}
# No 5xx, and every answer as described: status, content type, headers and body. Not checked:
# that any schema-valid request is accepted (rating and unsubscribe tokens are signed and Twilio
# webhooks must be, which no schema can say), and Starlette's `Allow` on a 405 (it names only
# the first route of a path that has a GET and a POST route).
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]  # fmt: skip


@pytest.fixture
def web_api(make_services: ServicesFactory) -> schemathesis.BaseSchema:
    services = make_services(server={"api_keys": [{"key": "test-key", "scopes": ["ingest", "read"]}]})
    for contact in ("c1", "c2"):  # responses for GET /v1/responses to describe
        [result] = services.ingestor.ingest([event(f"e-{contact}", contact=contact)])
        services.dispatcher.run_once()
        services.responses.record_rating(result.decisions[0].send_id or "", 4, "ok", services.clock.now())
    return schemathesis.openapi.from_asgi("/openapi.json", create_web_app(services))


# /readyz answers 503 by design here: these tests run no scheduler.
schema = schemathesis.pytest.from_fixture("web_api").exclude(path="/readyz")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_description(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=AUTH, checks=CHECKS)


def test_the_description_in_docs_is_current(services: Services) -> None:
    served = create_web_app(services).openapi()
    assert orjson.loads(DOCS_COPY.read_bytes()) == served, (
        "docs/openapi.json is stale: run `python scripts/openapi.py > docs/openapi.json`"
    )
