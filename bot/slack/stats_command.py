"""`/surveybot stats [survey] [7d]`: parse the words, answer with the current numbers.

Pure apart from the read it is handed: `stats_answer` returns what the slash command's
acknowledgement carries (text, blocks, response type), so the HTTP and Socket Mode paths and
the tests see the same thing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.config import Config
from bot.metrics.report import stats_report
from bot.runtime.clock import Clock
from bot.slack.digest_blocks import render_digest_blocks, render_fallback_text
from bot.texts import digest as texts
from storage.db import Database
from triggers.durations import parse_duration

DEFAULT_WINDOW = timedelta(days=7)
RESPONSE_TYPE = "ephemeral"  # numbers on demand are for the one who asked; a digest is for all


def parse_stats_words(text: str, config: Config) -> tuple[list[str] | None, timedelta] | str:
    """(surveys or None for all, window) from `stats [survey] [7d]`, or the text to answer
    when the words do not make sense."""
    words = text.split()
    if not words or words[0].lower() != "stats":
        return texts.stats_usage()
    surveys: list[str] | None = None
    window = DEFAULT_WINDOW
    for word in words[1:]:
        if word in config.surveys:
            surveys = [word]
            continue
        try:
            window = parse_duration(word)
        except ValueError:
            return texts.unknown_survey(word, sorted(config.surveys))
        if window <= timedelta(0):
            return texts.stats_usage()
    return surveys, window


def stats_answer(db: Database, config: Config, clock: Clock, text: str) -> dict[str, Any]:
    parsed = parse_stats_words(text, config)
    if isinstance(parsed, str):
        return {"response_type": RESPONSE_TYPE, "text": texts.escape(parsed)}  # it echoes the words
    surveys, window = parsed
    with db.read() as conn:
        report = stats_report(
            conn, config=config, end=clock.now(), window=window, surveys=surveys,
            title=texts.stats_title(texts.window_name(window)),
        )  # fmt: skip
    return {
        "response_type": RESPONSE_TYPE,
        "text": render_fallback_text(report),
        "blocks": render_digest_blocks(report),
    }
