"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records what it receives, for tests.

Its fixtures are registered for the whole suite by `tests.fakes.plugin`:

  smtp_server       plain SMTP, no auth: `FakeSmtpServer`
  smtp_tls_server   STARTTLS required (self-signed certificate made for the test), AUTH
                    required with user `surveybot` / password `s3cret`; its
                    `client_ssl_context` trusts that certificate
  closed_port       a local port where nothing listens (connection refused)

A `FakeSmtpServer` can be told to answer the next RCPT or DATA with a refusal
(`refuse_next("RCPT", 550, "5.1.1 No such user")`), to drop the connection once the message is
in (`drop_next_data()`), or to stay silent after the message until the client gives up
(`stall_next_data()`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USERNAME = "surveybot"
PASSWORD = "s3cret"


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage
    authenticated_as: str | None = None
    over_tls: bool = False


@dataclass
class _Plan:
    """What the server does to the next RCPT / DATA instead of accepting it."""

    rcpt: str | None = None
    data: str | None = None  # a reply line, or "drop" / "stall"
    released: asyncio.Event | None = None


@dataclass
class FakeSmtpServer:
    host: str
    port: int
    messages: list[ReceivedMail] = field(default_factory=list)
    client_ssl_context: ssl.SSLContext | None = None
    _plan: _Plan = field(default_factory=_Plan)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def refuse_next(self, command: str, code: int, text: str) -> None:
        """Answer the next `RCPT` or `DATA` (after the message is in) with `code text`."""
        with self._lock:
            setattr(self._plan, command.lower(), f"{code} {text}")

    def drop_next_data(self) -> None:
        """Take the next message, record it, then close the connection without a reply."""
        with self._lock:
            self._plan.data = "drop"

    def stall_next_data(self) -> None:
        """Take the next message, record it, then never answer (the client must time out)."""
        with self._lock:
            self._plan.data = "stall"

    def take_plan(self, command: str) -> str | None:
        with self._lock:
            plan = getattr(self._plan, command)
            setattr(self._plan, command, None)
            return cast(str | None, plan)


class _RecordingHandler:
    def __init__(self, fake: FakeSmtpServer) -> None:
        self.fake = fake
        self.stalled: list[asyncio.Event] = []

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if refusal := self.fake.take_plan("rcpt"):
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = cast(bytes, envelope.original_content)
        plan = self.fake.take_plan("data")
        if plan is None or plan in ("drop", "stall"):
            self._record(session, envelope, raw)
        if plan == "drop":
            assert server.transport is not None
            server.transport.close()
        elif plan == "stall":
            released = asyncio.Event()
            self.stalled.append(released)
            await released.wait()
        return plan if plan not in (None, "drop", "stall") else "250 OK: queued"

    def _record(self, session: Session, envelope: Envelope, raw: bytes) -> None:
        auth = session.auth_data
        parsed = email.message_from_bytes(raw, policy=policy.default)
        self.fake.messages.append(
            ReceivedMail(
                mail_from=str(envelope.mail_from),
                rcpt_tos=list(envelope.rcpt_tos),
                raw=raw,
                message=cast(EmailMessage, parsed),
                authenticated_as=auth.login.decode() if isinstance(auth, LoginPassword) else None,
                over_tls=session.ssl is not None,
            )
        )


def _check_login(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any):
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USERNAME.encode(),
        PASSWORD.encode(),
    )
    # handled=False lets aiosmtpd answer a failure with its 535 itself.
    return AuthResult(success=ok, handled=False, auth_data=data if ok else None)


class _EphemeralPortController(Controller):
    """aiosmtpd's Controller, able to listen on port 0: it learns the real port once bound."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def _serve(fake_kwargs: dict[str, Any], **smtp_kwargs: Any) -> Iterator[FakeSmtpServer]:
    fake = FakeSmtpServer(host="127.0.0.1", port=0, **fake_kwargs)
    handler = _RecordingHandler(fake)
    controller = _EphemeralPortController(handler, hostname="127.0.0.1", port=0, **smtp_kwargs)
    controller.start()
    fake.port = controller.port
    try:
        yield fake
    finally:
        for released in handler.stalled:
            controller.loop.call_soon_threadsafe(released.set)
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[FakeSmtpServer]:
    yield from _serve({})


@pytest.fixture
def smtp_tls_server(tmp_path: Path) -> Iterator[FakeSmtpServer]:
    cert, key = make_self_signed_certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    yield from _serve(
        {"client_ssl_context": ssl.create_default_context(cafile=str(cert))},
        tls_context=server_context,
        require_starttls=True,
        authenticator=_check_login,
        auth_required=True,
    )


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that was just free; connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, valid for a day; returns (cert, key) paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    san = x509.SubjectAlternativeName(
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(san, critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
