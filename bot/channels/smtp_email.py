"""The `smtp` email provider: a survey as a multipart email, handed to an SMTP relay.

The only module that imports smtplib. Each send opens its own connection (EHLO, STARTTLS and
AUTH when configured, MAIL, RCPT, DATA, QUIT), so a broken connection never spills into the
next send. How an attempt ends, by where it stopped:

  cannot connect; STARTTLS, AUTH or MAIL FROM refused -> `retry`, backing off (nothing left)
  4xx at RCPT/DATA                             -> `retry` in a few minutes (nothing left)
  5xx at RCPT/DATA                             -> `failed`, with the server's reply as reason
  timeout or lost connection once DATA began   -> `unknown` (it may have left: never resend)
  250 after the message                        -> `sent`, provider_id = the Message-ID
"""

from __future__ import annotations

import re
import secrets
import smtplib
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import jinja2
from markupsafe import Markup

from bot.channels.base import RETRY, OutboundMessage, SendOutcome
from bot.config import EmailChannelConfig
from bot.runtime.clock import Clock, SystemClock
from bot.texts.brand import BrandConfig
from bot.texts.rendering import layout_templates
from storage.models import SendStatus

# Parts are encoded with lines of at most 76 characters (RFC 2045's limit for quoted-printable),
# but headers are written under RFC 5322's hard limit of 998: a long unbreakable
# List-Unsubscribe URL folded at 78 would become an RFC 2047 encoded word, which mail software
# does not read as a URL.
COMPOSE_POLICY = policy.SMTP.clone(max_line_length=76)
WIRE_POLICY = policy.SMTP.clone(max_line_length=998)
# Greylisting relays answer 451 and expect the same message again after a few minutes.
TRANSIENT_REPLY_DELAY = timedelta(minutes=5)
SESSION_STAGES = ("EHLO", "STARTTLS", "AUTH", "MAIL FROM")
# Control characters (C0, DEL, C1) and the Unicode line and paragraph separators: none belongs
# in a header, and CR or LF would end it.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


Layouts = Callable[[str | None], jinja2.Environment]


def email_templates() -> Layouts:
    """The layout templates of survey emails by locale (HTML autoescaped, plain text not)."""
    return layout_templates


@dataclass(frozen=True)
class Backoff:
    """Delay before retrying after the relay could not be reached: first, doubling, up to most."""

    first: timedelta = timedelta(seconds=30)
    most: timedelta = timedelta(hours=1)

    def after(self, failures: int) -> timedelta:
        return min(self.first * 2 ** max(failures - 1, 0), self.most)


class _Reply(Exception):
    """The relay answered a command with something other than success."""

    def __init__(self, code: int, text: bytes | str, stage: str) -> None:
        self.code = code
        self.text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        self.stage = stage
        super().__init__(f"{stage}: {code} {self.text}")


class SmtpEmailChannel:
    """Sends `OutboundMessage`s as email through the relay in `EmailChannelConfig`.

    `ssl_context` verifies the relay's certificate for STARTTLS (default: the system's trust
    store). The counter behind the growing `retry_after` is shared by all sends on this channel,
    because an unreachable relay is unreachable for every message; the next session the relay
    accepts (connected, STARTTLS and AUTH done) resets it.
    """

    name = "email"

    def __init__(
        self,
        config: EmailChannelConfig,
        *,
        clock: Clock | None = None,
        ssl_context: ssl.SSLContext | None = None,
        templates: Layouts | None = None,
        backoff: Backoff | None = None,
        brand: BrandConfig | None = None,
    ) -> None:
        if not config.host:
            raise ValueError("the smtp email channel needs channels.email.host")
        self._config = config
        self._host: str = config.host
        self._clock = clock or SystemClock()
        self._ssl_context = ssl_context
        self._templates = templates or email_templates()
        self._backoff = backoff or Backoff()
        self._brand = brand or BrandConfig()
        self._unreachable = 0
        self._lock = threading.Lock()

    def send(self, message: OutboundMessage) -> SendOutcome:
        if not is_safe_address(message.to):
            return SendOutcome(status=SendStatus.FAILED, reason=f"unsafe recipient address {message.to!r}")
        email = self.compose(message)
        return self._deliver(email, message.to)

    def close(self) -> None:
        return None  # one connection per send: nothing stays open

    def compose(self, message: OutboundMessage) -> EmailMessage:
        """The email as it goes on the wire: headers, plain text part, HTML part."""
        email = EmailMessage(policy=COMPOSE_POLICY)
        email["Subject"] = header_text(message.subject or "")
        email["From"] = header_text(self._config.from_)
        email["To"] = message.to
        email["Date"] = format_datetime(self._clock.now())
        email["Message-ID"] = _message_id(message.send_id, self._config.from_)
        if message.unsubscribe_url:
            email["List-Unsubscribe"] = f"<{header_text(message.unsubscribe_url)}>"
            email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        templates = self._templates(message.locale)
        context = _layout_context(message) | {"brand": self._brand}
        plain = templates.get_template("email.txt").render(context)
        html = templates.get_template("email.html").render(context)
        # Quoted-printable keeps every line short and 7-bit, whatever the relay supports.
        email.set_content(plain, cte="quoted-printable")
        email.add_alternative(html, subtype="html", cte="quoted-printable")
        # After the parts: setting them clears every Content-* header.
        email["Content-Language"] = str(templates.globals["lang"])
        return email

    # --- delivery ---------------------------------------------------------------------------

    def _deliver(self, email: EmailMessage, to: str) -> SendOutcome:
        sender = parseaddr(self._config.from_)[1]
        payload = email.as_bytes(policy=WIRE_POLICY)
        data_began = False
        client: smtplib.SMTP | None = None
        try:
            client = self._open_session()
            _expect(client.mail(sender), "MAIL FROM")
            _expect(client.rcpt(to), "RCPT TO")
            data_began = True
            _expect(client.data(payload), "DATA")
        except _Reply as reply:
            return self._refused(reply, data_began)
        except smtplib.SMTPDataError as exc:  # DATA itself answered with other than 354
            return self._refused(_Reply(exc.smtp_code, exc.smtp_error, "DATA"), data_began)
        except OSError as exc:  # includes timeouts, lost connections, TLS and smtplib errors
            if client is not None:
                client.close()  # a QUIT now would only wait out another timeout
            if data_began:
                return SendOutcome(status=SendStatus.UNKNOWN, reason=f"connection lost during DATA: {exc}")
            return self._unreachable_outcome(f"cannot reach {self._host}:{self._config.port}: {exc}")
        finally:
            if client is not None:
                _quit(client)
        return SendOutcome(status=SendStatus.SENT, provider_id=str(email["Message-ID"]))

    def _open_session(self) -> smtplib.SMTP:
        """Connect, greet, STARTTLS and log in; raise `_Reply` or OSError if any step fails."""
        config = self._config
        client = smtplib.SMTP(self._host, config.port, timeout=config.timeout_seconds)
        try:
            _expect(client.ehlo(), "EHLO")
            if config.starttls:
                context = self._ssl_context or ssl.create_default_context()
                _expect(client.starttls(context=context), "STARTTLS")
                _expect(client.ehlo(), "EHLO")
            if config.username:
                try:
                    client.login(config.username, config.password or "")
                except smtplib.SMTPResponseException as exc:
                    raise _Reply(exc.smtp_code, exc.smtp_error, "AUTH") from None
        except BaseException:
            client.close()
            raise
        with self._lock:
            self._unreachable = 0
        return client

    def _refused(self, reply: _Reply, data_began: bool) -> SendOutcome:
        reason = f"{reply.stage}: {reply.code} {reply.text}".strip()
        if reply.stage in SESSION_STAGES:
            # Refusing our login or our sender is about the relay setup, not this recipient:
            # every send would meet it, so it backs off like an unreachable relay.
            return self._unreachable_outcome(f"relay refused {reason}")
        if 400 <= reply.code < 500:
            return SendOutcome(status=RETRY, reason=reason, retry_after=TRANSIENT_REPLY_DELAY)
        if 500 <= reply.code < 600:
            return SendOutcome(status=SendStatus.FAILED, reason=reason)
        # A reply outside 4xx/5xx after DATA is nonsense we cannot read as a refusal.
        if data_began:
            return SendOutcome(status=SendStatus.UNKNOWN, reason=reason)
        return SendOutcome(status=RETRY, reason=reason, retry_after=TRANSIENT_REPLY_DELAY)

    def _unreachable_outcome(self, reason: str) -> SendOutcome:
        with self._lock:
            self._unreachable += 1
            delay = self._backoff.after(self._unreachable)
        return SendOutcome(status=RETRY, reason=reason, retry_after=delay)


def header_text(value: str) -> str:
    """`value` made safe to write as one header: every run of control characters (CR and LF
    among them) becomes one space, and `=?` becomes `= ?`.

    The second matters as much as the first: Python's email package decodes an RFC 2047 encoded
    word (`=?utf-8?b?...?=`) found anywhere in a header value we set, and before 3.11.10
    (CVE-2024-6923) writes what it decoded, CR LF included, onto the wire unquoted: a contact's
    name or an event property in the subject could add headers or replace the body. With no
    `=?` left there is no encoded word to decode, on any Python."""
    return _CONTROL.sub(" ", value).replace("=?", "= ?").strip()


def is_safe_address(address: str) -> bool:
    """Whether `address` can go in `To` as it stands (events refuse the others since)."""
    return header_text(address) == address and "=?" not in address


def _expect(answer: tuple[int, bytes], stage: str) -> None:
    code, text = answer
    if not 200 <= code < 400:
        raise _Reply(code, text, stage)


def _quit(client: smtplib.SMTP) -> None:
    """Say goodbye if the connection is still open; the outcome is already decided."""
    if client.sock is None:
        return
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()


def _message_id(send_id: str, from_: str) -> str:
    domain = parseaddr(from_)[1].rpartition("@")[2] or "localhost"
    local = re.sub(r"[^A-Za-z0-9_.-]", "-", send_id) or "send"
    return f"<{local}.{secrets.token_hex(6)}@{domain}>"


def _layout_context(message: OutboundMessage) -> dict[str, object]:
    paragraphs = [block.split("\n") for block in re.split(r"\n\s*\n", message.body.strip())]
    return {
        "subject": message.subject or "",
        "metric": message.metric,
        "body": message.body.strip(),
        "body_html": Markup(message.html) if message.html else None,
        "paragraphs": paragraphs,
        "scores": sorted(message.links.items()),
        "unsubscribe_url": message.unsubscribe_url,
    }
