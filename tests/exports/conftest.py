"""A bot with answered surveys, for the export command and the responses feed."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.app import Services
from tests.conftest import ServicesFactory
from tests.helpers import event

READ_KEYS = {"api_keys": ["ingest-key", {"key": "read-key", "scopes": ["read"]},
                          {"key": "both-key", "scopes": ["ingest", "read"]}]}  # fmt: skip

Answer = Callable[..., str]


@pytest.fixture
def bot(make_services: ServicesFactory) -> Services:
    return make_services(server=READ_KEYS)


@pytest.fixture
def answer(bot: Services) -> Answer:
    """Survey a contact (a ticket.solved event, sent by SMS) and record their score; the send id."""

    def answer_for(contact: str, score: int, comment: str | None = None, **fields: object) -> str:
        [result] = bot.ingestor.ingest([event(f"evt-{contact}", contact=contact, **fields)])
        [decision] = result.decisions
        assert decision.send_id, decision
        bot.dispatcher.run_once()
        bot.responses.record_rating(decision.send_id, score, comment, bot.clock.now())
        return decision.send_id

    return answer_for
