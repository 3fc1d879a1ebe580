"""WhatsApp's parts that need no SDK: the variables of the Content template that opens the
conversation, and how Twilio writes a WhatsApp address.

The message itself goes out through `bot.channels.twilio.TwilioWhatsAppChannel` (the one module
that imports twilio), or the `log` provider. With `channels.whatsapp.content_sid` set, the send
carries `ContentSid` and `ContentVariables` (a JSON object of strings, keys "1", "2", ... as the
template numbers them) and no body: WhatsApp lets a business open a conversation only with an
approved template. Without it the survey's text goes as a free-form body, which WhatsApp
delivers only inside the 24 hours after the customer last wrote (else Twilio error 63016).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import TemplateError

from bot.texts.rendering import compile_template, render_text

PREFIX = "whatsapp:"
VARIABLE_MAX = 1600


def whatsapp_address(number: str) -> str:
    """`+14155550100` -> `whatsapp:+14155550100`, the form Twilio's To and From take."""
    return number if number.startswith(PREFIX) else PREFIX + number


def split_address(address: str) -> tuple[str, str]:
    """(channel, number) of an inbound `From`: `whatsapp:+1…` -> ("whatsapp", "+1…"), else sms."""
    if address.lower().startswith(PREFIX):
        return "whatsapp", address[len(PREFIX) :].strip()
    return "sms", address


def render_content_variables(sources: Mapping[str, str], context: dict[str, Any]) -> dict[str, str]:
    """Each configured variable rendered for this send, as Twilio takes it (error 21656
    otherwise): on one line, runs of spaces made one, at most 1,600 characters, and "-" for one
    that renders empty, because a template variable may not be empty."""
    return {
        key: " ".join(render_text(source, context).split())[:VARIABLE_MAX] or "-"
        for key, source in sources.items()
    }


def content_variable_problems(sources: Mapping[str, str]) -> list[str]:
    """Config problems of `channels.whatsapp.content_variables`, each named by its path."""
    problems = []
    for key, source in sources.items():
        where = f"channels.whatsapp.content_variables.{key}"
        if not key.isdigit():
            problems.append(f'{where}: a Content template numbers its variables: use keys "1", "2", ...')
        try:
            compile_template(source)
        except TemplateError as exc:
            problems.append(f"{where}: the template does not compile ({exc})")
    return problems
