"""Message texts from the survey's Jinja2 templates, in a sandbox: a config or an event
property can shape what is said, never run code.
"""

from __future__ import annotations

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

from triggers.settings import SurveyConfig


def _finalize(value: Any) -> Any:
    return "" if value is None else value


_ENV = ImmutableSandboxedEnvironment(
    undefined=ChainableUndefined, finalize=_finalize, autoescape=False, keep_trailing_newline=False
)


TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


def layout_templates() -> Environment:
    """The project's own layout files in bot/texts/templates (pages, email): HTML autoescaped.

    Not sandboxed: these files ship with surveybot; texts from the config go through the
    sandbox above and arrive here as finished strings."""
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


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
    """Syntax errors in a survey's templates, each named by its config path."""
    sources = {"question.sms": survey.question.sms, "question.whatsapp": survey.question.whatsapp,
               "follow_up": survey.follow_up}  # fmt: skip
    if survey.question.email:
        sources |= {
            "question.email.subject": survey.question.email.subject,
            "question.email.body": survey.question.email.body,
            "question.email.html": survey.question.email.html,
        }
    problems = []
    for path, source in sources.items():
        if source is None:
            continue
        try:
            compile_template(source)
        except TemplateError as exc:
            problems.append(f"{where}.{path}: the template does not compile ({exc})")
    return problems
