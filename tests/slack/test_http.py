"""Slack over HTTP: `/surveybot stats` and the alert buttons, sent to `POST /slack/events`
signed for real; forged and stale requests change nothing; a retried delivery counts once."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import orjson
from fastapi.testclient import TestClient
from slack_sdk.signature import SignatureVerifier

from bot.app import Services
from bot.runtime.clock import FakeClock
from bot.web.app import create_web_app
from storage.alerts import load_alert
from tests.conftest import ServicesFactory
from tests.fakes.metric_rows import NOW, SURVEYS, insert_rows, make_dataset
from tests.fakes.plugin import slack_overrides
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import SIGNING_SECRET, button_click, sign, signed_headers, slash_command
from tests.metrics.test_statistics import score_test_bound
from tests.slack.journeys import all_text, record_score

SURVEY_CONFIG = {
    name: {"metric": metric, "question": {"sms": "Rate us"}}
    for name, metric in SURVEYS.items()
    if name != "support_csat"  # the base config's, with its SMS and email texts
}


def post(client: TestClient, body: str, **headers: str) -> Any:
    return client.post("/slack/events", content=body, headers=signed_headers(body) | headers)


def test_our_signature_is_the_one_slack_sdk_verifies() -> None:
    body, stamp = "token=x&text=stats", int(time.time())
    verifier = SignatureVerifier(SIGNING_SECRET)
    assert verifier.is_valid(body, str(stamp), sign(body, stamp))
    assert not verifier.is_valid(body, str(stamp), sign(body, stamp, "another-secret"))


def test_stats_command_answers_with_the_numbers_of_the_rows(
    make_services: ServicesFactory, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    services = make_services(**slack_overrides(fake_slack), surveys=SURVEY_CONFIG)
    data = make_dataset(600)
    insert_rows(services.db.engine, data)
    clock.set(NOW)
    with TestClient(create_web_app(services)) as client:
        answer = post(client, slash_command("stats support_csat 7d"))
    assert answer.status_code == 200
    reply = orjson.loads(answer.content)
    assert reply["response_type"] == "ephemeral"
    text = all_text(reply["blocks"])
    csat = [
        r for r in data.responses
        if r["survey"] == "support_csat" and r["counted"]
        and NOW - timedelta(days=7) <= r["received_at"] < NOW
    ]  # fmt: skip
    good = sum(r["score"] >= 4 for r in csat)
    low, high = (100 * score_test_bound(good, len(csat), upper=u) for u in (False, True))
    assert f"*{100 * good / len(csat):.1f}%*" in text
    assert f"95% interval {low:.1f}% to {high:.1f}%, n={len(csat)}" in text
    assert "relationship_nps" not in text  # only the survey asked for
    assert "Survey numbers, last 7 days" in text


def test_stats_command_explains_itself_when_the_words_are_wrong(
    make_services: ServicesFactory, fake_slack: FakeSlack
) -> None:
    services = make_services(**slack_overrides(fake_slack))
    with TestClient(create_web_app(services)) as client:
        unknown = orjson.loads(post(client, slash_command("stats nosuchsurvey")).content)
        usage = orjson.loads(post(client, slash_command("")).content)
    assert "No survey named `nosuchsurvey`" in unknown["text"] and "`support_csat`" in unknown["text"]
    assert usage["text"].startswith("Usage: `/surveybot stats [survey] [7d]`")


def test_a_forged_or_stale_request_gets_401_and_changes_nothing(
    make_services: ServicesFactory, fake_slack: FakeSlack
) -> None:
    services = make_services(**slack_overrides(fake_slack))
    send_id, alert_ts = seed_posted_alert(services, fake_slack)
    body = button_click(
        "alert_claim", send_id, user="U0SAM", channel="C0ALERTS", ts=alert_ts, trigger_id="t1"
    )
    forged = signed_headers(body) | {"X-Slack-Signature": sign(body, int(time.time()), "not-the-secret")}
    stale = signed_headers(body, timestamp=int(time.time()) - 10 * 60)
    with TestClient(create_web_app(services)) as client:
        assert client.post("/slack/events", content=body, headers=forged).status_code == 401
        assert client.post("/slack/events", content=body, headers=stale).status_code == 401
        unsigned = {"Content-Type": "application/x-www-form-urlencoded"}
        assert client.post("/slack/events", content=body, headers=unsigned).status_code == 401
    assert alert_state(services, send_id).claimed_by is None
    assert fake_slack.counts["/api/chat.update"] == 0


def test_a_retried_click_is_handled_once(make_services: ServicesFactory, fake_slack: FakeSlack) -> None:
    services = make_services(**slack_overrides(fake_slack))
    send_id, alert_ts = seed_posted_alert(services, fake_slack)
    body = button_click(
        "alert_claim", send_id, user="U0SAM", channel="C0ALERTS", ts=alert_ts, trigger_id="t-9"
    )
    with TestClient(create_web_app(services)) as client:
        assert post(client, body).status_code == 200
        retried = post(client, body, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
        assert retried.status_code == 200
    assert fake_slack.counts["/api/chat.update"] == 1
    assert alert_state(services, send_id).claimed_by == "U0SAM"


def test_socket_mode_handler_is_built_on_the_same_app(
    make_services: ServicesFactory, fake_slack: FakeSlack
) -> None:
    from bot.slack.app import socket_mode_handler

    services = make_services(**slack_overrides(fake_slack, slack={"app_token": "xapp-1-test"}))
    assert services.slack is not None
    handler = socket_mode_handler(services.slack, "xapp-1-test")
    try:
        assert handler.app is services.slack.bolt
        assert handler.client.app_token == "xapp-1-test"
        assert handler.client.web_client.base_url == fake_slack.url + "/api/"
    finally:
        handler.close()


# --- helpers ---------------------------------------------------------------------------------


def seed_posted_alert(services: Services, slack: FakeSlack) -> tuple[str, str]:
    """A low score with its alert posted; (send id, the alert message's ts)."""
    send_id = record_score(services, "e-low", score=1, comment="never again")
    assert services.slack and services.slack.alerts
    services.slack.alerts.wait_idle()
    assert slack.counts["/api/chat.postMessage"] == 1
    return send_id, alert_state(services, send_id).ts


def alert_state(services: Services, send_id: str) -> Any:
    with services.db.read() as conn:
        return load_alert(conn, send_id)


def test_a_bot_token_without_a_signing_secret_is_a_config_problem() -> None:
    import pytest

    from bot.config import parse_config
    from bot.errors import ConfigError

    with pytest.raises(ConfigError) as problem:
        parse_config('{"slack": {"bot_token": "xoxb-1"}}')
    assert problem.value.problems[0].startswith("slack.signing_secret: is required with slack.bot_token")
    assert parse_config('{"slack": {"bot_token": "xoxb-1", "app_token": "xapp-1"}}').slack.app_token


def test_stats_command_echoes_the_words_escaped(
    make_services: ServicesFactory, fake_slack: FakeSlack
) -> None:
    services = make_services(**slack_overrides(fake_slack))
    with TestClient(create_web_app(services)) as client:
        answer = orjson.loads(post(client, slash_command("stats <!channel>")).content)
    assert "No survey named `&lt;!channel&gt;`" in answer["text"]
    assert "<!channel>" not in answer["text"]
