"""A local stand-in for Twilio's Messages API, spoken over real HTTP, plus signed webhooks.

`FakeTwilio` answers `POST /2010-04-01/Accounts/{sid}/Messages.json` the way Twilio does: form
fields in, Basic auth checked against its account SID and auth token, 201 with a Message
resource in Twilio's JSON shape (sid `SM…`, status `queued`, or `accepted` when only a
Messaging Service was given). It keeps every accepted message (`messages`), counts requests
(`request_count`) and notes when each arrived (`arrivals`, monotonic seconds).

`fail_next(count, fault)` makes the next `count` requests go wrong, in order of arrival:
  - "rate_limited": 429 with Twilio error 20429;
  - "server_error": 500 with Twilio error 20500 (nothing recorded);
  - "hang": the message is recorded (it reached Twilio) but the answer comes only after
    `hang_seconds`, longer than any client timeout in the tests;
  - "drop": the message is recorded, then the connection is closed with no answer;
  - "unsubscribed": 400 with error 21610; "invalid_number": 400 with error 21211.

WhatsApp and Content templates are checked as the real API checks them: `From` and `To` must
both be `whatsapp:+…` or neither (21910); a message needs `Body`, `MediaUrl` or `ContentSid`
(21602); `ContentSid` is `HX` and 32 hex digits (21655); `ContentVariables` is a JSON object
of non-empty one-line strings (21656). An accepted message keeps `content_sid` and
`content_variables` (parsed) for the tests to read.

`fake_twilio` is a pytest fixture giving a running server; import it into a test module (or
list this module in `pytest_plugins`). `signed_webhook` builds an inbound request signed with
twilio's own `RequestValidator`, for endpoint tests.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs

import pytest
from twilio.request_validator import RequestValidator

Fault = Literal["rate_limited", "server_error", "hang", "drop", "unsubscribed", "invalid_number"]

ACCOUNT_SID = "AC" + "a1" * 16
AUTH_TOKEN = "fake-auth-token-0123456789abcdef"

_ERRORS: dict[str, tuple[int, int, str]] = {
    "rate_limited": (429, 20429, "Too Many Requests"),
    "server_error": (500, 20500, "Internal Server Error"),
    "unsubscribed": (400, 21610, "Attempt to send to unsubscribed recipient"),
    "invalid_number": (400, 21211, "The 'To' number {to} is not a valid phone number."),
    "unauthorized": (401, 20003, "Authenticate"),
    "not_found": (404, 20404, "The requested resource {path} was not found"),
    "no_to": (400, 21604, "A 'To' phone number is required."),
    "no_body": (400, 21602, "Message body is required."),
    "no_from": (400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required."),
    "channel_pair": (400, 21910, "Invalid From and To pair. From and To should be of the same channel"),
    "content_sid": (400, 21655, "The ContentSid is Invalid"),
    "content_variables": (400, 21656, "The ContentVariables Parameter is invalid"),
}
CONTENT_SID = re.compile(r"HX[0-9a-fA-F]{32}")


class FakeTwilio:
    """A Twilio Messages API on 127.0.0.1 (port chosen by the OS); use as a context manager."""

    def __init__(
        self,
        account_sid: str = ACCOUNT_SID,
        auth_token: str = AUTH_TOKEN,
        hang_seconds: float = 5.0,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.hang_seconds = hang_seconds
        self.messages: list[dict[str, Any]] = []
        self.arrivals: list[float] = []
        self.request_count = 0
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        """What goes in `channels.sms.api_base_url`, e.g. `http://127.0.0.1:50123`."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeTwilio:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases handlers that are hanging on purpose
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def fail_next(self, count: int, fault: Fault) -> None:
        """Make the next `count` requests end with `fault` (queued after earlier faults)."""
        with self._lock:
            self._faults.extend([fault] * count)

    def reset(self) -> None:
        with self._lock:
            self.messages.clear()
            self.arrivals.clear()
            self.request_count = 0
            self._faults.clear()

    # --- used by the handler -----------------------------------------------------------------

    def _arrive(self) -> Fault | None:
        with self._lock:
            self.request_count += 1
            self.arrivals.append(time.monotonic())
            return self._faults.popleft() if self._faults else None

    def _accept(self, form: dict[str, str]) -> dict[str, Any]:
        resource = _message_resource(self.account_sid, form)
        with self._lock:
            self.messages.append(resource)
        return resource

    def _authorized(self, header: str | None) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return header == f"Basic {expected}"


def _message_resource(account_sid: str, form: dict[str, str]) -> dict[str, Any]:
    sid = "SM" + uuid.uuid4().hex
    now = formatdate(usegmt=True)
    service = form.get("MessagingServiceSid")
    return {
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "body": form.get("Body", ""),
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": form.get("From"),
        "messaging_service_sid": service,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        # Twilio answers `accepted` while a Messaging Service still has to pick the sender.
        "status": "accepted" if service and not form.get("From") else "queued",
        "subresource_uris": {"media": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}/Media.json"},
        "to": form.get("To"),
        "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
        # Not part of Twilio's answer; kept so tests can see what was asked for.
        "status_callback": form.get("StatusCallback"),
        "content_sid": form.get("ContentSid"),
        "content_variables": json.loads(form["ContentVariables"]) if form.get("ContentVariables") else None,
    }


def _whatsapp_problem(form: dict[str, str]) -> str | None:
    """What Twilio refuses in a WhatsApp or Content template send, by the name of its error."""
    sender = form.get("From")
    if sender and sender.startswith("whatsapp:") != form["To"].startswith("whatsapp:"):
        return "channel_pair"
    if "ContentSid" in form and not CONTENT_SID.fullmatch(form["ContentSid"]):
        return "content_sid"
    if "ContentVariables" in form and not _variables_valid(form["ContentVariables"]):
        return "content_variables"
    return None


def _variables_valid(raw: str) -> bool:
    try:
        variables = json.loads(raw)
    except ValueError:
        return False
    return isinstance(variables, dict) and all(
        isinstance(value, str)
        and value.strip()
        and not re.search(r"[\n\t]| {5,}", value)
        and len(value) <= 1600
        for value in variables.values()
    )


def _handler_for(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the real API and `requests` use it
        # Headers and body leave in separate writes; without this, Nagle's algorithm and the
        # client's delayed ACK add 40 ms to every answer and the fake becomes the bottleneck.
        disable_nagle_algorithm = True

        def log_message(self, *_: Any) -> None:
            return None

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8")
            form = {key: values[-1] for key, values in parse_qs(raw).items()}
            fault = fake._arrive()
            problem = self._problem(form)
            if problem is not None:
                self._error(problem, to=form.get("To", ""), path=self.path)
            elif fault in ("hang", "drop"):
                fake._accept(form)
                self._hang() if fault == "hang" else self._drop()
            elif fault is not None:
                self._error(fault, to=form.get("To", ""))
            else:
                self._json(201, fake._accept(form))

        def _problem(self, form: dict[str, str]) -> str | None:
            if not fake._authorized(self.headers.get("Authorization")):
                return "unauthorized"
            if self.path != f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json":
                return "not_found"
            if not form.get("To"):
                return "no_to"
            if not (form.get("Body") or form.get("MediaUrl") or form.get("ContentSid")):
                return "no_body"
            if not (form.get("From") or form.get("MessagingServiceSid")):
                return "no_from"
            return _whatsapp_problem(form)

        def _error(self, name: str, **details: str) -> None:
            status, code, message = _ERRORS[name]
            self._json(
                status,
                {
                    "code": code,
                    "message": message.format(**details),
                    "more_info": f"https://www.twilio.com/docs/errors/{code}",
                    "status": status,
                },
            )

        def _hang(self) -> None:
            fake._stopping.wait(fake.hang_seconds)
            with contextlib.suppress(OSError):  # the client gave up long ago
                self._json(201, {"late": True})

        def _drop(self) -> None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def refused_url() -> str:
    """A base URL where nothing listens: connecting is refused before any request leaves."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def inbound_sms_params(
    from_: str, body: str, to: str = "+15550001111", message_sid: str | None = None
) -> dict[str, str]:
    """The form fields Twilio posts to an incoming-message webhook (the ones we read)."""
    return {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "Body": body,
        "From": from_,
        "MessageSid": message_sid or "SM" + uuid.uuid4().hex,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "To": to,
    }


def inbound_whatsapp_params(
    from_: str,
    body: str,
    *,
    button: tuple[str, str] | None = None,
    list_item: tuple[str, str] | None = None,
    to: str = "whatsapp:+15550001111",
    profile_name: str = "Ada",
) -> dict[str, str]:
    """The form fields Twilio posts for a WhatsApp message from the number `from_` (E.164):
    typed text, a tapped quick-reply `button` (payload, text) or a picked `list_item` (id, title).
    A tap's label is also its Body, as WhatsApp shows it in the chat."""
    params = inbound_sms_params(f"whatsapp:{from_}", body, to=to)
    params |= {"ProfileName": profile_name, "WaId": from_.lstrip("+"), "MessageType": "text"}
    if button:
        params |= {"ButtonPayload": button[0], "ButtonText": button[1], "MessageType": "button"}
    if list_item:
        params |= {"ListId": list_item[0], "ListTitle": list_item[1], "MessageType": "interactive"}
    return params


def signed_webhook(url: str, params: dict[str, str], auth_token: str = AUTH_TOKEN) -> dict[str, str]:
    """Headers for POSTing `params` (form-encoded) to `url` as Twilio would sign them.

    `url` is the full public URL Twilio requested (e.g. `server.public_url + "/twilio/sms"`).
    """
    signature = RequestValidator(auth_token).compute_signature(url, params)
    return {
        "X-Twilio-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """A running `FakeTwilio`, stopped after the test."""
    with FakeTwilio(hang_seconds=5.0) as fake:
        yield fake
