"""Whatever a client posts to `POST /v1/events`, the answer is never a 5xx, and the good events
sent beside bad ones are stored."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import Services
from bot.web.app import create_web_app
from storage import queries
from tests.helpers import event

AUTH = {"Authorization": "Bearer test-key", "Content-Type": "application/json"}
_numbers = itertools.count()

HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "a\x00b",
            "\x00",
            "Ada\r\nBcc: x@evil.example",
            "=?utf-8?b?VDkNClJlcGx5LVRvOiBhQGV2aWwuZXhhbXBsZQ==?=",
            "{{ 7 * 7 }}",
            "\u202e\u2028\ufeff",
            "x" * 300,
        ]
    ),
)
TIMES = st.one_of(
    st.sampled_from(
        [
            "0001-01-01T00:00:00Z",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59Z",
            "9999-12-31T23:59:59-14:00",
            "2999-01-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "2026-11-22T10:00:00",
            "2026-02-30T10:00:00Z",
            "not a time",
        ]
    ),
    st.datetimes(timezones=st.none() | st.timezones()).map(lambda moment: moment.isoformat()),
    HOSTILE_TEXT,
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    HOSTILE_TEXT,
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(HOSTILE_TEXT, inner, max_size=3),
    max_leaves=12,
)


def deeply_nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"x": value}
    return value


PROPERTIES = st.one_of(
    st.dictionaries(HOSTILE_TEXT, JSON_VALUES, max_size=4),
    st.integers(min_value=20, max_value=300).map(lambda depth: {"deep": deeply_nested(depth)}),
    JSON_VALUES,
)
CONTACTS = st.one_of(
    st.fixed_dictionaries(
        {"id": HOSTILE_TEXT | SCALARS},
        optional={
            "email": HOSTILE_TEXT | SCALARS,
            "phone": HOSTILE_TEXT | st.sampled_from(["+14155550100", "+999", "0044 20 7946 0958"]),
            "name": HOSTILE_TEXT | SCALARS,
            "timezone": HOSTILE_TEXT | st.sampled_from(["America/New_York", "../../etc/passwd", "UTC"]),
            "locale": HOSTILE_TEXT | SCALARS,
        },
    ),
    JSON_VALUES,
)
FIELDS = {
    "id": HOSTILE_TEXT | SCALARS,
    "type": HOSTILE_TEXT | SCALARS,
    "occurred_at": TIMES,
    "contact": CONTACTS,
    "contact.id": HOSTILE_TEXT | SCALARS,
    "contact.name": HOSTILE_TEXT | SCALARS,
    "contact.email": HOSTILE_TEXT | st.sampled_from(["=?utf-8?q?a?=@example.com", "a\x00@example.com"]),
    "contact.phone": HOSTILE_TEXT | SCALARS,
    "contact.timezone": HOSTILE_TEXT | SCALARS,
    "properties": PROPERTIES,
    "properties.ticket_id": JSON_VALUES,
}


def spoiled(field: str, value: Any) -> dict[str, Any]:
    """A good event with one field replaced: the shape most likely to reach storage."""
    body = event(f"spoiled-{next(_numbers)}", contact=f"s{next(_numbers)}")
    *parents, name = field.split(".")
    target = body
    for parent in parents:
        target = target[parent]
    target[name] = value
    return body


HOSTILE_EVENTS = st.one_of(
    st.sampled_from(sorted(FIELDS)).flatmap(lambda field: FIELDS[field].map(lambda v: spoiled(field, v))),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["ticket.solved", "order.delivered"]) | HOSTILE_TEXT | SCALARS},
        optional={
            "id": HOSTILE_TEXT | SCALARS,
            "contact": CONTACTS,
            "occurred_at": TIMES | SCALARS,
            "properties": PROPERTIES,
        },
    ),
    JSON_VALUES,
)
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def client(services: Services) -> TestClient:
    return TestClient(create_web_app(services))


def post(client: TestClient, body: Any) -> Any:
    # The standard library's encoder: it writes what orjson would refuse to (300 levels deep).
    return client.post("/v1/events", content=json.dumps(body), headers=AUTH)


def stored(services: Services, ids: list[str]) -> set[str]:
    with services.db.read() as conn:
        return queries.existing_event_ids(conn, ids)


@FUZZ
@given(hostile=HOSTILE_EVENTS)
def test_one_hostile_event_is_taken_or_refused_never_a_server_error(client: TestClient, hostile: Any) -> None:
    response = post(client, hostile)
    assert response.status_code in (202, 400, 422), response.text
    assert "error" in response.json() or "results" in response.json()


@FUZZ
@given(hostile=st.lists(HOSTILE_EVENTS, min_size=1, max_size=4), data=st.data())
def test_good_events_beside_hostile_ones_are_stored(
    client: TestClient, services: Services, hostile: list[Any], data: st.DataObject
) -> None:
    n = next(_numbers)
    good = [event(f"good-{n}-{i}", contact=f"g{n}-{i}") for i in range(3)]
    batch = list(good)
    for bad in hostile:
        batch.insert(data.draw(st.integers(min_value=0, max_value=len(batch))), bad)

    response = post(client, {"events": batch})

    assert response.status_code == 202, response.text
    results = response.json()["results"]
    assert len(results) == len(batch)
    good_ids = [g["id"] for g in good]
    for position, sent in enumerate(batch):
        if any(sent is g for g in good):
            assert results[position]["status"] == "accepted", results[position]
    assert stored(services, good_ids) == set(good_ids)
