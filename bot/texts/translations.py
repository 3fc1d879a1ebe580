"""A survey's texts in the contact's language: which locale, and the survey as it reads there.

`survey_locale(survey, contact_locale)` picks, with Babel's locale negotiation, the closest of
the survey's `translations` (`fr-CA` -> `fr`, `pt-BR` -> `pt`), else the survey's own `locale`.
`localized(survey, locale)` is the survey with that locale's texts in place of its own (a text
the translation leaves out stays the survey's own). Both are pure and cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from babel.core import negotiate_locale

from triggers.settings import TRANSLATED_FIELDS, SurveyConfig

SEPARATOR = "-"  # BCP 47 tags, as the config and events give them


def closest_locale(wanted: str | None, available: list[str]) -> str | None:
    """The one of `available` that best serves `wanted`; None when none fits.

    Babel's negotiation decides (the tag itself, Babel's aliases, the language alone); it is
    asked for the tag and then for the tag with its last subtags dropped one by one (RFC 4647
    lookup), so `zh-Hant-TW` finds `zh-Hant` before `zh`."""
    if not wanted or not available:
        return None
    parts = wanted.split(SEPARATOR)
    preferred = [SEPARATOR.join(parts[:size]) for size in range(len(parts), 0, -1)]
    found = negotiate_locale(preferred, available, sep=SEPARATOR)
    if found is None:
        return None
    by_lower = {tag.lower(): tag for tag in available}
    return by_lower.get(found.lower())


def survey_locale(survey: SurveyConfig, contact_locale: str | None) -> str:
    """The locale whose texts go to a contact speaking `contact_locale`."""
    return closest_locale(contact_locale, list(survey.translations)) or survey.locale


def localized(survey: SurveyConfig, locale: str) -> SurveyConfig:
    """`survey` with the texts of `translations[locale]`; the survey itself when it has none."""
    texts = survey.translations.get(locale)
    if texts is None:
        return survey
    for name, path in TRANSLATED_FIELDS.items():
        value = _get(texts, name.split("."))
        if value is not None and _get(survey, path[:-1]) is not None:
            survey = _with(survey, path, value)
    return survey


def _get(section: Any, names: Sequence[str]) -> Any:
    """The value at `names` below `section`; None when a section on the way is not there."""
    for name in names:
        if section is None:
            return None
        section = getattr(section, name)
    return section


def _with(section: Any, path: tuple[str, ...], value: Any) -> Any:
    """A copy of `section` with `value` at `path` (the sections on the way copied too)."""
    head, *rest = path
    if rest:
        value = _with(getattr(section, head), tuple(rest), value)
    return section.model_copy(update={head: value})
