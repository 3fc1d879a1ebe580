"""Event validation: every field's error names the field; phone numbers are E.164."""

from __future__ import annotations

from datetime import UTC, datetime

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import InvalidEvent
from triggers.events import normalize_phone, parse_event

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def full_parse(text: str) -> str | None:
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@settings(max_examples=400)
@given(st.from_regex(r"\+[0-9]{2,16}", fullmatch=True))
def test_the_e164_fast_path_agrees_with_the_full_parser(text: str) -> None:
    """Where the full parser takes the text as written, so do we; we never take what it refuses.

    The full parser may also rewrite a number into a different one (`+2612000000` comes back as
    `+261202000000`, two digits more); we refuse those rather than text someone else."""
    try:
        ours: str | None = normalize_phone(text)
    except InvalidEvent:
        ours = None
    theirs = full_parse(text)
    if theirs == text:
        assert ours == text
    else:
        assert ours is None or ours == theirs


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("not an object", "event"),
        ({"contact": {"id": "c"}}, "type"),
        ({"type": "x"}, "contact"),
        ({"type": "x", "contact": {}}, "contact.id"),
        ({"type": "x", "contact": {"id": "c", "email": "nope"}}, "contact.email"),
        ({"type": "x", "contact": {"id": "c", "phone": "555"}}, "contact.phone"),
        ({"type": "x", "contact": {"id": "c", "timezone": "Mars/Base"}}, "contact.timezone"),
        ({"type": "x", "contact": {"id": "c"}, "occurred_at": "yesterday"}, "occurred_at"),
        ({"type": "x", "contact": {"id": "c"}, "properties": [1]}, "properties"),
        ({"type": ["x"], "contact": {"id": "c"}}, "type"),
        ({"id": True, "type": "x", "contact": {"id": "c"}}, "id"),
        ({"type": "x" * 300, "contact": {"id": "c"}}, "type"),
    ],
)
def test_each_invalid_field_is_named(raw: object, field: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        parse_event(raw, NOW)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_a_full_event_is_normalised() -> None:
    event = parse_event(
        {
            "id": 42,
            "type": " ticket.solved ",
            "occurred_at": "2026-11-22T10:00:00+02:00",
            "contact": {
                "id": "c1",
                "email": "Ada@Example.COM",
                "phone": "+1 (415) 555-0100",
                "timezone": "Europe/Paris",
            },
            "properties": {"team": "billing"},
        },
        NOW,
    )
    assert (event.id, event.type, event.occurred_at) == (
        "42",
        "ticket.solved",
        datetime(2026, 11, 22, 8, tzinfo=UTC),
    )
    assert (event.contact.email, event.contact.phone) == ("Ada@example.com", "+14155550100")
    assert event.properties == {"team": "billing"}
