"""Only Twilio gets in: unsigned, forged or re-aimed webhooks are refused and change nothing;
a database that cannot be reached asks Twilio to come back later."""

from __future__ import annotations

import socket
from pathlib import Path

from fastapi.testclient import TestClient

from bot.app import build_services
from bot.runtime.clock import FakeClock
from bot.web.app import create_web_app
from storage.db import Database
from tests.conftest import make_config
from tests.fakes.twilio_api import inbound_sms_params, signed_webhook
from tests.sms.conftest import FROM_NUMBER, PHONE, PUBLIC_URL, SmsWorld, WorldFactory

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def assert_nothing_stored(world: SmsWorld) -> None:
    assert world.inbound() == [] and world.responses() == [] and world.heard == []


def test_an_unsigned_reply_is_refused(world: SmsWorld) -> None:
    world.survey()
    answer = world.post("/twilio/sms", inbound_sms_params(PHONE, "1"), headers=FORM)
    assert answer.status == 403
    assert_nothing_stored(world)


def test_a_reply_signed_with_another_token_is_refused(world: SmsWorld) -> None:
    world.survey()
    params = inbound_sms_params(PHONE, "1")
    forged = signed_webhook(PUBLIC_URL + "/twilio/sms", params, auth_token="not-the-auth-token")
    assert world.post("/twilio/sms", params, headers=forged).status == 403
    assert_nothing_stored(world)


def test_a_signed_reply_whose_fields_were_changed_is_refused(world: SmsWorld) -> None:
    world.survey()
    params = inbound_sms_params(PHONE, "5")
    headers = signed_webhook(PUBLIC_URL + "/twilio/sms", params)
    assert world.post("/twilio/sms", {**params, "Body": "1"}, headers=headers).status == 403
    assert_nothing_stored(world)


def test_the_signature_is_checked_against_the_public_url_not_the_request(world: SmsWorld) -> None:
    params = inbound_sms_params(PHONE, "5")
    as_seen_by_the_server = signed_webhook("http://testserver/twilio/sms", params)
    assert world.post("/twilio/sms", params, headers=as_seen_by_the_server).status == 403
    assert world.text("5").status == 200  # signed for public_url + path, as Twilio does


def test_a_public_url_with_a_port_still_matches_twilio_signing_without_it(make_world: WorldFactory) -> None:
    world = make_world(server={"public_url": "https://surveys.example.com:443"})
    params = inbound_sms_params(PHONE, "HELP")
    headers = signed_webhook("https://surveys.example.com/twilio/sms", params)
    assert world.post("/twilio/sms", params, headers=headers).status == 200


def test_an_unsigned_status_callback_is_refused(world: SmsWorld) -> None:
    send = world.survey()
    params = {"MessageSid": send.provider_message_id, "MessageStatus": "failed", "ErrorCode": "21610"}
    assert world.post("/twilio/status", params, headers=FORM).status == 403
    assert world.send(send.id).status == "sent"
    assert world.ingest("e2").outcome == "scheduled"  # not opted out


def test_without_an_auth_token_every_webhook_is_refused(make_world: WorldFactory, tmp_path: Path) -> None:
    world = make_world(channels={"sms": {"provider": "log", "path": str(tmp_path / "outbox/sms.jsonl")}})
    assert world.text("5").status == 403
    assert world.report("SM" + "1" * 32, "delivered").status == 403
    assert_nothing_stored(world)


def test_a_webhook_without_a_message_sid_is_a_bad_request(world: SmsWorld) -> None:
    params = {k: v for k, v in inbound_sms_params(PHONE, "5").items() if k != "MessageSid"}
    assert world.post("/twilio/sms", params).status == 400
    assert_nothing_stored(world)


def test_an_unreachable_database_answers_503_so_twilio_retries(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port where no database listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/test?connect_timeout=2"
    sms = {"provider": "twilio", "account_sid": "AC" + "a1" * 16,
           "auth_token": "fake-auth-token-0123456789abcdef", "from": "+15550001111"}  # fmt: skip
    config = make_config(url, tmp_path, channels={"sms": sms})
    services = build_services(config, db=Database(url), clock=FakeClock(), channels={})
    client = TestClient(create_web_app(services))
    for path, params in [
        ("/twilio/sms", inbound_sms_params(PHONE, "5")),
        ("/twilio/status", {"MessageSid": "SM" + "2" * 32, "MessageStatus": "delivered"}),
    ]:
        answer = client.post(path, data=params, headers=signed_webhook(PUBLIC_URL + path, params))
        assert answer.status_code == 503 and answer.headers["retry-after"]
    services.db.dispose()


def test_a_captured_start_replayed_with_its_fields_shifted_is_refused(make_world: WorldFactory) -> None:
    world = make_world(triggers=[{"name": "by_sms", "on": "ticket.solved", "survey": "support_csat",
                                  "channels": ["sms"]}])  # fmt: skip
    world.survey()
    start = inbound_sms_params(PHONE, "START", to=FROM_NUMBER)
    captured = signed_webhook(PUBLIC_URL + "/twilio/sms", start)
    assert world.post("/twilio/sms", start, headers=captured).status == 200
    assert world.text("STOP").status == 200
    # Twilio signs the names and values run together, so "MessageSid=SM…" + "NumMedia=0" signs
    # the same as "MessageSid=SM…NumMedia0": a new MessageSid under the old signature.
    shifted = {k: v for k, v in start.items() if k != "NumMedia"}
    shifted["MessageSid"] = start["MessageSid"] + "NumMedia0"
    inbound = len(world.inbound())

    answer = world.post("/twilio/sms", shifted, headers=captured)

    assert answer.status == 400 and "MessageSid" in answer.body
    assert len(world.inbound()) == inbound
    later = world.ingest("e2")
    assert (later.outcome, later.reason) == ("suppressed", "opted_out")


def test_a_status_callback_with_a_malformed_sid_is_refused(world: SmsWorld) -> None:
    send = world.survey()
    for field in ("MessageSid", "SmsSid"):
        params = {"MessageSid": send.provider_message_id, "SmsSid": send.provider_message_id,
                  "MessageStatus": "failed", "ErrorCode": "21610"}  # fmt: skip
        params[field] += "ErrorCode21610"
        answer = world.post("/twilio/status", params)
        assert answer.status == 400 and field in answer.body
    assert world.send(send.id).status == "sent"
