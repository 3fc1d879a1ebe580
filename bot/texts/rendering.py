"""Message texts from the survey's Jinja2 templates, in a sandbox: a config or an event
property can shape what is said, never run code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import (
    ChainableUndefined,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    select_autoescape,
)
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot.texts.catalogs import text_direction, translations, ui_language
from triggers.settings import SurveyConfig


def _finalize(value: Any) -> Any:
    return "" if value is None else value


_ENV = ImmutableSandboxedEnvironment(
    undefined=ChainableUndefined, finalize=_finalize, autoescape=False, keep_trailing_newline=False
)


TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


def layout_templates(locale: str | None = None) -> Environment:
    """The project's own layout files in bot/texts/templates (pages, email), their words in the
    shipped language closest to `locale` (gettext, `jinja2.ext.i18n`); HTML autoescaped. The
    templates see `lang` and `dir` (`rtl` for Arabic). One environment per language, built once.

    Not sandboxed: these files ship with surveybot; texts from the config go through the
    sandbox above and arrive here as finished strings."""
    return _layouts_in(ui_language(locale))


@lru_cache(maxsize=8)
def _layouts_in(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(lang=language, dir=text_direction(language))
    return env


@lru_cache(maxsize=512)
def compile_template(source: str) -> Template:
    return _ENV.from_string(source)


@dataclass(frozen=True)
class RenderedMessage:
    body: str
    subject: str | None = None
    html: str | None = None


def render_survey_message(survey: SurveyConfig, channel: str, context: dict[str, Any]) -> RenderedMessage:
    """The survey's text for `channel`, rendered with `contact`, `properties`, `survey`, `link`."""
    if channel in ("sms", "whatsapp"):
        text = survey.question.text_for(channel)
        assert text is not None
        return RenderedMessage(body=_render(text, context))
    email = survey.question.email
    assert email is not None
    html = _render(email.html, context) if email.html else None
    return RenderedMessage(
        body=_render(email.body, context), subject=_render(email.subject, context), html=html
    )


def render_text(source: str, context: dict[str, Any]) -> str:
    return _render(source, context)


def _render(source: str, context: dict[str, Any]) -> str:
    return compile_template(source).render(context).strip()


def template_problems(where: str, survey: SurveyConfig) -> list[str]:
    """Syntax errors in a survey's templates, its translations' too, each named by its path."""
    sources = {"question.sms": survey.question.sms, "question.whatsapp": survey.question.whatsapp,
               "follow_up": survey.follow_up}  # fmt: skip
    if survey.question.email:
        sources |= {
            "question.email.subject": survey.question.email.subject,
            "question.email.body": survey.question.email.body,
            "question.email.html": survey.question.email.html,
        }
    from bot.texts.reminders import reminder_sources  # it renders through this module

    sources |= reminder_sources(survey)
    for locale, texts in survey.translations.items():
        sources |= {f"translations.{locale}.{path}": source for path, source in _text_sources(texts)}
    problems = []
    for path, source in sources.items():
        if source is None:
            continue
        try:
            compile_template(source)
        except TemplateError as exc:
            problems.append(f"{where}.{path}: the template does not compile ({exc})")
    return problems


def _text_sources(texts: Any) -> list[tuple[str, str | None]]:
    """Every text of a config section (a translation), by its path below it."""
    found: list[tuple[str, str | None]] = []
    for name in type(texts).model_fields:
        value = getattr(texts, name)
        if isinstance(value, str):
            found.append((name, value))
        elif value is not None and hasattr(type(value), "model_fields"):
            found += [(f"{name}.{path}", source) for path, source in _text_sources(value)]
    return found


_URL = re.compile(r"\bhttps?://\S+", re.IGNORECASE)


def page_question(survey: SurveyConfig, context: dict[str, Any]) -> str | None:
    """The survey's own question for the rating page, as plain text: its email body rendered
    for the contact without any link (the page is where the links lead), whitespace made one
    line. None when the survey has no email text or it renders empty or fails."""
    if survey.question.email is None:
        return None
    no_links = {**context, "links": {}, "link": None, "unsubscribe_url": None}
    try:
        text = _render(survey.question.email.body, no_links)
    except TemplateError:
        return None
    return " ".join(_URL.sub("", text).split()) or None


def follow_up_text(survey: SurveyConfig, context: dict[str, Any]) -> str | None:
    """The survey's follow-up question rendered for the contact; None if it has none or fails."""
    if not survey.follow_up:
        return None
    try:
        return _render(survey.follow_up, context) or None
    except TemplateError:
        return None
