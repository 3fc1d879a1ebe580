"""Reading an SMS reply: a score (with or without words), a keyword, or just text.

`parse_reply(text, scale)` is pure and total: any string gives a `ParsedReply`, never an
exception, and a `score` is always on `scale` (inclusive). What it understands:

- keywords, only when they are the whole message (case, accents, spacing and punctuation
  around them forgiven): STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT ->
  `opt_out`; START, YES, UNSTOP -> `opt_in`; HELP, INFO -> `help`; and their equivalents in
  Spanish, French, German, Portuguese and Arabic (`bot.sms.words`: ARRET, BAJA, AYUDA, ...),
  with the keyword's language in `language`. These are the keywords carriers and Twilio act
  on, so "stop please" is not one (Twilio would not opt that number out either);
- a score at the start of the message: digits (`5`, `10`, full-width, Arabic-Indic or other
  decimal digits), a number word in any of those languages (`five`, `cinq`, `fünf`, `خمسة`),
  or keycap emoji (`5️⃣`, `🔟`, `1️⃣0️⃣`), optionally
  followed by `/5`, `out of 5` or `stars`; whatever follows (after separators such as `-`,
  `:` or `,`) is the comment: `4 - quick but a bit rude` -> 4, "quick but a bit rude";
- a short reply (at most 40 characters) holding exactly one number, in digits, on the scale:
  `I'd say 3`, `prob a 4 tbh`, `I'd give it 4/5` -> that score, with no comment (the follow-up
  asks for one). A number followed by a unit (`waited 2 hours`, `3pm`) is not a rating;
- anything else, and a score off the scale (`6` on a 1-5 survey, `4.5`), is `text`: the
  caller re-prompts or stores it.

Otherwise a score must lead the message: a number inside a longer sentence ("ticket 12 took
3 days") is too ambiguous to count as a rating.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from bot.sms.words import fold, keyword_table, number_table

ReplyKind = Literal["score", "opt_out", "opt_in", "help", "text"]

KEYWORDS = keyword_table()
NUMBER_WORDS = number_table()
_WORDS = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))

_KEYCAP = re.compile(r"([0-9])\ufe0f?\u20e3")
_KEYCAP_TEN = "\U0001f51f"
# A score token: up to three digits not glued to another digit, a decimal point or a letter
# (so "4.5", "5th" and "123456" are not scores), or a number word standing alone.
_SCORE = re.compile(
    r"(?P<digits>\d{1,3})(?![\d\w]|[.,]\d)|(?P<word>" + _WORDS + r")\b",
    re.IGNORECASE,
)
# "/5", "out of 5", "stars" right after the score belong to it, not to the comment.
_SCORE_SUFFIX = re.compile(
    r"\s*(?:(?:/|out\s+of)\s*(?:\d{1,3}|" + _WORDS + r")\b)?\s*(?:stars?\b)?",
    re.IGNORECASE,
)
_MAX_PREFIX = 64  # a score with its "/5" or "out of five stars" is far shorter than this
_SHORT_REPLY = 40  # "I'd say 3": short enough that its one number can only be the rating
# A number anywhere in a short reply: digits not glued to other digits, letters or a decimal
# point on either side, and not followed by a unit that makes it a quantity or a time.
_LONE_NUMBER = re.compile(
    r"(?<![\w.,+\-])(\d{1,3})(?![\d\w]|[.,]\d)"
    r"(?!\s*(?:%|x\b|(?:sec|second|min|minute|hr|hour|day|week|month|year|time|am|pm|p\.m|a\.m)s?\b))",
    re.IGNORECASE,
)
_SEPARATORS = " \t\r\n-\u2013\u2014:;,.!)|/=>*~"  # - and the en and em dashes


@dataclass(frozen=True)
class ParsedReply:
    """What a reply says. `text` is the whole message with surrounding whitespace removed."""

    kind: ReplyKind
    score: int | None = None
    comment: str | None = None
    text: str = ""
    language: str | None = None  # a keyword's language (`es` for AYUDA, `en` for STOP)


def parse_reply(text: str, scale: tuple[int, int]) -> ParsedReply:
    """Classify one inbound SMS body for a survey whose scores run from scale[0] to scale[1]."""
    stripped = text.strip()
    keyword = KEYWORDS.get(fold(_trim_punctuation(unicodedata.normalize("NFKC", stripped))))
    if keyword is not None:
        kind, language = keyword
        return ParsedReply(kind=kind, text=stripped, language=language)
    return _parse_score(stripped, scale)


def _trim_punctuation(text: str) -> str:
    """Drop whitespace, punctuation and control characters from both ends."""
    start, end = 0, len(text)
    while start < end and _is_padding(text[start]):
        start += 1
    while end > start and _is_padding(text[end - 1]):
        end -= 1
    return text[start:end]


def _is_padding(char: str) -> bool:
    return unicodedata.category(char)[0] in "PZC"


def _parse_score(text: str, scale: tuple[int, int]) -> ParsedReply:
    normalized = _normalize(text)
    match = _SCORE.match(normalized)
    if match is None:
        return _lone_number(text, normalized, scale)
    score = _score_value(match)
    low, high = scale
    if score is None or not low <= score <= high:
        return ParsedReply(kind="text", text=text)
    consumed = match.end()
    suffix = _SCORE_SUFFIX.match(normalized, consumed)
    if suffix is not None:
        consumed = suffix.end()
    comment = _original_rest(text, normalized[:consumed]).lstrip(_SEPARATORS).strip()
    return ParsedReply(kind="score", score=score, comment=comment or None, text=text)


def _lone_number(text: str, normalized: str, scale: tuple[int, int]) -> ParsedReply:
    """A short reply with exactly one number, on the scale, is that score (`I'd say 3`)."""
    if len(normalized) > _SHORT_REPLY:
        return ParsedReply(kind="text", text=text)
    low, high = scale
    # "5/5", "4 out of 5": the scale's top is part of the rating, not a second number.
    normalized = re.sub(rf"(\d)\s*(?:/|out\s+of)\s*{high}(?!\d)", r"\1", normalized, flags=re.IGNORECASE)
    numbers = _LONE_NUMBER.findall(normalized)
    all_digits = re.findall(r"\d+", normalized)
    if len(numbers) != 1 or len(all_digits) != 1:
        return ParsedReply(kind="text", text=text)
    score = int(numbers[0])
    if not low <= score <= high:
        return ParsedReply(kind="text", text=text)
    return ParsedReply(kind="score", score=score, text=text)


def _normalize(text: str) -> str:
    return fold(_expand_keycaps(unicodedata.normalize("NFKC", text))).lstrip()


def _expand_keycaps(text: str) -> str:
    return _KEYCAP.sub(r"\1", text.replace(_KEYCAP_TEN, "10"))


def _original_rest(text: str, normalized_prefix: str) -> str:
    """The part of `text` after the score, as the customer wrote it (not NFKC-folded)."""
    # The longest match, so a keycap's invisible tail (U+FE0F U+20E3) goes with its digit.
    for end in range(min(len(text), _MAX_PREFIX), 0, -1):
        if _normalize(text[:end]) == normalized_prefix:
            return text[end:]
    return ""


def _score_value(match: re.Match[str]) -> int | None:
    digits = match.group("digits")
    if digits is not None:
        try:
            return int(digits)
        except ValueError:  # \d also matches digits int() might refuse; never crash on them
            return None
    return NUMBER_WORDS.get(fold(match.group("word")))
