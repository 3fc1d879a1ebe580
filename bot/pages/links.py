"""Signed, unguessable links for email: one per score, and one to unsubscribe.

A token carries the send id (and the score) signed with the server's secret and the moment it
was made, so nobody can forge a link for another send or change the score inside a link, and a
link can be refused once it is too old. Rating and unsubscribe tokens use distinct salts, so one
kind can never be passed off as the other.

    {public_url}/r/{token}            the rating page, with that score chosen
    {public_url}/unsubscribe/{token}  the List-Unsubscribe target (RFC 8058)
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from bot.errors import SurveybotError
from bot.runtime.clock import Clock, SystemClock

RATING_SALT = "surveybot.rating"
UNSUBSCRIBE_SALT = "surveybot.unsubscribe"


class InvalidLink(SurveybotError):
    """This link is not valid: it was changed, cut short, or never made by this server."""


class ExpiredLink(InvalidLink):
    """This link is genuine but too old to be used."""


class _ClockedSigner(TimestampSigner):
    """A timestamp signer that reads the injected clock, so tests move time instead of waiting."""

    def __init__(self, *args: Any, clock: Clock, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock.now().timestamp())


class LinkSigner:
    """Makes and reads the tokens in rating and unsubscribe URLs.

    `secret` must stay the same across restarts and workers, or every link sent before is
    refused. `public_url` is the base the customer's browser reaches (no trailing slash needed).
    """

    def __init__(self, secret: str, public_url: str, *, clock: Clock | None = None) -> None:
        if not secret:
            raise ValueError("a LinkSigner needs a non-empty secret")
        self.public_url = public_url.rstrip("/")
        signer_kwargs = {"clock": clock or SystemClock(), "digest_method": hashlib.sha256}
        self._rating = URLSafeTimedSerializer(
            secret, salt=RATING_SALT, signer=_ClockedSigner, signer_kwargs=signer_kwargs
        )
        self._unsubscribe = URLSafeTimedSerializer(
            secret, salt=UNSUBSCRIBE_SALT, signer=_ClockedSigner, signer_kwargs=signer_kwargs
        )

    def rating_token(self, send_id: str, score: int) -> str:
        return self._rating.dumps([send_id, score])

    def rating_url(self, send_id: str, score: int) -> str:
        return f"{self.public_url}/r/{self.rating_token(send_id, score)}"

    def rating_urls(self, send_id: str, scale: tuple[int, int]) -> dict[int, str]:
        """One rating URL per score on the inclusive `scale`, as `OutboundMessage.links` wants."""
        low, high = scale
        return {score: self.rating_url(send_id, score) for score in range(low, high + 1)}

    def unsubscribe_token(self, send_id: str) -> str:
        return self._unsubscribe.dumps(send_id)

    def unsubscribe_url(self, send_id: str) -> str:
        return f"{self.public_url}/unsubscribe/{self.unsubscribe_token(send_id)}"

    def read_rating_token(self, token: str, max_age: timedelta | None = None) -> tuple[str, int]:
        """Return `(send_id, score)`; raise `ExpiredLink` if older than `max_age`, else
        `InvalidLink` for anything not signed by us as a rating token."""
        payload = _load(self._rating, token, max_age)
        if (
            not isinstance(payload, list)
            or len(payload) != 2
            or not isinstance(payload[0], str)
            or not isinstance(payload[1], int)
            or isinstance(payload[1], bool)
        ):
            raise InvalidLink()
        return payload[0], payload[1]

    def read_unsubscribe_token(self, token: str, max_age: timedelta | None = None) -> str:
        """Return the send id; raise `ExpiredLink` / `InvalidLink` as `read_rating_token`."""
        payload = _load(self._unsubscribe, token, max_age)
        if not isinstance(payload, str):
            raise InvalidLink()
        return payload


def _load(serializer: URLSafeTimedSerializer, token: str, max_age: timedelta | None) -> Any:
    seconds = None if max_age is None else int(max_age.total_seconds())
    try:
        return serializer.loads(token, max_age=seconds)
    except SignatureExpired:
        raise ExpiredLink() from None
    except BadData:
        raise InvalidLink() from None
