"""Touchpoint events as values: `parse_event` turns one JSON object into an `EventIn` or says,
naming the field, why it cannot.
"""

from __future__ import annotations

import difflib
import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from triggers.durations import format_duration
from triggers.errors import InvalidEvent
from triggers.locales import canonical_tag, language_tag_problem
from triggers.phones import is_valid_e164

MAX_TEXT = 256
NO_NUL = "must not contain the NUL character (\\u0000)"  # PostgreSQL cannot store one
CONTACT_FIELDS = ("id", "email", "phone", "name", "timezone", "locale")
_CONTACT_FIELD_SET = frozenset(CONTACT_FIELDS)
# No whitespace or control character, no quote or angle bracket: an address goes into an email
# header as it stands. (`=?`, which would start an RFC 2047 encoded word there, is refused apart.)
EMAIL_PATTERN = re.compile(
    r"^[^@\s<>\"\x00-\x1f\x7f-\x9f]+@[^@\s<>\"\x00-\x1f\x7f-\x9f]+\.[^@\s<>\"\x00-\x1f\x7f-\x9f]+$"
)
# Properties are stored as JSON, and a JSON encoder stops at some depth (orjson at 254 levels).
MAX_DEPTH = 32
# The times an event may have happened at: far enough from datetime's ends that the history
# horizon before it and any delay after it stay representable.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


class ContactIn(NamedTuple):
    """The event's customer. This and `EventIn` are named tuples, not frozen dataclasses: as
    immutable, and made for every event at a fraction of the cost (`triggers.policy.Verdict`)."""

    id: str
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    timezone: str | None = None
    locale: str | None = None

    def merged_over(self, stored: ContactIn | None) -> ContactIn:
        """This event's contact, with what the event left out taken from what was stored."""
        if stored is None:
            return self
        return ContactIn(
            id=self.id,
            email=self.email or stored.email,
            phone=self.phone or stored.phone,
            name=self.name or stored.name,
            timezone=self.timezone or stored.timezone,
            locale=self.locale or stored.locale,
        )

    def address(self, channel: str) -> str | None:
        return self.phone if channel in ("sms", "whatsapp") else self.email if channel == "email" else None


class EventIn(NamedTuple):
    id: str | None
    type: str
    contact: ContactIn
    occurred_at: datetime
    properties: dict[str, Any]

    def document(self) -> dict[str, Any]:
        """The event as paths see it: `type`, `id`, `contact.*`, `properties.*`."""
        c = self.contact
        contact = {
            "id": c.id,
            "email": c.email,
            "phone": c.phone,
            "name": c.name,
            "timezone": c.timezone,
            "locale": c.locale,
        }
        return {"id": self.id, "type": self.type, "contact": contact, "properties": self.properties}


def parse_event(
    raw: Any, now: datetime, known: ContactIn | None = None, *, max_future: timedelta | None = None
) -> EventIn:
    """Validate one event; raises `InvalidEvent` naming the first field that is wrong.

    `known` is this contact as validated before: a phone number equal to its (already E.164)
    number is valid as it stands, which spares a replay of a million events the phone parser.
    With `max_future`, an `occurred_at` later than `now + max_future` is refused.
    """
    if not isinstance(raw, dict):
        raise InvalidEvent("event", "must be a JSON object with id, type and contact.id")
    get = raw.get
    event_id = _as_text("id", get("id"))
    event_type = _required_text("type", get("type"))
    contact = _parse_contact(get("contact"), known)
    occurred = get("occurred_at")
    if occurred is None:
        occurred_at = now
    else:
        occurred_at = _parse_time("occurred_at", occurred, now)
        if max_future is not None and occurred_at > now + max_future:
            raise InvalidEvent(
                "occurred_at",
                f"{occurred!r} is more than {format_duration(max_future)} ahead of now "
                "(server.max_future_skew); send the time the event happened",
            )
    properties = get("properties")
    if properties is None:
        properties = {}
    elif not isinstance(properties, dict):
        raise InvalidEvent("properties", "must be a JSON object of names to values")
    else:
        _check_properties(properties)
    return EventIn(event_id, event_type, contact, occurred_at, properties)


def _parse_contact(raw: Any, known: ContactIn | None = None) -> ContactIn:
    """The fields are checked in a fixed order, the first wrong one named; an absent one costs
    a look-up, not a call (most contacts give two or three of six)."""
    if not isinstance(raw, dict):
        raise InvalidEvent("contact", 'is required: an object with at least "id"')
    if not _CONTACT_FIELD_SET.issuperset(raw):
        _reject_unknown_contact_keys(raw)
    get = raw.get
    email = get("email")
    if email is not None:
        email = _as_text("contact.email", email)
        if email is not None:
            email = _parse_email(email)
    timezone = get("timezone")
    if timezone is not None:
        timezone = _as_text("contact.timezone", timezone)
        if timezone is not None:
            _check_timezone(timezone)
    phone = get("phone")
    if phone is not None:
        phone = _as_text("contact.phone", phone)
        if phone is not None and (known is None or phone != known.phone):
            phone = normalize_phone(phone)
    contact_id = _required_text("contact.id", get("id"))
    name = get("name")
    if name is not None:
        name = _as_text("contact.name", name)
    locale = get("locale")
    if locale is not None:
        locale = _parse_locale(_as_text("contact.locale", locale))
    return ContactIn(contact_id, email, phone, name, timezone, locale)


def _parse_email(email: str) -> str:
    if not EMAIL_PATTERN.match(email) or "=?" in email:
        raise InvalidEvent("contact.email", f"{email!r} is not an email address like ada@example.com")
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


@lru_cache(maxsize=1024)
def _parse_locale(tag: str | None) -> str | None:
    """A BCP 47 tag in its usual spelling (`pt-br` -> `pt-BR`), or `InvalidEvent`."""
    if tag is None:
        return None
    if problem := language_tag_problem(tag):
        raise InvalidEvent("contact.locale", problem)
    return canonical_tag(tag)


def _reject_unknown_contact_keys(raw: dict[Any, Any]) -> None:
    """A misspelt contact field (`emial`) would be dropped without a word: it is an error, with
    the field it was probably meant to be. Anything else about the contact goes in `properties`."""
    unknown = sorted(str(key) for key in raw if key not in CONTACT_FIELDS)
    if not unknown:
        return
    key = unknown[0]
    shown = key[:64]
    close = difflib.get_close_matches(shown, CONTACT_FIELDS, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise InvalidEvent(
        f"contact.{shown}" if shown.isidentifier() else "contact",
        f"{shown!r} is not a contact field; {hint}the fields are {', '.join(CONTACT_FIELDS)} "
        "(anything else goes in properties)",
    )


def normalize_phone(text: str | None) -> str | None:
    """E.164 (`+14155550100`), or `InvalidEvent` for contact.phone."""
    if text is None:
        return None
    normalized = _e164(text)
    if normalized is None:
        raise InvalidEvent(
            "contact.phone",
            f"{text!r} is not a valid phone number; write it in E.164 like +14155550100",
        )
    return normalized


@lru_cache(maxsize=65536)
def _e164(text: str) -> str | None:
    canonical = _canonical(text)
    if canonical is not None:
        # Written in E.164 already: valid as it stands or not at all (`triggers.phones`).
        return text if is_valid_e164(*canonical) else None
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_CANONICAL = re.compile(r"\+([1-9]\d{6,14})")


def _canonical(text: str) -> tuple[int, str] | None:
    """Most senders already write E.164: its calling code and national number, split without
    the costly parse (None when the text needs the parser: not E.164, or a leading zero)."""
    if not _CANONICAL.fullmatch(text):
        return None
    digits = text[1:]
    for size in (1, 2, 3):
        code = int(digits[:size])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            national = digits[size:]
            if national.startswith("0"):
                return None  # leading zeros (Italy, …) need the full parser's care
            return code, national
    return None


@lru_cache(maxsize=1024)
def _check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidEvent(
            "contact.timezone", f"{name!r} is not an IANA time zone like America/New_York"
        ) from None


def _required_text(name: str, value: Any) -> str:
    text = _as_text(name, value)
    if text is None:
        raise InvalidEvent(name, "is required and must be a non-empty string")
    return text


def _as_text(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if value.__class__ is str and len(value) <= MAX_TEXT and "\x00" not in value:
        return value.strip() or None  # the common case, checked as below without the detours
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidEvent(name, f"must be a string, not {type(value).__name__}")
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        raise InvalidEvent(name, f"is longer than {MAX_TEXT} characters")
    if "\x00" in text:
        raise InvalidEvent(name, NO_NUL)
    return text or None


def _check_properties(properties: dict[str, Any]) -> None:
    """`_check_values` for the properties object, its top level walked here: most values are
    flat text and numbers, checked without a call each."""
    for key, value in properties.items():
        if "\x00" in key:
            raise InvalidEvent("properties", "must not have a name with the NUL character (\\u0000)")
        kind = value.__class__
        if kind is str:
            if "\x00" in value:
                raise InvalidEvent(f"properties.{key[:MAX_TEXT]}", NO_NUL)
        elif kind not in _FLAT:
            _check_values(f"properties.{key[:MAX_TEXT]}", value, 2)


# Values with nothing inside to check.
_FLAT = frozenset({int, float, bool, type(None)})


def _check_values(path: str, value: Any, depth: int) -> None:
    """Properties nest at most `MAX_DEPTH` levels, and no name or text in them holds a NUL
    (PostgreSQL cannot store one). An error names the top-level property it is under."""
    if depth > MAX_DEPTH:
        raise InvalidEvent(path, f"nests more than {MAX_DEPTH} levels deep")
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                raise InvalidEvent(path, "must not have a name with the NUL character (\\u0000)")
            _check_values(f"properties.{key[:MAX_TEXT]}" if depth == 1 else path, item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_values(path, item, depth + 1)
    elif isinstance(value, str) and "\x00" in value:
        raise InvalidEvent(path, NO_NUL)


def _parse_time(name: str, value: Any, now: datetime) -> datetime:
    if value is None:
        return now
    if not isinstance(value, str):
        raise InvalidEvent(name, "must be an ISO 8601 time like 2026-11-22T10:00:00Z")
    try:
        moment = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        raise InvalidEvent(name, f"{value!r} is not an ISO 8601 time like 2026-11-22T10:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # documented: a time without offset is UTC
    try:
        in_utc: datetime | None = moment.astimezone(UTC)
    except OverflowError:  # year 1 with a positive offset, year 9999 with a negative one
        in_utc = None
    if in_utc is None or not EARLIEST <= in_utc < LATEST:
        raise InvalidEvent(name, f"{value!r} is not a time between the years 1970 and 9000")
    return in_utc
