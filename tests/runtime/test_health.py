"""Liveness, readiness and Prometheus metrics, as an operator reads them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from bot.app import Services, start_background, stop_background
from bot.web.app import create_web_app
from tests.helpers import event


def metric(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    prefix = f"{name}{{{wanted}}} " if labels else f"{name} "
    lines = [line for line in text.splitlines() if line.startswith(prefix)]
    assert lines, f"no sample {prefix!r}"
    return float(lines[0].rsplit(" ", 1)[1])


def test_readyz_needs_the_scheduler_running_and_the_database(services: Services) -> None:
    client = TestClient(create_web_app(services))
    assert client.get("/healthz").status_code == 200
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503 and not_ready.json()["scheduler"] == "down"
    start_background(services)
    try:
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "database": "ok", "scheduler": "ok"}
    finally:
        stop_background(services)


def test_metrics_count_events_decisions_sends_and_provider_time(services: Services) -> None:
    client = TestClient(create_web_app(services))
    headers = {"Authorization": "Bearer test-key"}
    client.post("/v1/events", json={"events": [event("e1"), event("e1"), {"type": "x"}]}, headers=headers)
    client.post(
        "/v1/events", json=event("e2", contact="c2", details={"phone": None, "email": None}), headers=headers
    )
    services.dispatcher.run_once()
    text = client.get("/metrics").text
    assert metric(text, "surveybot_events_total", status="accepted") == 2
    assert metric(text, "surveybot_events_total", status="duplicate") == 1
    assert metric(text, "surveybot_events_total", status="invalid") == 1
    assert metric(text, "surveybot_decisions_total", outcome="scheduled", reason="") == 1
    assert metric(text, "surveybot_decisions_total", outcome="suppressed", reason="no_address") == 1
    assert metric(text, "surveybot_sends_total", channel="sms", status="sent") == 1
    assert metric(text, "surveybot_provider_seconds_count", channel="sms") == 1
