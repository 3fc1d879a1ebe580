"""Whatever reaches `POST /slack/events`, signed or not, gets an answer and never a 5xx: slash
commands with any words, button clicks with any values, any JSON, any bytes."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.web.app import create_web_app
from tests.conftest import ServicesFactory
from tests.fakes.plugin import slack_overrides
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import button_click, signed_headers, slash_command

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=10,
)
BODIES = st.one_of(
    st.text(max_size=80).map(slash_command),
    st.tuples(st.sampled_from(["alert_claim", "alert_resolve", "other"]), st.text(max_size=40)).map(
        lambda a: button_click(a[0], a[1], user="U0SAM", channel="C0ALERTS", ts="1.2", trigger_id="t")
    ),
    JSON.map(lambda value: urlencode({"payload": json.dumps(value)})),
    JSON.map(json.dumps),
    st.text(max_size=200),
)


@pytest.fixture
def client(make_services: ServicesFactory, fake_slack: FakeSlack) -> TestClient:
    return TestClient(create_web_app(make_services(**slack_overrides(fake_slack))))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES, signed=st.booleans(), raw=st.one_of(st.none(), st.binary(max_size=200)))
def test_any_request_signed_or_not_gets_an_answer_never_a_5xx(
    client: TestClient, body: str, signed: bool, raw: bytes | None
) -> None:
    if raw is not None:
        answer = client.post("/slack/events", content=raw, headers=signed_headers(raw.decode("latin-1")))
    else:
        headers = signed_headers(body) if signed else {"Content-Type": "application/x-www-form-urlencoded"}
        answer = client.post("/slack/events", content=body.encode(), headers=headers)
    assert answer.status_code < 500, answer.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("event", "event"),
        (json.dumps({"type": "event_callback", "event": {"text": "no type"}}), "event"),
        (urlencode({"payload": json.dumps({"type": "block_actions", "actions": "claim"})}), "actions"),
        (urlencode({"payload": json.dumps({"type": "view_submission", "view": [1]})}), "view"),
    ],
)
def test_a_signed_body_shaped_unlike_slack_is_refused_naming_the_field(
    client: TestClient, body: str, field: str
) -> None:
    answer = client.post("/slack/events", content=body.encode(), headers=signed_headers(body))
    assert answer.status_code == 400
    assert f"'{field}'" in answer.text
