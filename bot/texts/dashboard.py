"""Every word of the dashboard that is not in its templates: table captions, flags, the sign-in
email, the answers to a refused request."""

from __future__ import annotations

from datetime import datetime

OVERVIEW_TITLE = "Overview"
OVERVIEW_TABLE = "Surveys in this window"
COMMENTS_TABLE = "Comments"
TREND_TABLE = "Per day"
ALERTS_TABLE = "Low-score alerts"
TIMELINE_TABLE = "Timeline"
SMALL = "small sample"
REAL = "more than noise"
NOISE = "within noise"
NO_SENDS = "no sends"
ALERT_STATES = {"open": "open", "claimed": "claimed", "resolved": "resolved"}

SIGN_IN_SUBJECT = "Your surveybot sign-in link"


def when(at: datetime) -> str:
    """A moment in a table: `2026-11-22 10:05 UTC`."""
    return at.strftime("%Y-%m-%d %H:%M UTC")


def sign_in_email(url: str, minutes: int) -> str:
    return (
        f"Open this link to sign in to the surveybot dashboard:\n\n{url}\n\n"
        f"It works once, within {minutes} minutes. If you did not ask for it, ignore this email."
    )


def not_a_window(value: str) -> str:
    return f"window: {value!r} is not a window like 24h, 7d or 30d (from 1h to 400d)"


def not_a_path(problem: str) -> str:
    return f"by: {problem}"


def not_groupable(path: str) -> str:
    return (
        f"{path!r} cannot be grouped by: use properties.<name>, channel, contact.locale or contact.timezone"
    )


def unknown_survey(name: str) -> str:
    return f"There is no survey {name!r} in the config."


def role_refused(role: str, needed: str) -> str:
    return f"Your role ({role}) cannot open this page; it needs {needed} or above."


FORBIDDEN_POST = (
    "This form was not sent from this dashboard (its security token is missing or stale). "
    "Reload the page and try again."
)
TOO_MANY = "Too many sign-in attempts. Wait a few minutes, then try again."
BAD_LINK = (
    "This sign-in link is not valid: it was already used, has expired, or was never made here. "
    "Ask for a new one."
)
LINK_SENT = "If that address may sign in, a sign-in link is on its way. It works once, for a short time."
NO_CONTACT = "Nothing is stored about this contact."
NO_ALERT = "There is no alert for this send."
