"""`triggers.phones.is_valid` gives `phonenumbers.is_valid_number`'s answer for every number."""

from __future__ import annotations

import random

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from triggers.phones import is_valid, is_valid_e164


def example_numbers() -> list[phonenumbers.PhoneNumber]:
    """Every region's (and non-geographic code's) example number of every type: valid numbers of
    each kind, found by every path of the region look-up (+1's 25 regions, leading digits)."""
    found = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in range(12):
            if (number := phonenumbers.example_number_for_type(region, kind)) is not None:
                found.append(number)
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        if (number := phonenumbers.example_number_for_non_geo_entity(code)) is not None:
            found.append(number)
    return found


def near_misses(numbers: list[phonenumbers.PhoneNumber], seed: int = 19) -> list[phonenumbers.PhoneNumber]:
    """Each number with one digit changed, one added or one dropped: mostly invalid, some valid
    in a neighbouring region or type."""
    rnd = random.Random(seed)
    out = []
    for number in numbers:
        digits = str(number.national_number)
        for _ in range(12):
            i = rnd.randrange(len(digits))
            changed = digits[:i] + str(rnd.randrange(10)) + digits[i + 1 :]
            for variant in (changed, changed + str(rnd.randrange(10)), changed[:-1]):
                if variant and not variant.startswith("0"):
                    out.append(
                        phonenumbers.PhoneNumber(
                            country_code=number.country_code, national_number=int(variant)
                        )
                    )
    return out


def test_every_example_number_and_its_near_misses_get_the_librarys_answer() -> None:
    examples = example_numbers()
    numbers = examples + near_misses(examples)
    answers = [(n, phonenumbers.is_valid_number(n), is_valid(n)) for n in numbers]
    assert [(n, theirs) for n, theirs, ours in answers if theirs != ours] == []
    assert sum(theirs for _, theirs, _ in answers) > len(examples) // 2  # valid ones were checked too
    assert sum(not theirs for _, theirs, _ in answers) > len(examples)  # and invalid ones


@settings(max_examples=2000)
@given(st.integers(min_value=1, max_value=999), st.from_regex(r"[1-9][0-9]{3,13}", fullmatch=True))
def test_any_calling_code_and_national_number_get_the_librarys_answer(code: int, national: str) -> None:
    number = phonenumbers.PhoneNumber(country_code=code, national_number=int(national))
    assert is_valid_e164(code, national) == phonenumbers.is_valid_number(number)


def test_a_number_with_an_italian_leading_zero_is_left_to_the_library() -> None:
    number = phonenumbers.parse("+390612345678", None)
    assert number.italian_leading_zero
    assert is_valid(number) == phonenumbers.is_valid_number(number) is True
