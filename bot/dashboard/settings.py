"""The checks of the `dashboard:` section that need more than one field (see `bot.config`)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import DashboardConfig

MIN_SECRET = 16
MAX_LINK_LIFETIME = timedelta(days=1)
MIN_SESSION = timedelta(minutes=5)


def dashboard_problems(dashboard: DashboardConfig) -> list[str]:
    """Each problem as `dashboard.<field>: what is wrong and what would be right`."""
    problems: list[str] = []
    if dashboard.users and not dashboard.secret:
        problems.append(
            "dashboard.secret: is required when dashboard.users is set (it signs the session "
            'cookies); write secret: "${SURVEYBOT_DASHBOARD_SECRET}" and set that to 32 random characters'
        )
    elif dashboard.secret and len(dashboard.secret) < MIN_SECRET:
        problems.append(f"dashboard.secret: is too short: at least {MIN_SECRET} characters, 32 random ones")
    seen: set[str] = set()
    for i, user in enumerate(dashboard.users):
        email = user.email.lower()
        if email in seen:
            problems.append(
                f"dashboard.users[{i}].email: {user.email!r} is listed twice; list each person once"
            )
        seen.add(email)
    if not timedelta(minutes=1) <= dashboard.link_lifetime <= MAX_LINK_LIFETIME:
        problems.append(
            "dashboard.link_lifetime: must be between 1m and 1d (sign-in links are short-lived), like 15m"
        )
    if dashboard.session_lifetime < MIN_SESSION:
        problems.append("dashboard.session_lifetime: is shorter than 5m; give a duration like 12h")
    return problems
