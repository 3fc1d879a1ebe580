"""The public endpoints under attack: oversized bodies, templates that try to run code, old
links. (Signatures and keys have their own tests: tests/sms/test_webhook_guard.py,
tests/pages/test_links.py, tests/intake/test_events_api.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from jinja2.exceptions import SecurityError

from bot.app import Services
from bot.runtime.clock import FakeClock
from bot.texts.rendering import render_text
from bot.web.app import create_web_app
from bot.web.limits import FORM_LIMIT
from tests.helpers import event, outbox

ROUTES = ["/v1/events", "/r/token", "/unsubscribe/token", "/twilio/sms", "/twilio/status", "/healthz"]
READING = ["/v1/events", "/r/token", "/twilio/sms", "/twilio/status"]  # the others never read a body


@pytest.fixture
def client(services: Services) -> TestClient:
    return TestClient(create_web_app(services))


def limit_of(services: Services, path: str) -> int:
    return services.config.server.max_body_bytes if path == "/v1/events" else FORM_LIMIT


@pytest.mark.parametrize("path", ROUTES)
def test_a_declared_oversize_body_is_refused_before_it_is_read(
    client: TestClient, services: Services, path: str
) -> None:
    size = limit_of(services, path) + 1
    response = client.post(path, content=b"x" * size, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert "larger than" in response.json()["error"]


@pytest.mark.parametrize("path", READING)
def test_a_chunked_body_is_cut_off_once_it_passes_the_limit(
    client: TestClient, services: Services, path: str
) -> None:
    chunks = limit_of(services, path) // 4096 + 2

    def stream() -> Iterator[bytes]:
        for _ in range(chunks):
            yield b"a=" + b"x" * 4094

    headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": "Bearer test-key"}
    response = client.post(path, content=stream(), headers=headers)
    assert response.status_code == 413


def test_a_form_within_the_limit_still_works(client: TestClient, services: Services) -> None:
    [result] = services.ingestor.ingest([event("e1", details={"phone": None})])
    send_id = result.decisions[0].send_id
    assert send_id
    url = services.links.rating_url(send_id, 5).removeprefix(services.config.server.public_url)
    response = client.post(url, data={"score": "5", "comment": "é" * 2000})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ ''.__class__.__base__.__subclasses__() }}",
        "{{ contact.__class__ }}{{ lipsum.__globals__ }}",
        "{% for c in ().__class__.__bases__ %}{{ c }}{% endfor %}",
        "{{ range.__self__ }}",
    ],
)
def test_a_config_template_cannot_reach_python(source: str) -> None:
    try:
        text = render_text(source, {"contact": {"name": "Ada"}, "properties": {}})
    except SecurityError:
        return
    assert text.strip() == ""  # what the sandbox refuses renders as nothing


def test_a_template_cannot_change_the_values_it_is_given() -> None:
    properties: dict[str, str] = {}
    with pytest.raises(SecurityError):
        render_text("{{ properties.update({'a': 1}) }}", {"properties": properties})
    assert properties == {}


def test_jinja_inside_an_event_property_is_sent_as_written(services: Services, tmp_path: Path) -> None:
    hostile = "{{ cycler.__init__.__globals__.os.system('touch pwned') }}{{ 7 * 7 }}"
    services.ingestor.ingest([event("e1", properties={"ticket_id": hostile}, details={"name": "{{ 6*7 }}"})])
    services.dispatcher.run_once()

    [message] = outbox(tmp_path, "sms")
    assert message["body"] == f"Hi {{{{ 6*7 }}}}, rate ticket {hostile} 1-5"


def test_an_unsubscribe_link_never_expires(client: TestClient, services: Services, clock: FakeClock) -> None:
    [result] = services.ingestor.ingest([event("e1", details={"phone": None})])
    send_id = result.decisions[0].send_id
    assert send_id
    services.dispatcher.run_once()
    unsubscribe = services.links.unsubscribe_url(send_id).removeprefix(services.config.server.public_url)
    rating = services.links.rating_url(send_id, 5).removeprefix(services.config.server.public_url)
    clock.advance(timedelta(days=5 * 365))

    assert client.get(rating).status_code == 410  # rating links expire after 90 days
    assert client.post(unsubscribe).status_code == 200  # RFC 8058: unsubscribing always works
    [again] = services.ingestor.ingest([event("e2", details={"phone": None})])
    assert [(d.outcome, d.reason) for d in again.decisions] == [("suppressed", "opted_out")]


def test_a_nul_in_a_rating_comment_is_dropped_and_the_answer_kept(
    client: TestClient, services: Services
) -> None:
    """PostgreSQL text cannot hold a NUL: the comment is stored without it, the score with it."""
    [result] = services.ingestor.ingest([event("e1", details={"phone": None})])
    send_id = result.decisions[0].send_id
    assert send_id
    services.dispatcher.run_once()
    rating = services.links.rating_url(send_id, 4).removeprefix(services.config.server.public_url)

    page = client.post(rating, data={"score": "2", "comment": "Slow\x00 answer"})

    assert page.status_code == 200 and "Thank you" in page.text
    answer = services.responses.get_send(send_id)
    assert answer is not None and (answer.score, answer.comment) == (2, "Slow answer")
