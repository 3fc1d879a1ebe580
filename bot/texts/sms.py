"""Every SMS text surveybot answers with on its own (survey questions come from the config),
in the language of the survey it answers (`language`: a shipped catalog's, see
`bot.texts.catalogs`; English when the locale has none).

English answers use plain GSM-7 characters and fit one segment (160 characters); other
languages fit at most two segments in their own encoding (accents and Arabic need UCS-2, 70
characters a segment). `tests/sms/test_conversation_steps.py` checks both. STOP and START are
named in every language: they work everywhere, whatever the local keywords.
"""

from __future__ import annotations

from bot.texts.brand import BrandConfig
from bot.texts.catalogs import gettext_in


def reprompt(scale: tuple[int, int], language: str = "en") -> str:
    """Asked once when a reply to a survey carries no score on its scale."""
    _ = gettext_in(language)
    low, high = scale
    return _("Sorry, we didn't catch a score. Please reply with a number from %(low)s to %(high)s.") % {
        "low": low,
        "high": high,
    }


def thanks(language: str = "en") -> str:
    _ = gettext_in(language)
    return _("Thank you for your feedback!")


def no_open_survey(language: str = "en") -> str:
    """A text from a number with no survey waiting for an answer."""
    _ = gettext_in(language)
    return _(
        "Thanks for your message. We have no open survey for this number. "
        "Reply HELP for help or STOP to opt out."
    )


def survey_closed(language: str = "en") -> str:
    """A reply after the survey expired: kept, but not counted."""
    _ = gettext_in(language)
    return _("Thanks! This survey has closed, but we have kept your message.")


def help_text(language: str = "en", brand: BrandConfig | None = None) -> str:
    """The answer to HELP: who is asking (the brand's name), how to answer, how to stop, and
    where to get help (the brand's support URL)."""
    _ = gettext_in(language)
    text = _(
        "We send a short survey after you contact us. Reply with a number to rate us. "
        "Reply STOP to opt out, START to opt back in."
    )
    if brand and brand.name:
        text = f"{brand.name}: {text}"
    if brand and brand.support_url:
        label = _("Help:")
        text = f"{text} {label} {brand.support_url}"
    return text


def opted_out(language: str = "en", channel: str = "sms") -> str:
    """The confirmation of an opt-out keyword Twilio does not know (ARRET, BAJA, ...), or of any
    opt-out on WhatsApp, which has no carrier STOP handling."""
    _ = gettext_in(language)
    if channel == "whatsapp":
        return _("You will get no more surveys from us on WhatsApp. Reply START to opt back in.")
    return _("You will get no more surveys from us. Reply START to opt back in.")


def opted_in(language: str = "en", channel: str = "sms") -> str:
    """The confirmation of an opt-in keyword Twilio does not know (DÉMARRER, ...), or of any
    opt-in on WhatsApp."""
    _ = gettext_in(language)
    if channel == "whatsapp":
        return _("You are opted back in to our surveys on WhatsApp. Reply STOP to opt out.")
    return _("You will get our short surveys again. Reply STOP to opt out.")


ALL_FIXED_TEXTS = (thanks, no_open_survey, survey_closed, help_text, opted_out, opted_in)
