"""Fixtures for the fakes of outside services, registered for the whole suite (the root
conftest loads this plugin); each fake lives in its own module here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import SIGNING_SECRET
from tests.fakes.smtp_server import closed_port, smtp_server, smtp_tls_server
from tests.fakes.twilio_api import fake_twilio

__all__ = ["closed_port", "fake_slack", "fake_twilio", "slack_overrides", "smtp_server", "smtp_tls_server"]

SLACK_TOKEN = "xoxb-test-token"
SLACK_CHANNELS = {"cx-metrics": "C0CX", "cx-alerts": "C0ALERTS", "general": "C0GENERAL"}


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=SLACK_TOKEN, channels=dict(SLACK_CHANNELS)) as slack:
        yield slack


def slack_overrides(fake: FakeSlack, **extra: Any) -> dict[str, Any]:
    """Config sections that point the bot at the fake Slack: token, secret, alert channel."""
    sections: dict[str, Any] = {
        "slack": {
            "bot_token": SLACK_TOKEN,
            "signing_secret": SIGNING_SECRET,
            "api_base_url": fake.url + "/api/",
        },
        "alerts": {"channel": "#cx-alerts"},
    }
    for key, value in extra.items():
        merge = isinstance(value, dict) and isinstance(sections.get(key), dict)
        sections[key] = {**sections[key], **value} if merge else value
    return sections
