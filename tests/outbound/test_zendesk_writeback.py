"""The Zendesk write-back: a response on a survey about a Zendesk ticket tags the ticket and adds
an internal note, through the outbox, against a local server that answers like Zendesk's Tickets
API and checks the API-token auth header."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot.app import Services
from storage import outbox
from tests.conftest import ServicesFactory
from tests.fakes.zendesk_api import FakeZendesk
from tests.slack.journeys import record_score


@pytest.fixture
def zendesk() -> Iterator[FakeZendesk]:
    with FakeZendesk() as fake:
        fake.add_ticket(4521, tags=["vip"])
        yield fake


def writeback(fake: FakeZendesk, **fields: Any) -> dict[str, Any]:
    login = {"email": fake.email, "api_token": fake.api_token}
    return {"zendesk": {"subdomain": "acme", **login, "api_base_url": fake.url, **fields}}


def answer_from_helpdesk(services: Services, *, ticket: str, score: int, comment: str | None) -> str:
    """A ticket.solved from the `helpdesk` Zendesk source, surveyed and answered."""
    [result] = services.ingestor.ingest(
        [{"id": f"zd-{ticket}", "type": "ticket.solved", "contact": {"id": "c1", "phone": "+14155550100"},
          "properties": {"ticket_id": ticket}}],
        source="helpdesk",
    )  # fmt: skip
    send_id = result.decisions[0].send_id or ""
    services.dispatcher.run_once()
    services.responses.record_rating(send_id, score, comment, services.clock.now())
    return send_id


HELPDESK = {"helpdesk": {"kind": "zendesk", "secret": "zd-webhook-secret"}}


def test_a_response_tags_the_ticket_and_adds_an_internal_note(
    make_services: ServicesFactory, zendesk: FakeZendesk
) -> None:
    services = make_services(sources=HELPDESK, writeback=writeback(zendesk))
    answer_from_helpdesk(services, ticket="4521", score=2, comment="waited <b>3 days</b>")
    assert services.outbox is not None
    assert services.outbox.run_once() == 1

    ticket = zendesk.tickets[4521]
    assert ticket["tags"] == ["vip", "surveybot", "surveybot_csat_2"]
    [note] = ticket["comments"]
    assert note["public"] is False
    assert "answered the CSAT survey 'support_csat': 2 on 1-5" in note["body"]
    assert "> waited <b>3 days</b>" in note["body"]  # plain text: Zendesk shows it as typed
    [(method, path, _)] = zendesk.requests
    assert (method, path) == ("PUT", "/api/v2/tickets/4521.json")


def test_a_ticket_id_from_a_configured_path_for_other_sources(
    make_services: ServicesFactory, zendesk: FakeZendesk
) -> None:
    services = make_services(writeback=writeback(zendesk, ticket_id="properties.zendesk_ticket"))
    record_score(services, "e1", score=5, properties={"zendesk_ticket": "4521"})
    record_score(services, "e2", score=5, contact="c2", properties={"ticket_id": "T-9"})  # no ticket: none
    assert services.outbox is not None
    services.outbox.run_once()
    assert zendesk.tickets[4521]["tags"] == ["vip", "surveybot", "surveybot_csat_5"]
    assert len(zendesk.requests) == 1


def test_wrong_credentials_are_refused_and_retried_not_lost(
    make_services: ServicesFactory, zendesk: FakeZendesk
) -> None:
    services = make_services(sources=HELPDESK, writeback=writeback(zendesk, api_token="wrong"))
    answer_from_helpdesk(services, ticket="4521", score=4, comment=None)
    assert services.outbox is not None
    services.outbox.run_once()
    with services.db.read() as conn:
        [message] = outbox.recent(conn, limit=5)
    assert (message.status, message.last_status, message.attempts) == ("pending", 401, 1)
    assert "Couldn't authenticate you" in (message.last_error or "")
    assert zendesk.tickets[4521]["comments"] == []


def test_no_writeback_without_a_ticket_or_the_section(make_services: ServicesFactory) -> None:
    services = make_services(sources=HELPDESK)
    record_score(services, "e1", score=3)
    assert services.outbox is None  # nothing configured: no worker, no messages
    with services.db.read() as conn:
        assert outbox.recent(conn, limit=5) == []
