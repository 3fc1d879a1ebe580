"""How many SMS segments a text takes, and in which encoding (GSM 03.38 or UCS-2).

A text that fits the GSM-7 alphabet costs one septet per character, two for the extension
table (`^{}[]~|\\€` and form feed, sent as ESC + char); one segment holds 160 septets, and a
concatenated message 153 per segment (the rest is the UDH). Any other character forces UCS-2
for the whole message: 70 UTF-16 units in one segment, 67 per segment when split. A split
never cuts an escape pair or a surrogate pair in two, as handsets and Twilio do.

This counts what the text is, not what Twilio's optional "smart encoding" might turn it into.
"""

from __future__ import annotations

from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


def sms_segments(text: str) -> tuple[int, Encoding]:
    """(segments, encoding) for `text`; an empty text still takes one segment."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text):
        units = [2 if char in GSM7_EXTENSION else 1 for char in text]
        return _count_segments(units, GSM7_SINGLE, GSM7_PART), "GSM-7"
    units = [2 if ord(char) > 0xFFFF else 1 for char in text]
    return _count_segments(units, UCS2_SINGLE, UCS2_PART), "UCS-2"


def fits_one_segment(text: str) -> bool:
    """True when `text` goes out as a single SMS (what check-config warns about)."""
    return sms_segments(text)[0] == 1


def _count_segments(units: list[int], single: int, part: int) -> int:
    """Pack characters (each `units` wide) greedily into segments of `part` units."""
    if sum(units) <= single:
        return 1
    segments, used = 1, 0
    for width in units:
        if used + width > part:
            segments, used = segments + 1, 0
        used += width
    return segments
