"""Fixtures for the rating page tests: the rating site over an in-memory store (the browser is
`tests.browser`'s)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi import FastAPI

from bot.pages.links import LinkSigner
from bot.pages.ratings import page_templates, rating_routes
from bot.runtime.clock import FakeClock
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
    ) -> str:
        """A send whose survey closes `open_for` from now (None: never); returns its id."""
        open_until = None if open_for is None else self.clock.now() + open_for
        self.store.add_send(StoredSend(send_id, to, metric, open_until, question))
        return send_id

    def token(self, url: str) -> str:
        return url.rsplit("/", 1)[1]


@pytest.fixture
def rating_site() -> Iterator[RatingSite]:
    """The rating and unsubscribe routes over an in-memory store, served on 127.0.0.1."""
    sock = bind_local_socket()
    clock = FakeClock()
    signer = LinkSigner("test-secret", url_of(sock), clock=clock)
    store = MemoryRatingStore()
    app = FastAPI()
    app.include_router(rating_routes(signer, store, page_templates(), clock=clock))
    with serving(app, sock) as url:
        yield RatingSite(url=url, signer=signer, store=store, clock=clock)
