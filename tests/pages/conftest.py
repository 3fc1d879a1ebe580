"""Fixtures for the rating page tests: the rating site over an in-memory store (the browser is
`tests.browser`'s)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI, Response

from bot.pages.links import LinkSigner
from bot.pages.ratings import page_templates, rating_routes
from bot.runtime.clock import FakeClock
from bot.texts.brand import BrandConfig
from tests.fakes.live_server import bind_local_socket, serving, url_of
from tests.fakes.rating_store import MemoryRatingStore, StoredSend


@dataclass
class RatingSite:
    url: str
    signer: LinkSigner
    store: MemoryRatingStore
    clock: FakeClock

    def add_send(
        self,
        send_id: str = "snd_01",
        metric: str = "csat",
        *,
        to: str = "ada@example.com",
        open_for: timedelta | None = timedelta(days=3),
        question: str | None = None,
        comment_prompt: str | None = None,
        locale: str | None = None,
    ) -> str:
        """A send whose survey closes `open_for` from now (None: never); returns its id."""
        open_until = None if open_for is None else self.clock.now() + open_for
        self.store.add_send(StoredSend(send_id, to, metric, open_until, question, comment_prompt, locale))
        return send_id

    def token(self, url: str) -> str:
        return url.rsplit("/", 1)[1]


LOGO_PATH = "/static/logo.svg"
LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40">'
    '<rect width="40" height="40" rx="8" fill="#7c2d12"/><text x="48" y="27" font-size="18" '
    'font-family="sans-serif" fill="#7c2d12">Acme</text></svg>'
)


@contextmanager
def serve_rating_site(**brand: Any) -> Iterator[RatingSite]:
    """The rating and unsubscribe routes over an in-memory store, served on 127.0.0.1, dressed
    in `brand` (a `logo_url` of "local" is a logo this server serves itself)."""
    sock = bind_local_socket()
    clock = FakeClock()
    signer = LinkSigner("test-secret", url_of(sock), clock=clock)
    store = MemoryRatingStore()
    if brand.get("logo_url") == "local":
        brand["logo_url"] = url_of(sock) + LOGO_PATH
    app = FastAPI()
    app.include_router(
        rating_routes(signer, store, page_templates(), clock=clock, brand=BrandConfig(**brand))
    )
    app.add_api_route(LOGO_PATH, lambda: Response(LOGO, media_type="image/svg+xml"))
    with serving(app, sock) as url:
        yield RatingSite(url=url, signer=signer, store=store, clock=clock)


@pytest.fixture
def rating_site() -> Iterator[RatingSite]:
    """The rating and unsubscribe routes over an in-memory store, served on 127.0.0.1."""
    with serve_rating_site() as site:
        yield site


BRAND = {
    "name": "Acme",
    "logo_url": "local",
    "accent_color": "#7c2d12",
    "support_url": "https://help.acme.example/contact",
}


@pytest.fixture
def branded_site() -> Iterator[RatingSite]:
    """The same site dressed in a brand: logo, accent colour, support link."""
    with serve_rating_site(**BRAND) as site:
        yield site
