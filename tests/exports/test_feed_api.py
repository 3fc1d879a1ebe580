"""`GET /v1/responses`: keys need the `read` scope, pages cover every response once, and a kept
cursor brings what came since."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.app import Services
from bot.privacy.erasure import Eraser
from bot.web.app import create_web_app
from tests.exports.conftest import Answer
from tests.helpers import event

READ = {"Authorization": "Bearer read-key"}


@pytest.fixture
def client(bot: Services) -> TestClient:
    return TestClient(create_web_app(bot))


def get(client: TestClient, headers: dict[str, str] | None = None, **params: Any) -> Any:
    return client.get("/v1/responses", params=params, headers=READ if headers is None else headers)


def test_a_plain_string_key_is_an_ingest_key_and_may_not_read(client: TestClient) -> None:
    reply = get(client, {"Authorization": "Bearer ingest-key"})
    assert reply.status_code == 403
    assert "needs the 'read' scope" in reply.json()["error"]


def test_a_read_only_key_may_not_send_events(client: TestClient) -> None:
    reply = client.post("/v1/events", json=event("e1"), headers=READ)
    assert reply.status_code == 403
    assert "needs the 'ingest' scope" in reply.json()["error"]
    both = client.post("/v1/events", json=event("e1"), headers={"Authorization": "Bearer both-key"})
    assert both.status_code == 202


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic read-key", "Bearer  "])
def test_no_key_or_an_unknown_one_is_401(client: TestClient, header: str | None) -> None:
    reply = get(client, {"Authorization": header} if header else {})
    assert reply.status_code == 401 and "API key" in reply.json()["error"]


def test_pages_hold_every_response_once_oldest_first(client: TestClient, answer: Answer) -> None:
    sent = [answer(f"c{i}", 1 + i % 5, f"comment {i}") for i in range(7)]
    seen, cursor, pages = [], None, 0
    while True:
        body = get(client, limit=3, **({"cursor": cursor} if cursor else {})).json()
        seen += body["data"]
        cursor, pages = body["next_cursor"], pages + 1
        if not body["has_more"]:
            break
    assert [r["send_id"] for r in seen] == sent and pages == 3
    first = seen[0]
    assert first["score"] == 1 and first["comment"] == "comment 0" and first["survey"] == "support_csat"
    assert (first["event_id"], first["contact_id"], first["trigger"]) == ("evt-c0", "c0", "csat_after_ticket")
    assert first["received_at"].endswith("Z")


def test_a_kept_cursor_brings_only_what_came_since(client: TestClient, answer: Answer) -> None:
    answer("c1", 5)
    body = get(client).json()
    again = get(client, cursor=body["next_cursor"]).json()
    assert again["data"] == [] and again["next_cursor"] == body["next_cursor"] and not again["has_more"]
    answer("c2", 4)
    later = get(client, cursor=body["next_cursor"]).json()
    assert [r["contact_id"] for r in later["data"]] == ["c2"]


def test_a_changed_answer_keeps_its_place_and_is_not_shown_again(
    client: TestClient, bot: Services, answer: Answer
) -> None:
    send_id = answer("c1", 2)
    body = get(client).json()
    bot.clock.advance(timedelta(minutes=1))
    bot.responses.record_rating(send_id, 4, "better now", bot.clock.now())
    assert get(client, cursor=body["next_cursor"]).json()["data"] == []
    [changed] = get(client).json()["data"]
    assert changed["score"] == 4 and changed["comment"] == "better now"
    assert changed["updated_at"] > changed["received_at"]


def test_since_leaves_out_older_responses(client: TestClient, bot: Services, answer: Answer) -> None:
    answer("c1", 5)
    bot.clock.advance(timedelta(hours=1))
    boundary = bot.clock.now().isoformat()
    answer("c2", 3)
    body = get(client, since=boundary).json()
    assert [r["contact_id"] for r in body["data"]] == ["c2"]


def test_a_forgotten_contacts_comment_is_not_served(
    client: TestClient, bot: Services, answer: Answer
) -> None:
    answer("c1", 1, "call me at +14155550199")
    Eraser(bot.db, bot.config, bot.clock, bot.address_keys).forget(["c1"])
    [row] = get(client).json()["data"]
    assert row["score"] == 1 and row["comment"] is None


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"limit": "0"}, "limit:"),
        ({"limit": "1001"}, "limit:"),
        ({"limit": "ten"}, "limit:"),
        ({"limit": "٣"}, "limit:"),
        ({"since": "yesterday"}, "since:"),
        ({"since": "9999-12-31T23:59:59-14:00"}, "since:"),
        ({"cursor": "not-ours"}, "cursor:"),
        ({"cursor": "OTk5OTk5OTk5OTk5OTk5OTk5OTkuMQ"}, "cursor:"),  # 99999999999999999999.1
        ({"cursor": "%%%"}, "cursor:"),
    ],
)
def test_a_bad_parameter_is_400_naming_it(client: TestClient, params: dict[str, str], named: str) -> None:
    reply = get(client, **params)
    assert reply.status_code == 400 and reply.json()["error"].startswith(named)
