"""What every source is: a signature check and a mapping from the vendor's payload to our events.

A `Source` answers two questions. `verify(headers, body)` returns when the vendor signed this
very body with the source's secret (and, where the scheme carries one, recently), and raises
`Unauthorized` otherwise. `to_events(payload, headers)` returns the events of §3 that the
payload means, or `Ignored` when the vendor sent a topic this kind does not map; a payload that
lacks what the mapping needs raises `MissingField` naming the vendor's path.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from bot.texts import source_messages as texts
from triggers.errors import InvalidEvent
from triggers.events import normalize_phone

Headers = Mapping[str, str]
Event = dict[str, Any]


class Unauthorized(Exception):
    """The delivery is not the vendor's, or not recent enough: answered 401, nothing stored."""

    def __init__(self, error: str, reason: Literal["signature", "stale"] = "signature") -> None:
        super().__init__(error)
        self.error = error
        self.reason = reason


class MissingField(Exception):
    """The payload lacks a value the mapping needs: answered 422 naming the vendor's path."""

    def __init__(self, path: str, needed_for: str) -> None:
        self.path = path
        self.error = texts.missing_field(path, needed_for)
        super().__init__(self.error)


@dataclass(frozen=True)
class Ignored:
    """A delivery the kind does not map (another topic, a status change that is no survey moment)."""

    what: str


class Source(Protocol):
    name: str
    kind: str

    def verify(self, headers: Headers, body: bytes) -> None: ...

    def to_events(self, payload: Any, headers: Headers) -> list[Event] | Ignored: ...


# --- signatures -------------------------------------------------------------------------------

DIGESTS: dict[str, Callable[[], Any]] = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}


def hmac_digest(secret: str, message: bytes, algorithm: str = "sha256") -> bytes:
    return hmac.new(secret.encode(), message, DIGESTS[algorithm]).digest()


def encoded(digest: bytes, encoding: Literal["hex", "base64"]) -> str:
    return digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()


def same(given: str, expected: str) -> bool:
    """Constant-time comparison of two signatures as text."""
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def required_header(headers: Headers, name: str) -> str:
    value = headers.get(name)
    if not value or not value.strip():
        raise Unauthorized(texts.missing_header(name))
    return value.strip()


def signed_at(header: str, value: str) -> datetime:
    """A signature timestamp: Unix seconds (Stripe) or ISO 8601 (Zendesk)."""
    text = value.strip()
    try:
        if text.isdigit():
            return datetime.fromtimestamp(int(text), UTC)
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except (ValueError, OverflowError, OSError):
        raise Unauthorized(texts.unreadable_timestamp(header, value)) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def check_fresh(header: str, moment: datetime, now: datetime, tolerance: timedelta) -> None:
    age = (now - moment).total_seconds()
    if abs(age) > tolerance.total_seconds():
        raise Unauthorized(texts.stale_timestamp(header, age, tolerance.total_seconds()), reason="stale")


# --- reading payloads -------------------------------------------------------------------------


def dig(payload: Any, path: str) -> Any:
    """The value at a dotted path (`data.object.customer`), or None where any step is missing."""
    value = payload
    for step in path.split("."):
        if isinstance(value, list) and step.isdigit():
            index = int(step)
            value = value[index] if index < len(value) else None
        elif isinstance(value, dict):
            value = value.get(step)
        else:
            return None
    return value


def text(value: Any) -> str | None:
    """A scalar from the payload as text; None for missing, empty, objects and lists."""
    if value is None or isinstance(value, bool | dict | list):
        return None
    result = str(value).strip()
    return result or None


def need(payload: Any, path: str, needed_for: str) -> str:
    value = text(dig(payload, path))
    if value is None:
        raise MissingField(path, needed_for)
    return value


def unix_time(value: Any) -> str | None:
    """A Unix timestamp from the payload as ISO 8601, or None."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 32503680000:
        return datetime.fromtimestamp(value, UTC).isoformat().replace("+00:00", "Z")
    return None


def usable_phone(value: Any) -> str | None:
    """The vendor's phone in E.164, or None: a number the vendor holds in a form we cannot read
    (a typo in a helpdesk profile) costs the SMS channel, not the event."""
    raw = text(value)
    if raw is None:
        return None
    try:
        return normalize_phone(raw)
    except InvalidEvent:
        return None


def full_name(first: Any, last: Any) -> str | None:
    parts = [p for p in (text(first), text(last)) if p]
    return " ".join(parts) or None


def contact(id_: str, **fields: Any) -> dict[str, Any]:
    """A contact object with the fields the vendor had (empty ones left out)."""
    return {"id": id_} | {k: v for k, v in fields.items() if v is not None}


def properties(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}
