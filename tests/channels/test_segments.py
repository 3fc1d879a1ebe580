"""SMS segment counting, as carriers and Twilio count them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.channels.segments import fits_one_segment, sms_segments


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", (1, "GSM-7")),
        ("a" * 160, (1, "GSM-7")),
        ("a" * 161, (2, "GSM-7")),
        ("a" * 306, (2, "GSM-7")),
        ("a" * 307, (3, "GSM-7")),
        ("Hi Renée, café? Reply 1-5 ¿Ñ@£$", (1, "GSM-7")),
        ("Hi Zoë", (1, "UCS-2")),  # ë is not in the GSM alphabet (ä ö ü are)
        ("€" * 80, (1, "GSM-7")),  # extension characters take two septets
        ("€" * 81, (2, "GSM-7")),
        ("a" * 152 + "€" + "a" * 10, (2, "GSM-7")),  # the escape pair is not split
        ("a" * 151 + "€" + "a" * 10, (2, "GSM-7")),
        ("a" * 152 + "€" + "a" * 153, (3, "GSM-7")),
        ("ê" * 70, (1, "UCS-2")),  # ê is not in GSM 03.38
        ("ê" * 71, (2, "UCS-2")),
        ("a" * 134, (1, "GSM-7")),
        ("a" * 133 + "\u2019", (2, "UCS-2")),  # one curly apostrophe turns it all to UCS-2
        ("😀" * 35, (1, "UCS-2")),  # outside the BMP: two UTF-16 units each
        ("😀" * 36, (2, "UCS-2")),
        ("a" * 66 + "😀" + "a" * 67, (3, "UCS-2")),  # the surrogate pair is not split
    ],
)
def test_segments_and_encoding(text: str, expected: tuple[int, str]) -> None:
    assert sms_segments(text) == expected


def test_one_segment_check() -> None:
    assert fits_one_segment("How did we do? Reply 1-5.")
    assert not fits_one_segment("How did we do? 😀 " * 5)


@given(st.text())
def test_segment_count_is_positive_and_bounded(text: str) -> None:
    segments, encoding = sms_segments(text)

    assert segments >= 1
    assert encoding in ("GSM-7", "UCS-2")
    assert segments <= max(1, 2 * len(text))
