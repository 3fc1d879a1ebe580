"""The words an SMS reply is read by, per language: opt-out, opt-in and help keywords, and
number words. docs/sms.md lists them for people; `tests/sms/test_words.py` checks that no
word means two things (a keyword in one language and a number in another, or two numbers).

Words are compared folded (`fold`): case and accents do not matter (`ARRÊT`, `arret` and
`Arret` are one keyword; `três` is `tres`), and Arabic letters lose their hamza and short-vowel
marks (`إلغاء` and `الغاء` are one keyword). The English words are those carriers and Twilio
act on; they work whatever the contact's language. Words that are also everyday answers are
left out on purpose: yes-words other than the English YES ("oui", "sí" would turn a follow-up
answer into an opt-in), "alto", "alta" and "fin" (also "high" and "end" as one-word answers),
and the articles that are also the number one (see NUMBER_WORDS).
"""

from __future__ import annotations

import unicodedata
from typing import Literal

KeywordKind = Literal["opt_out", "opt_in", "help"]

KEYWORDS: dict[str, dict[KeywordKind, tuple[str, ...]]] = {
    "en": {
        "opt_out": ("stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"),
        "opt_in": ("start", "yes", "unstop"),
        "help": ("help", "info"),
    },
    "es": {
        "opt_out": ("baja", "parar", "detener", "cancelar"),
        "opt_in": ("comenzar", "reanudar", "suscribir"),
        "help": ("ayuda",),
    },
    "fr": {
        "opt_out": ("arrêt", "arreter", "désabonner", "désinscrire"),
        "opt_in": ("démarrer", "reprendre"),
        "help": ("aide",),
    },
    "de": {
        "opt_out": ("stopp", "abmelden", "abbestellen", "beenden"),
        "opt_in": ("anmelden", "starten"),
        "help": ("hilfe",),
    },
    "pt": {
        "opt_out": ("sair", "descadastrar", "cancelar", "parar"),
        "opt_in": ("iniciar", "voltar"),
        "help": ("ajuda",),
    },
    "ar": {
        "opt_out": ("توقف", "إيقاف", "إلغاء"),
        "opt_in": ("ابدأ", "اشتراك"),
        "help": ("مساعدة",),
    },
}

# "un", "une", "uno", "una", "um", "uma" and "ein" are left out: a comment such as "un peu
# lent" or "una pena" must not read as a score of 1. Digits work in every language.
NUMBER_WORDS: dict[str, dict[str, int]] = {
    "en": {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
           "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10},
    "es": {"cero": 0, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5,
           "seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10},
    "fr": {"zéro": 0, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5,
           "six": 6, "sept": 7, "huit": 8, "neuf": 9, "dix": 10},
    "de": {"null": 0, "eins": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5,
           "sechs": 6, "sieben": 7, "acht": 8, "neun": 9, "zehn": 10, "fuenf": 5},
    "pt": {"zero": 0, "dois": 2, "duas": 2, "três": 3, "quatro": 4, "cinco": 5,
           "seis": 6, "sete": 7, "oito": 8, "nove": 9, "dez": 10},
    "ar": {"صفر": 0, "واحد": 1, "اثنان": 2, "اثنين": 2, "ثلاثة": 3, "أربعة": 4, "خمسة": 5,
           "ستة": 6, "سبعة": 7, "ثمانية": 8, "تسعة": 9, "عشرة": 10},
}  # fmt: skip


def fold(text: str) -> str:
    """`text` without case and combining marks (accents, hamza, Arabic short vowels)."""
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(char for char in decomposed if not unicodedata.combining(char))
    return unicodedata.normalize("NFC", kept).casefold()


def keyword_table() -> dict[str, tuple[KeywordKind, str]]:
    """Folded keyword -> (what it does, its language); English first wins a shared word."""
    table: dict[str, tuple[KeywordKind, str]] = {}
    for language, kinds in KEYWORDS.items():
        for kind, words in kinds.items():
            for word in words:
                table.setdefault(fold(word), (kind, language))
    return table


def number_table() -> dict[str, int]:
    """Folded number word -> its value, all languages together."""
    return {fold(word): value for words in NUMBER_WORDS.values() for word, value in words.items()}
