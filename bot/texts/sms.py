"""Every SMS text surveybot answers with on its own (survey questions come from the config).

Plain GSM-7 characters only and each under one segment (160 characters), so an answer never
costs two messages; `tests/sms/test_conversation_steps.py` checks both.
"""

from __future__ import annotations


def reprompt(scale: tuple[int, int]) -> str:
    """Asked once when a reply to a survey carries no score on its scale."""
    low, high = scale
    return f"Sorry, we didn't catch a score. Please reply with a number from {low} to {high}."


def thanks() -> str:
    return "Thank you for your feedback!"


def no_open_survey() -> str:
    """A text from a number with no survey waiting for an answer."""
    return (
        "Thanks for your message. We have no open survey for this number. "
        "Reply HELP for help or STOP to opt out."
    )


def survey_closed() -> str:
    """A reply after the survey expired: kept, but not counted."""
    return "Thanks! This survey has closed, but we have kept your message."


def help_text() -> str:
    return (
        "We send a short survey after you contact us. Reply with a number to rate us. "
        "Reply STOP to opt out, START to opt back in."
    )


def whatsapp_opted_out() -> str:
    """WhatsApp has no carrier STOP handling: we confirm the opt-out ourselves."""
    return "You will get no more surveys from us on WhatsApp. Reply START to opt back in."


def whatsapp_opted_in() -> str:
    return "You are opted back in to our surveys on WhatsApp. Reply STOP to opt out."


ALL_FIXED_TEXTS = (thanks, no_open_survey, survey_closed, help_text, whatsapp_opted_out, whatsapp_opted_in)
