"""TwilioSmsChannel through the real twilio client against a Twilio-shaped local server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from bot.channels.base import OutboundMessage
from bot.channels.twilio import TwilioSmsChannel
from bot.config import SmsChannelConfig
from tests.fakes.twilio_api import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FakeTwilio,
    inbound_sms_params,
    refused_url,
    signed_webhook,
)

FROM = "+15550001111"
SERVICE = "MG" + "b2" * 16
CALLBACK = "https://surveys.example.com/twilio/status"
ChannelFactory = Callable[..., TwilioSmsChannel]


class VirtualTime:
    """A monotonic clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def message(to: str = "+14155550100", body: str = "How did we do? Reply 1-5.") -> OutboundMessage:
    return OutboundMessage(
        send_id="send-1", channel="sms", to=to, survey="support_csat", metric="csat", body=body
    )


@pytest.fixture
def make_channel(fake_twilio: FakeTwilio) -> Iterator[ChannelFactory]:
    built: list[TwilioSmsChannel] = []

    def build(**overrides: Any) -> TwilioSmsChannel:
        settings: dict[str, Any] = {
            "provider": "twilio",
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "from": FROM,
            "rate_per_second": 1000,
            "api_base_url": fake_twilio.base_url,
        }
        options: dict[str, Any] = {
            "timeout_seconds": 0.3,
            "clock": VirtualTime().clock,
            "sleep": lambda _: None,
        }
        for key in ("status_callback_url", "timeout_seconds", "clock", "sleep", "paced"):
            if key in overrides:
                options[key] = overrides.pop(key)
        settings.update(overrides)
        channel = TwilioSmsChannel(SmsChannelConfig.model_validate(settings), **options)
        built.append(channel)
        return channel

    yield build
    for channel in built:
        channel.close()


def test_a_delivered_request_is_sent_with_the_message_sid(
    fake_twilio: FakeTwilio,
    make_channel: ChannelFactory,
) -> None:
    outcome = make_channel().send(message(body="Hi Ada, how did we do? Reply 1-5."))

    assert outcome.status == "sent"
    [stored] = fake_twilio.messages
    assert outcome.provider_id == stored["sid"]
    assert outcome.provider_id is not None and outcome.provider_id.startswith("SM")
    assert stored["to"] == "+14155550100"
    assert stored["from"] == FROM
    assert stored["body"] == "Hi Ada, how did we do? Reply 1-5."
    assert stored["messaging_service_sid"] is None


def test_a_messaging_service_sends_without_a_from_number(
    fake_twilio: FakeTwilio,
    make_channel: ChannelFactory,
) -> None:
    outcome = make_channel(**{"from": None, "messaging_service_sid": SERVICE}).send(message())

    assert outcome.status == "sent"
    [stored] = fake_twilio.messages
    assert stored["messaging_service_sid"] == SERVICE
    assert stored["from"] is None
    assert stored["status"] == "accepted"


def test_the_status_callback_goes_with_each_message_when_set(
    fake_twilio: FakeTwilio,
    make_channel: ChannelFactory,
) -> None:
    make_channel(status_callback_url=CALLBACK).send(message())
    make_channel().send(message())

    assert [m["status_callback"] for m in fake_twilio.messages] == [CALLBACK, None]


def test_429_is_retried_later_with_a_growing_wait_and_nothing_sent(
    fake_twilio: FakeTwilio,
    make_channel: ChannelFactory,
) -> None:
    channel = make_channel()
    fake_twilio.fail_next(3, "rate_limited")

    outcomes = [channel.send(message()) for _ in range(3)]

    assert [o.status for o in outcomes] == ["retry"] * 3
    waits = [o.retry_after for o in outcomes]
    assert waits == [timedelta(seconds=1), timedelta(seconds=2), timedelta(seconds=4)]
    assert outcomes[0].reason is not None and "20429" in outcomes[0].reason
    assert fake_twilio.messages == []
    assert fake_twilio.request_count == 3  # one request per attempt: the library kept out of it


def test_an_answer_resets_the_backoff(
    fake_twilio: FakeTwilio,
    make_channel: ChannelFactory,
) -> None:
    channel = make_channel()
    fake_twilio.fail_next(2, "rate_limited")
    channel.send(message())
    channel.send(message())

    assert channel.send(message()).status == "sent"
    fake_twilio.fail_next(1, "rate_limited")
    assert channel.send(message()).retry_after == timedelta(seconds=1)


def test_a_refused_connection_is_retried_later(make_channel: ChannelFactory) -> None:
    channel = make_channel(api_base_url=refused_url())

    first, second = channel.send(message()), channel.send(message())

    assert (first.status, second.status) == ("retry", "retry")
    assert first.retry_after is not None and second.retry_after is not None
    assert second.retry_after > first.retry_after


@pytest.mark.parametrize("fault", ["server_error", "hang", "drop"])
def test_a_possibly_lost_answer_is_unknown_and_never_repeated(
    fault: Any,
    fake_twilio: FakeTwilio,
    make_channel: ChannelFactory,
) -> None:
    fake_twilio.fail_next(5, fault)

    outcome = make_channel().send(message())

    assert outcome.status == "unknown"
    assert outcome.retry_after is None
    assert fake_twilio.request_count == 1  # neither twilio nor requests nor urllib3 retried


def test_an_unsubscribed_recipient_fails_and_opts_out(
    fake_twilio: FakeTwilio,
    make_channel: ChannelFactory,
) -> None:
    fake_twilio.fail_next(1, "unsubscribed")

    outcome = make_channel().send(message())

    assert outcome.status == "failed"
    assert outcome.opt_out is True
    assert outcome.reason == "Twilio error 21610: Attempt to send to unsubscribed recipient"


def test_other_client_errors_fail_with_twilios_message(
    fake_twilio: FakeTwilio,
    make_channel: ChannelFactory,
) -> None:
    fake_twilio.fail_next(1, "invalid_number")

    invalid = make_channel().send(message(to="+1555"))
    no_body = make_channel().send(message(body=""))
    bad_token = make_channel(auth_token="wrong").send(message())

    assert (invalid.status, invalid.opt_out) == ("failed", False)
    assert invalid.reason == "Twilio error 21211: The 'To' number +1555 is not a valid phone number."
    assert no_body.reason == "Twilio error 21602: Message body is required."
    assert bad_token.status == "failed"
    assert bad_token.reason == "Twilio error 20003: Authenticate"
    assert fake_twilio.messages == []


def test_sends_are_paced_to_the_configured_rate(
    fake_twilio: FakeTwilio,
    make_channel: ChannelFactory,
) -> None:
    time = VirtualTime()
    channel = make_channel(rate_per_second=5, clock=time.clock, sleep=time.sleep)

    outcomes = [channel.send(message()) for _ in range(21)]

    assert all(o.status == "sent" for o in outcomes)
    assert len(fake_twilio.messages) == 21
    assert time.now == pytest.approx(4.0)  # 20 intervals of 0.2 s after the first send


def test_unpaced_channel_never_waits(make_channel: ChannelFactory) -> None:
    time = VirtualTime()
    channel = make_channel(rate_per_second=1, clock=time.clock, sleep=time.sleep, paced=False)

    for _ in range(5):
        channel.send(message())

    assert time.sleeps == []


def test_signed_webhook_passes_twilios_own_validation() -> None:
    url = "https://surveys.example.com/twilio/sms"
    params = inbound_sms_params(from_="+14155550100", body="5 great service")

    headers = signed_webhook(url, params)

    validator = RequestValidator(AUTH_TOKEN)
    assert validator.validate(url, params, headers["X-Twilio-Signature"])
    assert not validator.validate(url, {**params, "Body": "1"}, headers["X-Twilio-Signature"])


def test_api_base_url_wins_over_a_region_and_edge_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
    fake_twilio: FakeTwilio,
    make_channel: ChannelFactory,
) -> None:
    monkeypatch.setenv("TWILIO_REGION", "ie1")
    monkeypatch.setenv("TWILIO_EDGE", "dublin")

    outcome = make_channel(api_base_url=fake_twilio.base_url + "/").send(message())

    assert outcome.status == "sent"
    assert len(fake_twilio.messages) == 1
