"""A whole day of `surveybot run` with JSON logs: events in through the API, surveys out
through Twilio (fake, real client) and SMTP (real server, STARTTLS and AUTH), a reply and a
forged webhook, a rating with a comment. The logs must hold none of the secrets, addresses,
names or comments that went through."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from bot.pages.links import LinkSigner
from tests.conftest import BASE_CONFIG
from tests.fakes.smtp_server import FakeSmtpServer
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, inbound_sms_params, signed_webhook
from tests.helpers import answers_ok, free_port, wait_until

REPO = Path(__file__).resolve().parents[2]  # run this tree's code, whatever is installed
API_KEY = "api-key-Kq93hVd2"
SIGNING_SECRET = "signing-secret-Jw81mZx0"
SMTP_PASSWORD = "s3cret"  # the fake relay's
PHONE, EMAIL, NAME = "+14155550100", "grace.hopper@example.com", "Grace Hopper"
SMS_COMMENT, RATING_COMMENT = "the courier threw my parcel", "never again, awful"
SECRETS = [API_KEY, SIGNING_SECRET, SMTP_PASSWORD, AUTH_TOKEN, PHONE, EMAIL, NAME, "Hopper",
           SMS_COMMENT, RATING_COMMENT, "Authorization", "Bearer", "Basic "]  # fmt: skip


def bot_config(tmp_path: Path, port: int, twilio: FakeTwilio, smtp: FakeSmtpServer) -> Path:
    raw: dict[str, Any] = {
        "server": {"api_keys": ["${SURVEYBOT_API_KEY}"], "secret_key": "${SURVEYBOT_SECRET}",
                   "public_url": f"http://127.0.0.1:{port}"},
        "storage": {"url": f"sqlite:///{tmp_path / 'bot.db'}"},
        "surveys": BASE_CONFIG["surveys"],
        "triggers": BASE_CONFIG["triggers"],
        "throttle": BASE_CONFIG["throttle"],
        "channels": {
            "sms": {"provider": "twilio", "account_sid": ACCOUNT_SID, "auth_token": "${TWILIO_AUTH_TOKEN}",
                    "from": "+15550001111", "api_base_url": twilio.base_url, "rate_per_second": 100},
            "email": {"provider": "smtp", "host": smtp.host, "port": smtp.port, "starttls": True,
                      "username": "surveybot", "password": "${SMTP_PASSWORD}"},
        },
    }  # fmt: skip
    path = tmp_path / "config.json"
    path.write_bytes(orjson.dumps(raw))
    return path


@pytest.fixture
def fake_twilio() -> Any:
    with FakeTwilio(hang_seconds=5.0) as fake:
        yield fake


def test_the_logs_of_a_whole_flow_hold_no_secret_address_or_comment(
    tmp_path: Path, fake_twilio: FakeTwilio, smtp_tls_server: FakeSmtpServer
) -> None:
    port = free_port()
    config = bot_config(tmp_path, port, fake_twilio, smtp_tls_server)
    env = {**os.environ, "SURVEYBOT_API_KEY": API_KEY, "SURVEYBOT_SECRET": SIGNING_SECRET,
           "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "SMTP_PASSWORD": SMTP_PASSWORD,
           "SSL_CERT_FILE": str(tmp_path / "smtp-cert.pem"), "PYTHONPATH": str(REPO)}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(config), "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        drive_a_whole_flow(f"http://127.0.0.1:{port}", fake_twilio, smtp_tls_server)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
    logs = (process.stderr.read() if process.stderr else b"").decode()
    entries = [orjson.loads(line) for line in logs.splitlines()]
    assert any(e.get("send_id") and e.get("contact_id") == "c1" for e in entries), logs
    assert any("refused a Twilio webhook" in e["message"] for e in entries)
    for secret in SECRETS:
        assert secret not in logs, f"{secret!r} appears in the logs"


def drive_a_whole_flow(base: str, twilio: FakeTwilio, smtp: FakeSmtpServer) -> None:
    wait_until(lambda: answers_ok(f"{base}/healthz"), "the bot to answer /healthz", timeout=15)
    events = {"events": [
        {"id": "e1", "type": "ticket.solved", "contact": {"id": "c1", "phone": PHONE, "name": NAME},
         "properties": {"ticket_id": "T-1"}},
        {"id": "e2", "type": "order.delivered", "contact": {"id": "c2", "email": EMAIL, "name": NAME}},
    ]}  # fmt: skip
    assert (
        httpx.post(f"{base}/v1/events", json=events, headers={"Authorization": "Bearer wrong"}).status_code
        == 401
    )
    accepted = httpx.post(f"{base}/v1/events", json=events, headers={"Authorization": f"Bearer {API_KEY}"})
    assert accepted.status_code == 202, accepted.text
    wait_until(
        lambda: len(twilio.messages) == 1 and len(smtp.messages) == 1,
        "the SMS to reach Twilio and the email the SMTP server",
        timeout=15,
    )
    for text in ("2", SMS_COMMENT):
        params = inbound_sms_params(PHONE, text)
        reply = httpx.post(
            f"{base}/twilio/sms", data=params, headers=signed_webhook(f"{base}/twilio/sms", params)
        )
        assert reply.status_code == 200, reply.text
    forged = inbound_sms_params(PHONE, "10 forged")
    assert (
        httpx.post(f"{base}/twilio/sms", data=forged, headers={"X-Twilio-Signature": "x"}).status_code == 403
    )
    [email_send] = [r["send_id"] for r in accepted.json()["results"][1]["decisions"]]
    rating = LinkSigner(SIGNING_SECRET, base).rating_url(email_send, 3)
    assert httpx.post(rating, data={"score": "3", "comment": RATING_COMMENT}).status_code == 200
