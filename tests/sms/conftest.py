"""An SMS world for the webhook tests: the bot wired for Twilio (real twilio client) against
FakeTwilio, its web app, and a phone that texts back through signed webhooks.

The webhooks are signed with twilio's own RequestValidator over `server.public_url` + path,
while the test client talks to http://testserver: the signature must hold behind a proxy.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import Services, build_services
from bot.responses.recorder import ScoreRecorded
from bot.runtime.clock import FakeClock
from bot.web.app import create_web_app
from storage.db import Database
from storage.models import InboundMessage, Response, Send
from tests.conftest import make_config
from tests.fakes.twilio_api import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FakeTwilio,
    inbound_sms_params,
    signed_webhook,
)
from tests.helpers import event
from triggers.engine import TriggerDecision

PUBLIC_URL = "https://surveys.example.com"
FROM_NUMBER = "+15550001111"
PHONE = "+14155550100"
FOLLOW_UP = "Thanks {{ contact.name }}! What is the main reason for your score?"


@dataclass
class Answer:
    status: int
    texts: list[str]
    body: str


@dataclass
class SmsWorld:
    services: Services
    client: TestClient
    fake: FakeTwilio
    clock: FakeClock
    heard: list[ScoreRecorded] = field(default_factory=list)

    def survey(self, event_id: str = "e1", **fields: Any) -> Any:
        """Ingest a ticket.solved event for the phone and dispatch it; returns its send row."""
        decision = self.ingest(event_id, **fields)
        self.services.dispatcher.run_once()
        assert decision.send_id, decision
        return self.send(decision.send_id)

    def ingest(self, event_id: str, **fields: Any) -> TriggerDecision:
        """Ingest a ticket.solved event for the phone; returns its one decision."""
        [result] = self.services.ingestor.ingest([event(event_id, **fields)])
        [decision] = result.decisions
        return decision

    def text(self, body: str, *, from_: str = PHONE, sid: str | None = None) -> Answer:
        """The phone texts `body`; Twilio posts it, signed, to /twilio/sms."""
        params = inbound_sms_params(from_, body, to=FROM_NUMBER, message_sid=sid)
        return self.post("/twilio/sms", params)

    def report(self, message_sid: str, status: str, error_code: str | None = None) -> Answer:
        """Twilio's status callback for a message we sent."""
        params = {"AccountSid": ACCOUNT_SID, "MessageSid": message_sid, "MessageStatus": status,
                  "SmsSid": message_sid, "SmsStatus": status, "To": PHONE, "From": FROM_NUMBER}  # fmt: skip
        if error_code:
            params["ErrorCode"] = error_code
        return self.post("/twilio/status", params)

    def post(self, path: str, params: dict[str, str], headers: dict[str, str] | None = None) -> Answer:
        headers = headers if headers is not None else signed_webhook(PUBLIC_URL + path, params)
        reply = self.client.post(path, data=params, headers=headers)
        return Answer(reply.status_code, twiml_messages(reply.text), reply.text)

    def sends(self) -> list[Any]:
        return rows(self.services.db, Send, "created_at")

    def send(self, send_id: str) -> Any:
        return next(s for s in self.sends() if s.id == send_id)

    def responses(self) -> list[Any]:
        return rows(self.services.db, Response, "id")

    def inbound(self) -> list[Any]:
        return rows(self.services.db, InboundMessage, "id")


def rows(db: Database, model: Any, order: str) -> list[Any]:
    table = model.__table__
    with db.read() as conn:
        return list(conn.execute(select(table).order_by(table.c[order])))


def twiml_messages(body: str) -> list[str]:
    """The texts of the <Message> elements of a TwiML answer ([] for anything else)."""
    if not body.startswith("<?xml"):
        return []
    return [message.text or "" for message in ET.fromstring(body).iter("Message")]


def twilio_settings(fake: FakeTwilio, tmp_path: Path, **sms: Any) -> dict[str, Any]:
    return {
        "sms": {"provider": "twilio", "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN,
                "from": FROM_NUMBER, "rate_per_second": 1000, "api_base_url": fake.base_url, **sms},
        "email": {"provider": "log", "path": str(tmp_path / "outbox/email.jsonl")},
    }  # fmt: skip


WorldFactory = Callable[..., SmsWorld]


@pytest.fixture
def make_world(
    database: Database, db_url: str, tmp_path: Path, clock: FakeClock, fake_twilio: FakeTwilio
) -> Iterator[WorldFactory]:
    """Build the bot from a config (channels from `build_channels`, as `surveybot run` does)."""
    built: list[Services] = []

    def factory(sms: dict[str, Any] | None = None, **overrides: Any) -> SmsWorld:
        overrides.setdefault("channels", twilio_settings(fake_twilio, tmp_path, **(sms or {})))
        overrides.setdefault("surveys", _surveys())
        config = make_config(db_url, tmp_path, **overrides)
        services = build_services(config, db=Database(db_url), clock=clock)
        built.append(services)
        world = SmsWorld(services, TestClient(create_web_app(services)), fake_twilio, clock)
        services.responses.listeners.append(world.heard.append)
        return world

    yield factory
    for services in built:
        services.close()


@pytest.fixture
def world(make_world: WorldFactory) -> SmsWorld:
    return make_world()


def _surveys() -> dict[str, Any]:
    from tests.conftest import BASE_CONFIG

    surveys = {name: dict(survey) for name, survey in BASE_CONFIG["surveys"].items()}
    surveys["support_csat"]["follow_up"] = FOLLOW_UP
    return surveys


def new_sid() -> str:
    return "SM" + uuid.uuid4().hex
