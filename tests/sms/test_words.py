"""The SMS vocabulary per language: no word means two things, and docs/sms.md lists them all."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.sms.parsing import parse_reply
from bot.sms.words import KEYWORDS, NUMBER_WORDS, fold

ROOT = Path(__file__).resolve().parents[2]


def test_no_word_is_both_a_keyword_and_a_number_or_two_different_things() -> None:
    meaning: dict[str, set[str]] = {}
    for kinds in KEYWORDS.values():
        for kind, words in kinds.items():
            for word in words:
                meaning.setdefault(fold(word), set()).add(kind)
    for numbers in NUMBER_WORDS.values():
        for word, value in numbers.items():
            meaning.setdefault(fold(word), set()).add(str(value))
    assert {word: found for word, found in meaning.items() if len(found) > 1} == {}


@pytest.mark.parametrize(
    ("text", "kind", "score"),
    [("cinq", "score", 5), ("Fünf", "score", 5), ("tres", "score", 3), ("três", "score", 3),
     ("خمسة", "score", 5), ("٤", "score", 4), ("zéro", "score", 0), ("Zero", "score", 0),
     ("ARRET", "opt_out", None), ("Arrêt.", "opt_out", None), ("baja", "opt_out", None),
     ("Stopp", "opt_out", None), ("sair", "opt_out", None),
     ("إلغاء", "opt_out", None), ("الغاء", "opt_out", None),
     ("démarrer", "opt_in", None), ("ayuda", "help", None), ("Hilfe", "help", None), ("مساعدة", "help", None),
     ("STOP", "opt_out", None), ("non", "text", None), ("no", "text", None), ("oui", "text", None),
     ("un peu lent", "text", None), ("una pena", "text", None), ("alto", "text", None)],
)  # fmt: skip
def test_words_of_every_shipped_language_are_read(text: str, kind: str, score: int | None) -> None:
    reply = parse_reply(text, (0, 10))
    assert (reply.kind, reply.score) == (kind, score)


def test_docs_list_every_keyword_and_number_word() -> None:
    docs = (ROOT / "docs" / "sms.md").read_text(encoding="utf-8")
    words = [w for kinds in KEYWORDS.values() for ws in kinds.values() for w in ws]
    words += [w for numbers in NUMBER_WORDS.values() for w in numbers]
    assert [w for w in words if w.upper() not in docs and w not in docs] == []
