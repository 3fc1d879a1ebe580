"""The words of a reminder: the survey's own `reminder` texts, or "Reminder:" and the question.

The survey comes already localized (`bot.texts.translations.localized`): its reminder texts are
the translation's where it gives them; the "Reminder:" word comes from the message catalogs.

A reminder's texts are Jinja2 templates rendered in the same sandbox and with the same context
as the question (contact, properties, links), so the links in it answer the first ask.
"""

from __future__ import annotations

from typing import Any

from bot.texts.catalogs import gettext_in, ui_language
from bot.texts.rendering import RenderedMessage, render_survey_message, render_text
from triggers.settings import SurveyConfig


def reminder_prefix(locale: str | None) -> str:
    """ "Reminder: " in the language of `locale` (the shipped language closest to it)."""
    _ = gettext_in(ui_language(locale))
    return _("Reminder:") + " "


def render_reminder_message(
    survey: SurveyConfig, channel: str, context: dict[str, Any], *, locale: str | None = None
) -> RenderedMessage:
    """The reminder for `channel`: its own text when the survey gives one, else the question's
    text with "Reminder:" (in `locale`'s language) before it (SMS) or before its subject (email)."""
    reminder = survey.reminder
    if channel in ("sms", "whatsapp") and reminder is not None and reminder.sms is not None:
        return RenderedMessage(body=render_text(reminder.sms, context))
    if channel == "email" and reminder is not None and reminder.email is not None:
        email = reminder.email
        html = render_text(email.html, context) if email.html else None
        return RenderedMessage(
            body=render_text(email.body, context), subject=render_text(email.subject, context), html=html
        )
    question = render_survey_message(survey, channel, context)
    prefix = reminder_prefix(locale)
    if channel in ("sms", "whatsapp"):
        return RenderedMessage(body=prefix + question.body)
    return RenderedMessage(body=question.body, subject=prefix + (question.subject or ""), html=question.html)


def reminder_sources(survey: SurveyConfig) -> dict[str, str | None]:
    """The reminder's templates by their config path under the survey (for the config check)."""
    if survey.reminder is None:
        return {}
    email = survey.reminder.email
    return {
        "reminder.sms": survey.reminder.sms,
        "reminder.email.subject": email.subject if email else None,
        "reminder.email.body": email.body if email else None,
        "reminder.email.html": email.html if email else None,
    }


SIMULATION_ASSUMPTION = (
    "no replies: a replay cannot know who would answer, so every survey is taken as unanswered "
    "and each counts one reminder (the most the policy would send)"
)
