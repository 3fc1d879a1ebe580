"""Any JSON webhook: the event's fields taken from the payload by JSON paths in the config's
`map:`, the delivery checked by the HMAC its `signature:` describes.

A map value that starts with `$` is a JSONPath (RFC 9535, evaluated by python-jsonpath, the one
module that imports it); anything else is a constant (`type: order.placed`). A constant that
must start with `$` is written in inner quotes: `'"$5 off"'`. The first match of a path is
taken; a path that matches nothing leaves the field out, and is an error for `id`, `type` and
`contact.id`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import jsonpath

from bot.intake.sources.base import (
    Event,
    Headers,
    Ignored,
    MissingField,
    Unauthorized,
    check_fresh,
    encoded,
    hmac_digest,
    required_header,
    same,
    signed_at,
    text,
)
from bot.runtime.clock import Clock
from bot.texts import source_messages as texts

REQUIRED = ("id", "type", "contact.id")
CONTACT_FIELDS = ("id", "email", "phone", "name", "timezone", "locale")
TOP_FIELDS = ("id", "type", "occurred_at")


@dataclass(frozen=True)
class Signature:
    header: str
    algorithm: Literal["sha1", "sha256"] = "sha256"
    encoding: Literal["hex", "base64"] = "hex"
    prefix: str = ""
    timestamp_header: str | None = None
    tolerance: timedelta = timedelta(minutes=5)
    signed: str = "{body}"  # with a timestamp header, e.g. "{timestamp}.{body}"

    def message(self, body: bytes, timestamp: str | None) -> bytes:
        before, _, after = self.signed.partition("{body}")
        stamp = timestamp or ""
        return (
            before.replace("{timestamp}", stamp).encode()
            + body
            + after.replace("{timestamp}", stamp).encode()
        )


class Field:
    """One entry of `map:`: a compiled JSONPath, or a constant."""

    def __init__(self, target: str, spec: str) -> None:
        self.target = target
        self.spec = spec
        self.path = jsonpath.compile(spec) if spec.startswith("$") else None
        self.constant = _unquoted(spec) if self.path is None else None

    def value(self, payload: Any) -> Any:
        if self.path is None:
            return self.constant
        match = self.path.match(payload)
        return None if match is None else match.obj


class WebhookSource:
    kind = "webhook"

    def __init__(
        self, name: str, secret: str, signature: Signature, mapping: Mapping[str, str], clock: Clock
    ):
        self.name = name
        self.secret = secret
        self.signature = signature
        self.fields = [Field(target, spec) for target, spec in mapping.items()]
        self.clock = clock

    def verify(self, headers: Headers, body: bytes) -> None:
        sig = self.signature
        given = required_header(headers, sig.header)
        timestamp = required_header(headers, sig.timestamp_header) if sig.timestamp_header else None
        digest = hmac_digest(self.secret, sig.message(body, timestamp), sig.algorithm)
        if not same(given, sig.prefix + encoded(digest, sig.encoding)):
            raise Unauthorized(texts.bad_signature(sig.header))
        if sig.timestamp_header and timestamp is not None:
            moment = signed_at(sig.timestamp_header, timestamp)
            check_fresh(sig.timestamp_header, moment, self.clock.now(), sig.tolerance)

    def to_events(self, payload: Any, headers: Headers) -> list[Event] | Ignored:
        event: dict[str, Any] = {"contact": {}, "properties": {}}
        for field in self.fields:
            value = field.value(payload)
            if value is None or value == "":
                if field.target in REQUIRED:
                    raise MissingField(field.spec, field.target)
                continue
            _put(event, field.target, value if isinstance(value, dict | list) else _scalar(value))
        return [event]


def _put(event: dict[str, Any], target: str, value: Any) -> None:
    section, _, key = target.partition(".")
    if key:
        event[section][key] = text(value) if section == "contact" else value
    else:
        event[section] = text(value)


def _scalar(value: Any) -> Any:
    return value if isinstance(value, bool | int | float | str) else str(value)


def _unquoted(spec: str) -> str:
    if len(spec) >= 2 and spec[0] == spec[-1] and spec[0] in "\"'":
        return spec[1:-1]
    return spec


def map_problems(where: str, mapping: Mapping[str, str]) -> list[str]:
    """Problems of a `map:`: unknown targets, paths that do not compile, the required three."""
    problems: list[str] = []
    missing = [target for target in REQUIRED if target not in mapping]
    if missing:
        problems.append(
            f"{where}: needs {', '.join(REQUIRED)} (missing: {', '.join(missing)}); "
            "give each a JSON path like $.customer.id or a constant"
        )
    for target, spec in mapping.items():
        if problem := _target_problem(target):
            problems.append(f"{where}.{target}: {problem}")
        if not isinstance(spec, str) or not spec.strip():
            problems.append(f"{where}.{target}: must be a JSON path like $.customer.id, or a constant")
            continue
        if spec.startswith("$"):
            try:
                jsonpath.compile(spec)
            except jsonpath.JSONPathError as exc:
                problems.append(f"{where}.{target}: {spec!r} is not a JSON path ({str(exc).splitlines()[0]})")
    return problems


def _target_problem(target: str) -> str | None:
    section, _, key = target.partition(".")
    if not key and section in TOP_FIELDS:
        return None
    if section == "contact" and key in CONTACT_FIELDS:
        return None
    if section == "properties" and key and "." not in key:
        return None
    return (
        "is not an event field; map id, type, occurred_at, contact.id|email|phone|name|timezone|locale "
        "or properties.<name>"
    )
