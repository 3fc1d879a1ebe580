"""Each survey's SMS texts rendered for an example contact, to warn before they cost money.

A text longer than one SMS segment still goes out (as a concatenated message) but is billed
per segment; one non-GSM character (an emoji, a curly quote) halves what fits. `surveybot
check-config` prints what `sms_length_warnings` finds; they are warnings, not errors.

The example fills in what a real send would have: a contact with a typical name, every
event property as a short value, and a real signed rating link on `server.public_url`, using
the same keys `bot.dispatch.dispatcher` renders with (a key missing here renders empty: it undercounts).
"""

from __future__ import annotations

from typing import Any

from jinja2 import TemplateError

from bot.channels.segments import sms_segments
from bot.config import Config
from bot.pages.links import LinkSigner
from bot.texts import messages
from bot.texts.rendering import render_text
from triggers.settings import SurveyConfig

EXAMPLE_CONTACT = {"id": "cus_0001", "name": "Alexandra", "email": "alexandra@example.com",
                   "phone": "+14155550100", "locale": "en", "timezone": "America/New_York"}  # fmt: skip
EXAMPLE_SEND_ID = "snd_0192f1c3a5e7" + "0" * 20
EXAMPLE_PROPERTY = "T-104233"


class ExampleProperties(dict[str, Any]):
    """Event properties where any name has a short example value, as a real event would."""

    def __missing__(self, key: str) -> str:
        return EXAMPLE_PROPERTY


def sms_length_warnings(config: Config) -> list[str]:
    """One warning per SMS text (question.sms, follow_up, and theirs in each translation) longer
    than one segment when rendered for the example contact, or that cannot be rendered at all."""
    signer = LinkSigner("example-secret", config.server.public_url)
    warnings = []
    for name, survey in config.surveys.items():
        context = _example_context(name, survey, signer)
        texts = {"question.sms": survey.question.sms, "follow_up": survey.follow_up}
        for locale, own in survey.translations.items():
            texts |= {
                f"translations.{locale}.sms": own.sms,
                f"translations.{locale}.follow_up": own.follow_up,
            }
        for where, source in texts.items():
            if source and (warning := _check(f"surveys.{name}.{where}", source, context)):
                warnings.append(warning)
    return warnings


def _check(path: str, source: str, context: dict[str, Any]) -> str | None:
    try:
        text = render_text(source, context)
    except TemplateError as exc:
        return messages.sms_does_not_render(path, str(exc))
    segments, encoding = sms_segments(text)
    return messages.sms_longer_than_one_segment(path, segments, encoding, len(text)) if segments > 1 else None


def _example_context(name: str, survey: SurveyConfig, signer: LinkSigner) -> dict[str, Any]:
    low, high = survey.scale
    links = signer.rating_urls(EXAMPLE_SEND_ID, survey.scale)
    return {
        "contact": EXAMPLE_CONTACT,
        "properties": ExampleProperties(),
        "survey": name,
        "metric": survey.metric,
        "scale": {"low": low, "high": high},
        "links": links,
        "link": links[high],
        "unsubscribe_url": signer.unsubscribe_url(EXAMPLE_SEND_ID),
    }
