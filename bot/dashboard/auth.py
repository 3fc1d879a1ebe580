"""Who is signed in to the dashboard, and how they got there.

- Sign-in links: a random token (256 bits) in a URL; the database keeps only its SHA-256, its
  email and its expiry, and the one request that spends it sets `used_at`, so a link works once
  and only for `dashboard.link_lifetime`.
- Sessions: a cookie holding the email and the session's CSRF token, signed with
  `dashboard.secret` (itsdangerous, HMAC-SHA256) and refused after `dashboard.session_lifetime`.
  The role is read from the config on every request, so a person taken off `dashboard.users`
  is out at their next click.
- CSRF: every form carries the session's token (before sign-in: the token of a signed
  pre-session cookie) and every POST must present it; a POST whose Origin is not ours is
  refused before that.
- Sign-in attempts are counted per email and per client address in this process's memory (one
  `surveybot run` process; several processes each count their own).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

from bot.config import DashboardConfig
from bot.runtime.clock import Clock
from storage import dashboard as stored
from storage.db import Database

ROLES = ("viewer", "manager", "admin")
SESSION_SALT = "surveybot.dashboard.session"
PRE_SESSION_SALT = "surveybot.dashboard.pre-session"
LINK_PATH = "/dashboard/auth/"


def role_allows(role: str, needed: str) -> bool:
    """True when `role` is `needed` or above it (viewer < manager < admin)."""
    return ROLES.index(role) >= ROLES.index(needed)


@dataclass(frozen=True)
class Session:
    email: str
    role: str
    csrf: str

    def may(self, needed: str) -> bool:
        return role_allows(self.role, needed)


class _ClockedSigner(TimestampSigner):
    """Reads the injected clock, so tests move time instead of waiting."""

    def __init__(self, *args: Any, clock: Clock, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock.now().timestamp())


class SessionCookies:
    """Makes and reads the signed session and pre-session cookie values."""

    def __init__(self, settings: DashboardConfig, clock: Clock) -> None:
        assert settings.secret, "the dashboard needs dashboard.secret"
        kwargs = {"clock": clock, "digest_method": hashlib.sha256}
        self._session = URLSafeTimedSerializer(
            settings.secret, salt=SESSION_SALT, signer=_ClockedSigner, signer_kwargs=kwargs
        )
        self._pre = URLSafeTimedSerializer(
            settings.secret, salt=PRE_SESSION_SALT, signer=_ClockedSigner, signer_kwargs=kwargs
        )
        self.lifetime = settings.session_lifetime
        self.users = {user.email.lower(): user.role for user in settings.users}

    def issue(self, email: str) -> str:
        return self._session.dumps({"e": email.lower(), "c": secrets.token_urlsafe(24)})

    def read(self, value: str | None) -> Session | None:
        """The session in a cookie value: None when missing, forged, expired, or its person is
        no longer in `dashboard.users`."""
        payload = _load(self._session, value, self.lifetime)
        if not isinstance(payload, dict) or not isinstance(payload.get("e"), str):
            return None
        role = self.users.get(payload["e"])
        csrf = payload.get("c")
        if role is None or not isinstance(csrf, str):
            return None
        return Session(payload["e"], role, csrf)

    def new_pre_session(self) -> tuple[str, str]:
        """(cookie value, CSRF token) for the forms shown before sign-in."""
        token = secrets.token_urlsafe(24)
        return self._pre.dumps(token), token

    def read_pre_session(self, value: str | None) -> str | None:
        token = _load(self._pre, value, timedelta(days=1))
        return token if isinstance(token, str) else None


def _load(serializer: URLSafeTimedSerializer, value: str | None, max_age: timedelta) -> Any:
    if not value:
        return None
    try:
        return serializer.loads(value, max_age=int(max_age.total_seconds()))
    except BadData:
        return None


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


def same_origin(origin: str | None, public_url: str) -> bool:
    """A POST's Origin header is ours, or absent (then the CSRF token alone decides)."""
    if origin is None:
        return True
    ours, theirs = urlsplit(public_url), urlsplit(origin)
    return (ours.scheme, ours.netloc.lower()) == (theirs.scheme, theirs.netloc.lower())


class SignInLinks:
    """One-time sign-in links, stored as hashes."""

    def __init__(self, db: Database, clock: Clock, *, public_url: str, lifetime: timedelta) -> None:
        self.db, self.clock = db, clock
        self.public_url = public_url.rstrip("/")
        self.lifetime = lifetime

    def create(self, email: str) -> str:
        """A new link for `email` (who must be a dashboard user: the caller checks)."""
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        with self.db.write() as conn:
            stored.forget_old_sign_in_links(conn, before=now - timedelta(days=1))
            stored.store_sign_in_link(
                conn, token_hash=_hash(token), email=email.lower(), now=now, expires_at=now + self.lifetime
            )
        return f"{self.public_url}{LINK_PATH}{token}"

    def spend(self, token: str) -> str | None:
        """The link's email, once; None for a forged, used or expired link."""
        if not token or len(token) > 200:
            return None
        with self.db.write() as conn:
            return stored.spend_sign_in_link(conn, token_hash=_hash(token), now=self.clock.now())


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Attempts:
    """At most `limit` attempts per key in any `period` (sliding), counted in memory."""

    def __init__(self, clock: Clock, *, limit: int, period: timedelta, max_keys: int = 100_000) -> None:
        self.clock, self.limit, self.period, self.max_keys = clock, limit, period, max_keys
        self._seen: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count an attempt for `key`; False (and not counted) when it is over the limit."""
        now = self.clock.now()
        with self._lock:
            if len(self._seen) >= self.max_keys:
                self._seen.clear()  # a flood of keys must not grow memory without end
            times = self._seen.setdefault(key, deque())
            while times and times[0] <= now - self.period:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(now)
            return True
