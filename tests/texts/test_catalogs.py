"""The message catalogs: every message the templates and the SMS texts use is translated in
every shipped language, with the same placeholders, and nothing is left fuzzy."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bot.texts.catalogs import LANGUAGES, catalog_path, gettext_in, text_direction, ui_language
from bot.texts.rendering import layout_templates

ROOT = Path(__file__).resolve().parents[2]


def used_messages() -> set[str]:
    """What `pybabel extract -F babel.cfg` finds in the sources: the messages the code uses."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = extract_from_dir(
        str(ROOT), method_map, options_map, directory_filter=lambda path: "node_modules" not in path
    )
    return {message for _, _, message, _, _ in found}


def catalog_problems(catalog: Catalog, used: set[str]) -> list[str]:
    """Each message `used` but missing, untranslated or fuzzy; each one no longer used; each
    placeholder that differs from the English."""
    messages = {message.id: message for message in catalog if message.id}
    problems = [f"missing: {m!r}" for m in sorted(used - messages.keys())]
    problems += [f"no longer used: {m!r}" for m in sorted(messages.keys() - used)]
    for msgid, message in messages.items():
        if not message.string or message.fuzzy:
            problems.append(f"untranslated or fuzzy: {msgid!r}")
    for message, errors in catalog.check():
        problems += [f"{message.id!r}: {error}" for error in errors]
    return problems


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_used_message_is_translated_in_every_shipped_language(language: str) -> None:
    used = used_messages()
    assert len(used) > 40  # the scan sees the templates and the SMS texts
    with catalog_path(language).open("rb") as source:
        catalog = read_po(source, locale=language)
    assert catalog_problems(catalog, used) == []


def test_a_catalog_missing_a_message_is_caught() -> None:
    used = used_messages()
    with catalog_path("fr").open("rb") as source:
        catalog = read_po(source, locale="fr")
    catalog.delete("Your score")
    catalog.get("Unsubscribe").string = ""  # type: ignore[union-attr]
    catalog.get("Your score, from %(low)s to %(high)s").string = "Votre note, de %(bas)s à %(high)s"  # type: ignore[union-attr]
    problems = catalog_problems(catalog, used)
    assert "missing: 'Your score'" in problems
    assert "untranslated or fuzzy: 'Unsubscribe'" in problems
    assert any(p.startswith("'Your score, from %(low)s to %(high)s': ") for p in problems)


@pytest.mark.parametrize(
    ("locale", "language"),
    [
        ("fr-CA", "fr"),
        ("pt-BR", "pt"),
        ("es-419", "es"),
        ("de-CH", "de"),
        ("ar-EG", "ar"),
        ("ja", "en"),
        (None, "en"),
    ],
)
def test_a_locale_gets_the_closest_shipped_language(locale: str | None, language: str) -> None:
    assert ui_language(locale) == language


def test_the_pages_say_their_language_and_direction() -> None:
    arabic = layout_templates("ar-SA")
    assert (arabic.globals["lang"], arabic.globals["dir"]) == ("ar", "rtl")
    assert layout_templates("de").globals["dir"] == "ltr" and text_direction("fr") == "ltr"
    assert gettext_in("de")("Your score") == "Ihre Bewertung"


def test_a_page_rendered_without_a_brand_is_plain() -> None:
    """Pages other rooms add on base.html need not know about the brand."""
    html = layout_templates("de").get_template("unsubscribed.html").render(csp_nonce="n")
    assert "--accent: #2563eb;" in html and "<h1>Sie sind abgemeldet</h1>" in html
    assert "<header" not in html and "<footer" not in html
