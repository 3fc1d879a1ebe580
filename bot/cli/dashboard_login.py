"""`surveybot dashboard login EMAIL`: a sign-in link made on the command line."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.cli.commands import open_database
from bot.config import Config
from bot.dashboard.auth import SignInLinks
from bot.errors import NotFound
from bot.runtime.clock import SystemClock


def print_sign_in_link(config: Config, email: str) -> str:
    """A new one-time link for `email`; raises `NotFound` unless it is in `dashboard.users`."""
    listed = {user.email.lower() for user in config.dashboard.users}
    if email.strip().lower() not in listed:
        raise NotFound(f"{email!r} is not in dashboard.users; add it there (with a role) first")
    db = open_database(config)
    try:
        links = SignInLinks(
            db, SystemClock(), public_url=config.server.public_url, lifetime=config.dashboard.link_lifetime
        )
        url = links.create(email.strip())
    finally:
        db.dispose()
    expires = datetime.now(UTC) + config.dashboard.link_lifetime
    return f"{url}\n(works once, until {expires:%Y-%m-%d %H:%M} UTC)"
