"""The `twilio` SMS provider: one survey text out through Twilio's Messages API, and the two
things Twilio's webhooks need from the library (checking a signature, writing TwiML).

The only module that imports the twilio library. Sending uses the library's own REST client
(`twilio.rest.Client`) over a `TwilioHttpClient` subclass (the library's documented extension
point) that changes two things: requests never retry by themselves, and when
`api_base_url` is set, requests for *.twilio.com (whatever region or edge) go to that
Twilio-compatible endpoint.

How an attempt ends (see `bot.channels.base` for what each status promises):
  - 201 -> `sent`, `provider_id` = the message SID (`SM…`);
  - connection refused or not established in time, or HTTP 429 -> `retry`, nothing left;
    `retry_after` grows with each consecutive refusal (1s, 2s, 4s ... 5 min);
  - read timeout, HTTP 5xx, connection dropped after the request went out, or any answer we
    cannot read -> `unknown`: Twilio may have taken it, so it must not be sent again;
  - error 21610 (the recipient texted STOP) -> `failed` with `opt_out=True`;
  - any other 4xx -> `failed`, with Twilio's code and message as the reason.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse
from urllib3.exceptions import ConnectTimeoutError
from urllib3.util.retry import Retry

from bot.channels.base import RETRY, OutboundMessage, SendOutcome
from bot.channels.pacing import Backoff, MonotonicClock, Pacer, PacingLimiter, Sleep
from bot.channels.whatsapp import whatsapp_address
from bot.config import SmsChannelConfig, WhatsAppChannelConfig
from storage.models import SendStatus

UNSUBSCRIBED = 21610
DEFAULT_TIMEOUT_SECONDS = 10.0
# Not one retry anywhere: a POST retried after its answer was lost could send a survey twice.
_NO_RETRIES = Retry(total=0, read=False, redirect=0, status=0)


def signature_is_valid(auth_token: str, url: str, params: Mapping[str, str], signature: str) -> bool:
    """True when `signature` (the `X-Twilio-Signature` header) is the one Twilio computes with
    `auth_token` over `url` (exactly as Twilio requested it) and the form fields `params`."""
    return bool(RequestValidator(auth_token).validate(url, params, signature))


def render_twiml(answer: str | None) -> str:
    """A TwiML `<Response>` that texts `answer` back to the sender, or says nothing when None."""
    response = MessagingResponse()
    if answer:
        response.message(answer)
    return str(response.to_xml())


class _OneShotHttpClient(TwilioHttpClient):
    """twilio's HTTP client, never retrying, optionally aimed at another base URL."""

    def __init__(self, timeout: float, base_url: str | None) -> None:
        super().__init__(timeout=timeout)
        adapter = HTTPAdapter(max_retries=_NO_RETRIES)
        assert self.session is not None  # pool_connections defaults to True
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.base_url = base_url.rstrip("/") if base_url else None

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        return super().request(method, self.rebase(url), *args, **kwargs)

    def rebase(self, url: str) -> str:
        """Send a Twilio URL to `base_url` instead (any region or edge the client chose)."""
        parts = urlsplit(url)
        if not self.base_url or not parts.hostname or not parts.hostname.endswith("twilio.com"):
            return url
        return self.base_url + urlunsplit(("", "", parts.path, parts.query, parts.fragment))

    def close(self) -> None:
        if self.session is not None:
            self.session.close()


class TwilioSmsChannel:
    """Sends `OutboundMessage`s as SMS through Twilio, paced to `config.rate_per_second`.

    Safe to share between dispatch threads: they share one pacing limiter and one backoff,
    and each thread gets its own HTTP session. `pacer` replaces this process's own limiter (the
    fleet's, `bot.channels.fleet_pacing`); `paced=False` turns pacing off (benches).
    """

    name = "sms"

    def __init__(
        self,
        config: SmsChannelConfig,
        *,
        status_callback_url: str | None = None,
        clock: MonotonicClock = time.monotonic,
        sleep: Sleep = time.sleep,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        paced: bool = True,
        pacer: Pacer | None = None,
    ) -> None:
        if not (config.account_sid and config.auth_token):
            raise ValueError("the twilio SMS channel needs account_sid and auth_token")
        if not (config.from_ or config.messaging_service_sid):
            raise ValueError("the twilio SMS channel needs from or messaging_service_sid")
        self.config = config
        self.status_callback_url = status_callback_url
        self.timeout_seconds = timeout_seconds
        self.limiter: Pacer | None = None
        if paced:
            self.limiter = pacer or PacingLimiter(config.rate_per_second, clock, sleep)
        self.backoff = Backoff()
        self._local = threading.local()
        self._http_clients: list[_OneShotHttpClient] = []
        self._lock = threading.Lock()

    def send(self, message: OutboundMessage) -> SendOutcome:
        """Hand one SMS to Twilio; never raises for anything Twilio or the network does."""
        if self.limiter is not None:
            self.limiter.acquire()
        try:
            created = self._client().messages.create(**self._create_params(message))
        except TwilioException as exc:
            return self._refused(exc)
        except requests.RequestException as exc:
            return self._transport_failed(exc)
        except Exception as exc:  # an unreadable answer: it may still have been sent
            return self._answered(SendOutcome(status=SendStatus.UNKNOWN, reason=_describe(exc)))
        return self._answered(SendOutcome(status=SendStatus.SENT, provider_id=created.sid))

    def close(self) -> None:
        if self.limiter is not None:
            self.limiter.close()
        with self._lock:
            for http_client in self._http_clients:
                http_client.close()
            self._http_clients.clear()

    def _create_params(self, message: OutboundMessage) -> dict[str, Any]:
        params: dict[str, Any] = {"to": message.to, "body": message.body}
        if self.config.from_:
            params["from_"] = self.config.from_
        if self.config.messaging_service_sid:
            params["messaging_service_sid"] = self.config.messaging_service_sid
        if self.status_callback_url:
            params["status_callback"] = self.status_callback_url
        return params

    def _client(self) -> Client:
        client: Client | None = getattr(self._local, "client", None)
        if client is None:
            http_client = _OneShotHttpClient(self.timeout_seconds, self.config.api_base_url)
            with self._lock:
                self._http_clients.append(http_client)
            client = Client(self.config.account_sid, self.config.auth_token, http_client=http_client)
            self._local.client = client
        return client

    def _refused(self, exc: TwilioException) -> SendOutcome:
        status = int(getattr(exc, "status", 0) or 0)
        code = getattr(exc, "code", None)
        reason = _describe(exc)
        if status == 429:
            return SendOutcome(status=RETRY, reason=reason, retry_after=self.backoff.next_delay())
        if 400 <= status < 500:
            return self._answered(
                SendOutcome(status=SendStatus.FAILED, reason=reason, opt_out=code == UNSUBSCRIBED)
            )
        return self._answered(SendOutcome(status=SendStatus.UNKNOWN, reason=reason))

    def _transport_failed(self, exc: requests.RequestException) -> SendOutcome:
        if _never_connected(exc):
            return SendOutcome(status=RETRY, reason=_describe(exc), retry_after=self.backoff.next_delay())
        return SendOutcome(status=SendStatus.UNKNOWN, reason=_describe(exc))

    def _answered(self, outcome: SendOutcome) -> SendOutcome:
        """Twilio answered (or may have): the run of transient refusals is over."""
        self.backoff.reset()
        return outcome


class TwilioWhatsAppChannel(TwilioSmsChannel):
    """Sends `OutboundMessage`s over WhatsApp through the same Messages API: `To` and `From` as
    `whatsapp:+…`; with a `content_sid`, the approved template (`ContentSid`, `ContentVariables`
    as a JSON string) instead of a body. Endings as for SMS; Twilio's later status callback
    reports WhatsApp's own refusals (63016: outside the 24-hour window)."""

    name = "whatsapp"

    def __init__(self, config: WhatsAppChannelConfig, **options: Any) -> None:
        super().__init__(config, **options)
        self.whatsapp = config

    def _create_params(self, message: OutboundMessage) -> dict[str, Any]:
        params = super()._create_params(message)
        params["to"] = whatsapp_address(message.to)
        if self.whatsapp.content_sid:
            del params["body"]
            params["content_sid"] = self.whatsapp.content_sid
            if message.variables:
                params["content_variables"] = json.dumps(message.variables, ensure_ascii=False)
        return params


def _never_connected(exc: requests.RequestException) -> bool:
    """True when no byte of the request can have reached Twilio (refused, connect timeout)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if not isinstance(exc, requests.ConnectionError) or not exc.args:
        return False
    # urllib3 wraps the cause: MaxRetryError(reason=NewConnectionError | ConnectTimeoutError).
    reason = getattr(exc.args[0], "reason", None)
    return isinstance(reason, ConnectTimeoutError)


def _describe(exc: Exception) -> str:
    code = getattr(exc, "code", None)
    message = getattr(exc, "msg", None) or getattr(exc, "detail", None) or getattr(exc, "title", None)
    if isinstance(exc, TwilioException) and message:
        message = str(message).removeprefix("Unable to create record: ")
        return f"Twilio error {code}: {message}" if code else str(message)
    return f"{type(exc).__name__}: {exc}"
