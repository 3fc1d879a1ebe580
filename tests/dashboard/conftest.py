"""Shared steps of the dashboard tests: a bot with dashboard users, and signing in as one of
them through the real link flow."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from bot.app import Services
from bot.dashboard.auth import SignInLinks

SECRET = "dashboard-test-secret-0123456789abcdef"
USERS = [
    {"email": "ada@example.com", "role": "manager"},
    {"email": "vic@example.com", "role": "viewer"},
    {"email": "root@example.com", "role": "admin"},
]
THEMES = {"billing": ["refund", "invoice"], "speed": ["slow", "ages"]}
PUBLIC_URL = "https://surveys.example.com"


def dashboard_overrides(**extra: Any) -> dict[str, Any]:
    """Config sections for a bot with dashboard users and comment themes."""
    return {"dashboard": {"secret": SECRET, "users": USERS}, "themes": THEMES, **extra}


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def spend(client: TestClient, url: str) -> Any:
    """Open a sign-in link and press its button, as a person does."""
    path = url.removeprefix(PUBLIC_URL)
    page = client.get(path)
    assert page.status_code == 200
    return client.post(path, data={"csrf": csrf_of(page.text)}, follow_redirects=False)


def sign_in(client: TestClient, services: Services, email: str) -> None:
    """Signed in as `email` by a link made as `surveybot dashboard login` makes it."""
    links = SignInLinks(
        services.db, services.clock, public_url=PUBLIC_URL, lifetime=services.config.dashboard.link_lifetime
    )
    answer = spend(client, links.create(email))
    assert answer.status_code == 303, answer.text
