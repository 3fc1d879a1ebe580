"""The words around the question, in the languages surveybot ships: gettext message catalogs.

The sources are `bot/texts/locale/<language>/LC_MESSAGES/messages.po`, read with Babel and
compiled in memory the first time a language is asked for (no compiled `.mo` files in the
repository to fall out of step with their sources). English is the source language: its
catalog maps each message to itself, so a missing English text fails the same test.

`ui_language(locale)` is the shipped language closest to a locale (Babel's negotiation, as
for a survey's translations), English when none fits; `gettext_in(language)` is its gettext.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.core import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from bot.texts.translations import closest_locale

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("en", "es", "fr", "de", "pt", "ar")
SOURCE_LANGUAGE = "en"
DOMAIN = "messages"


def ui_language(locale: str | None) -> str:
    """The shipped language for a contact or send locale: `fr-CA` -> `fr`, `ja` -> `en`."""
    return closest_locale(locale, list(LANGUAGES)) or SOURCE_LANGUAGE


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=len(LANGUAGES))
def translations(language: str) -> Translations:
    """The compiled catalog of a shipped language (see `ui_language`)."""
    with catalog_path(language).open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def gettext_in(language: str) -> Callable[[str], str]:
    return translations(ui_language(language)).gettext


@lru_cache(maxsize=64)
def text_direction(language: str) -> str:
    """`rtl` or `ltr`: how a page in `language` is laid out (Arabic right to left)."""
    return "rtl" if Locale.parse(language, sep="-").text_direction == "rtl" else "ltr"


def language_from_header(accept_language: str | None) -> str:
    """The shipped language a browser asks for first (`Accept-Language: fr-CA,fr;q=0.9`), by
    its q-values; English when it asks for none of them."""
    wanted: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "")[:1000].split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            wanted.append((-quality, index, tag.strip()))
    for _, _, tag in sorted(wanted):
        if found := closest_locale(tag, list(LANGUAGES)):
            return found
    return SOURCE_LANGUAGE
