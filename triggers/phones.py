"""Whether a phone number is valid: `phonenumbers.is_valid_number`'s answer, at a fraction of its cost.

The library checks a number against its region's patterns one number type at a time (premium
rate, toll free, ..., fixed line, mobile), compiling or looking up each pattern, and for a
calling code shared by many regions (+1: the US, Canada and 23 others) it does so once to find
the region and again to validate. Here each region's type patterns are joined, per number length,
into one pattern made once, so a number not seen before costs two or three matches, not twenty.
The answer is the library's by construction (the same patterns, lengths and region order), and a
test holds the two together over generated numbers and every region's example numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import phonenumbers
from phonenumbers.phonemetadata import PhoneMetadata

# Every type `_number_type_helper` tries. A number is valid when it fits the region's general
# pattern and one of these. (Mobile is listed even where it shares the fixed-line pattern: a
# number it fits then fits the fixed-line one as well, so the answer is the same.)
_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)
_NON_GEO = phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY


@dataclass(frozen=True, slots=True)
class _Region:
    """One region's patterns, ready: the general one and, per length, its types' patterns joined."""

    general_lengths: frozenset[int]  # empty: any length
    general: re.Pattern[str] | None
    typed_any_length: re.Pattern[str] | None  # the types that list no lengths of their own
    typed: dict[int, re.Pattern[str] | None]  # length -> the types for that length, joined
    leading_digits: re.Pattern[str] | None

    def fits(self, national: str) -> bool:
        """`_number_type_helper(national, metadata) != UNKNOWN`."""
        size = len(national)
        if self.general is None or (self.general_lengths and size not in self.general_lengths):
            return False
        if not self.general.fullmatch(national):
            return False
        pattern = self.typed.get(size, self.typed_any_length)
        return pattern is not None and pattern.fullmatch(national) is not None


def is_valid(number: phonenumbers.PhoneNumber) -> bool:
    """`phonenumbers.is_valid_number(number)`."""
    if number.italian_leading_zero or number.country_code is None or number.national_number is None:
        return bool(phonenumbers.is_valid_number(number))
    return is_valid_e164(number.country_code, str(number.national_number))


def is_valid_e164(code: int, national: str) -> bool:
    """`phonenumbers.is_valid_number` of the number `+<code><national>`, the national number
    written without leading zeros (no PhoneNumber is built: that alone costs more than this)."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code)
    if not regions:
        return False
    if len(regions) == 1:
        rules = _rules(code, regions[0])
        return rules is not None and rules.fits(national)
    for region in regions:  # `_region_code_for_number_from_list`: the first region that fits
        listed = _listed(region)
        if listed is None:
            continue
        if listed.leading_digits is not None:
            if listed.leading_digits.match(national):
                rules = _rules(code, region)
                return rules is not None and rules.fits(national)
        elif listed.fits(national):
            # Validated by the same metadata it was found by: it fits, unless the region's
            # calling code is another (then the library refuses it).
            return _rules(code, region) is not None
    return False


@cache
def _listed(region: str) -> _Region | None:
    """The region's rules as the region look-up reads them (its own metadata)."""
    metadata = PhoneMetadata.metadata_for_region(region.upper(), None)
    return None if metadata is None else _compile(metadata)


@cache
def _rules(code: int, region: str) -> _Region | None:
    """The rules a number of calling code `code` is validated by in `region`, or None when the
    region cannot validate it (no metadata, or another calling code): `is_valid_number_for_region`."""
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, region.upper())
    if metadata is None:
        return None
    if region != _NON_GEO and code != phonenumbers.country_code_for_valid_region(region):
        return None
    return _compile(metadata)


def _compile(metadata: PhoneMetadata) -> _Region:
    general = metadata.general_desc
    descs = [d for d in (getattr(metadata, name) for name in _TYPES) if d is not None and _pattern(d)]
    lengths = {size for d in descs for size in d.possible_length}
    return _Region(
        general_lengths=frozenset(general.possible_length) if general is not None else frozenset(),
        general=re.compile(_pattern(general)) if general is not None and _pattern(general) else None,
        typed_any_length=_joined([d for d in descs if not d.possible_length]),
        typed={
            size: _joined([d for d in descs if not d.possible_length or size in d.possible_length])
            for size in lengths
        },
        leading_digits=re.compile(metadata.leading_digits) if metadata.leading_digits is not None else None,
    )


def _pattern(desc: object) -> str:
    return getattr(desc, "national_number_pattern", None) or ""


def _joined(descs: list[object]) -> re.Pattern[str] | None:
    """One pattern that fits a whole number exactly when one of the descriptions' patterns does."""
    if not descs:
        return None
    return re.compile("|".join(f"(?:{_pattern(d)})" for d in descs))
