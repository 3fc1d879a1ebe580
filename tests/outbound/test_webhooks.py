"""Signed webhooks out of a durable outbox: what a receiver gets, verified with the
`standardwebhooks` package's own verifier; retries under one `webhook-id`; a receiver that fails,
goes away and comes back; erasure; the CLI. Time moves with the FakeClock."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from bot.app import Services
from bot.cli.main import cli
from bot.outbound.worker import pause_after
from bot.privacy.erasure import Eraser
from bot.runtime.clock import FakeClock
from bot.sms.inbox import DeliveryReport
from storage import outbox
from storage.db import Database
from tests.conftest import ServicesFactory
from tests.fakes.plugin import slack_overrides
from tests.fakes.slack_api import FakeSlack
from tests.fakes.webhook_receiver import SECRET, WebhookReceiver
from tests.helpers import free_port, write_config
from tests.slack.journeys import record_score


@pytest.fixture
def receiver() -> Any:
    with WebhookReceiver() as running:
        yield running


def hook(url: str, name: str = "crm", **fields: Any) -> dict[str, Any]:
    return {"name": name, "url": url, "secret": SECRET, **fields}


def messages(db: Database) -> list[outbox.Message]:
    with db.read() as conn:
        return list(reversed(outbox.recent(conn, limit=1000)))


def deliver(services: Services) -> int:
    assert services.outbox is not None
    return services.outbox.run_once()


def cli_webhooks(tmp_path: Path, services: Services, *args: str) -> tuple[int, str]:
    raw_hooks = [h.model_dump(mode="json") for h in services.config.webhooks]
    for raw in raw_hooks:
        raw["timeout"] = "10s"
    config = write_config(tmp_path, services.config.storage.url, webhooks=raw_hooks)
    result = CliRunner(env={"COLUMNS": "250"}).invoke(cli, ["webhooks", "--config", str(config), *args])
    return result.exit_code, result.output


def test_a_response_reaches_the_receiver_signed_with_its_data(
    make_services: ServicesFactory, receiver: WebhookReceiver
) -> None:
    services = make_services(webhooks=[hook(receiver.url)])
    send_id = record_score(services, "e1", score=4, comment="quick <fix>", properties={"ticket_id": "T-1"})

    assert deliver(services) == 1

    [delivery] = receiver.deliveries
    assert delivery.verified and delivery.status == 204
    body = delivery.json()
    assert body["type"] == "response.created"
    assert body["timestamp"] == "2026-11-22T12:00:00Z"
    data = body["data"]
    assert (data["send_id"], data["contact_id"], data["survey"], data["metric"]) == (
        send_id, "c1", "support_csat", "csat",
    )  # fmt: skip
    assert (data["score"], data["comment"], data["counted"], data["channel"]) == (
        4,
        "quick <fix>",
        True,
        "sms",
    )
    assert data["event"] == {"id": "e1", "type": "ticket.solved", "source": "api"}
    assert data["properties"] == {"ticket_id": "T-1"}
    [message] = messages(services.db)
    assert delivery.webhook_id == message.id and message.status == "delivered" and message.attempts == 1
    assert deliver(services) == 0  # delivered once; nothing left


def test_a_webhook_gets_only_the_events_it_asks_for(
    make_services: ServicesFactory, receiver: WebhookReceiver
) -> None:
    services = make_services(webhooks=[hook(receiver.url, events=["response.updated"])])
    send_id = record_score(services, "e1", score=2)
    services.responses.record_rating(send_id, 5, "better now", services.clock.now())
    deliver(services)
    assert [d.json()["type"] for d in receiver.accepted] == ["response.updated"]
    assert receiver.accepted[0].json()["data"]["score"] == 5


def test_a_change_rolled_back_leaves_no_message(
    make_services: ServicesFactory, receiver: WebhookReceiver
) -> None:
    services = make_services(webhooks=[hook(receiver.url)])
    [result] = services.ingestor.ingest(
        [{"id": "e1", "type": "ticket.solved", "contact": {"id": "c1", "phone": "+14155550100"}}]
    )
    services.dispatcher.run_once()
    send_id = result.decisions[0].send_id or ""
    with pytest.raises(RuntimeError), services.db.write() as conn:
        services.responses.record_within(conn, send_id, 3, None, services.clock.now())
        assert len([m for m in outbox.recent(conn, limit=10)]) == 1  # written with the response...
        raise RuntimeError("the transaction fails after the response was written")
    assert messages(services.db) == []  # ...and gone with it
    assert deliver(services) == 0 and receiver.deliveries == []


def test_failures_are_retried_with_growing_pauses_under_one_webhook_id(
    make_services: ServicesFactory, receiver: WebhookReceiver, clock: FakeClock
) -> None:
    services = make_services(webhooks=[hook(receiver.url)])
    record_score(services, "e1", score=3)
    receiver.fail_next(2, status=500)

    deliver(services)  # attempt 1: 500
    assert deliver(services) == 0  # not due again yet
    clock.advance(pause_after(1))
    deliver(services)  # attempt 2: 500
    clock.advance(pause_after(1))
    assert deliver(services) == 0  # the second pause is longer than the first
    clock.advance(pause_after(2) - pause_after(1))
    deliver(services)  # attempt 3: taken

    assert [d.status for d in receiver.deliveries] == [500, 500, 204]
    metrics = services.telemetry.render().decode()
    assert 'surveybot_outbox_attempts_total{outcome="retry",target="crm"} 2.0' in metrics
    assert 'surveybot_outbox_attempts_total{outcome="delivered",target="crm"} 1.0' in metrics
    assert all(d.verified for d in receiver.deliveries)
    assert len({d.webhook_id for d in receiver.deliveries}) == 1
    assert receiver.deliveries[0].body == receiver.deliveries[2].body  # the same message each time
    [message] = messages(services.db)
    assert (message.status, message.attempts, message.last_status) == ("delivered", 3, 204)


def test_pauses_grow_and_stay_under_four_hours() -> None:
    pauses = [pause_after(n) for n in range(1, 12)]
    assert pauses == sorted(pauses) and pauses[0] == timedelta(seconds=10)
    assert max(pauses) == timedelta(hours=4)
    assert pause_after(1, retry_after=120) == timedelta(minutes=2)  # the receiver's Retry-After


def test_a_receiver_down_for_a_day_fails_the_message_and_retry_sends_it_when_back(
    make_services: ServicesFactory, receiver: WebhookReceiver, clock: FakeClock, tmp_path: Path
) -> None:
    services = make_services(webhooks=[hook(receiver.url)])
    record_score(services, "e1", score=3)
    receiver.stop()  # nothing listens on its port now
    started = clock.now()
    tries = 0
    while messages(services.db)[0].status == "pending":
        tries += deliver(services)
        clock.advance(timedelta(minutes=10))
    [message] = messages(services.db)
    assert message.status == "failed" and message.attempts == tries
    assert clock.now() - started >= timedelta(days=1)  # retried for a day
    assert 8 <= tries <= 20, tries  # growing pauses: neither a hammering nor a handful
    assert "ConnectionRefusedError" in (message.last_error or "")

    code, output = cli_webhooks(tmp_path, services, "--failed", "--json")
    assert code == 0, output
    listed = orjson.loads(output)
    assert [m["id"] for m in listed["messages"]] == [message.id]
    assert listed["counts"] == {"failed": 1}
    code, table = cli_webhooks(tmp_path, services)
    assert message.id in table and "failed" in table and "ConnectionRefusedError" in table

    receiver.start()  # back, on the same port
    code, output = cli_webhooks(tmp_path, services, "retry", message.id)
    assert code == 0 and message.id in output
    clock.set(datetime.now(UTC) + timedelta(seconds=1))  # `retry` queues it for the wall clock's now
    assert deliver(services) == 1
    assert [d.webhook_id for d in receiver.accepted] == [message.id]
    code, output = cli_webhooks(tmp_path, services, "retry", message.id)
    assert code == 1 and "no failed message" in output


def test_a_receiver_that_is_down_does_not_hold_back_another(
    make_services: ServicesFactory, receiver: WebhookReceiver
) -> None:
    down = f"http://127.0.0.1:{free_port()}/hooks"
    services = make_services(webhooks=[hook(down, name="down", timeout="2s"), hook(receiver.url, name="up")])
    for i in range(3):
        record_score(services, f"e{i}", score=4, contact=f"c{i}")
    deliver(services)
    assert len(receiver.accepted) == 3
    by_target = Counter((m.target, m.status, m.attempts) for m in messages(services.db))
    # the down receiver cost one attempt this round; its other messages wait untried
    assert by_target == {("up", "delivered", 1): 3, ("down", "pending", 1): 1, ("down", "pending", 0): 2}


def test_opt_outs_and_failed_sends_are_told(
    make_services: ServicesFactory, receiver: WebhookReceiver
) -> None:
    services = make_services(webhooks=[hook(receiver.url, events=["contact.opted_out", "send.failed"])])
    send_id = record_score(services, "e1", score=4)
    assert services.responses.opt_out_send_address(send_id, services.clock.now())
    assert services.responses.opt_out_send_address(send_id, services.clock.now())  # already: not told again
    [result] = services.ingestor.ingest([{"id": "e2", "type": "ticket.solved",
                                          "contact": {"id": "c2", "phone": "+14155550199"}}])  # fmt: skip
    services.dispatcher.run_once()
    failed_send = result.decisions[0].send_id
    services.sms_inbox.record_report(DeliveryReport(f"log:{failed_send}", "undelivered", "30003"))
    deliver(services)
    told = [d.json() for d in receiver.accepted]
    assert [t["type"] for t in told] == ["contact.opted_out", "send.failed"]
    assert {k: told[0]["data"][k] for k in ("contact_id", "send_id", "channel", "source")} == {
        "contact_id": "c1", "send_id": send_id, "channel": "sms", "source": "unsubscribe_link",
    }  # fmt: skip
    failed = told[1]["data"]
    assert (failed["send_id"], failed["contact_id"], failed["status"], failed["reason"]) == (
        failed_send, "c2", "undelivered", "Twilio error 30003",
    )  # fmt: skip


def test_alerts_created_claimed_and_resolved_are_told(
    make_services: ServicesFactory, receiver: WebhookReceiver, fake_slack: FakeSlack
) -> None:
    services = make_services(
        webhooks=[hook(receiver.url, events=["alert.created", "alert.claimed", "alert.resolved"])],
        **slack_overrides(fake_slack),
    )
    send_id = record_score(services, "e1", score=1, comment="bad")
    assert services.slack and services.slack.alerts
    services.slack.alerts.wait_idle()
    services.slack.alerts.claim(send_id, "U_SAM")
    services.slack.alerts.resolve(send_id, "U_SAM")
    services.slack.alerts.resolve(send_id, "U_SAM")  # once only
    deliver(services)
    told = [(d.json()["type"], d.json()["data"]["by"], d.json()["data"]["score"]) for d in receiver.accepted]
    assert told == [("alert.created", None, 1), ("alert.claimed", "U_SAM", 1), ("alert.resolved", "U_SAM", 1)]


def test_after_forget_nothing_about_the_contact_leaves(
    make_services: ServicesFactory, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    services = make_services(webhooks=[hook(receiver.url)])
    record_score(services, "e1", score=1, comment="call me on +14155550100")
    record_score(services, "e2", score=5, contact="c2")
    eraser = Eraser(services.db, services.config, services.clock, services.address_keys)
    report = eraser.forget(["c1"])
    assert report.erased["outbox_messages"] == 1
    deliver(services)
    assert [d.json()["data"]["contact_id"] for d in receiver.accepted] == ["c2"]
    erased = next(m for m in messages(services.db) if m.contact_id == "c1")
    assert (erased.status, erased.body) == ("dropped", "")
    code, _ = cli_webhooks(tmp_path, services, "retry", erased.id)
    assert code == 1  # a dropped message cannot be sent again


def test_webhook_config_problems_are_named_by_path(make_services: ServicesFactory) -> None:
    from bot.config import ConfigError

    with pytest.raises(ConfigError) as raised:
        bad = {
            "name": "a",
            "url": "ftp://x",
            "secret": "short",
            "events": ["response.deleted"],
            "timeout": "5m",
        }
        make_services(webhooks=[bad])
    problems = "\n".join(raised.value.problems)
    assert "webhooks[0].url: 'ftp://x' is not an absolute http(s) URL" in problems
    assert "webhooks[0].secret: is not a Standard Webhooks secret" in problems
    assert "webhooks[0].events[0]: 'response.deleted' is not one of" in problems
    assert "webhooks[0].timeout: must be between 1s and 60s" in problems


def test_settled_messages_are_deleted_after_thirty_days_pending_ones_never(
    make_services: ServicesFactory, receiver: WebhookReceiver, clock: FakeClock
) -> None:
    services = make_services(webhooks=[hook(receiver.url)])
    record_score(services, "e1", score=4)
    deliver(services)
    receiver.stop()
    clock.advance(timedelta(days=29))
    record_score(services, "e2", score=4, contact="c2")
    deliver(services)  # refused: pending, retried
    assert services.outbox is not None
    assert services.outbox.purge() == 0
    clock.advance(timedelta(days=1, seconds=1))
    assert services.outbox.purge() == 1  # the delivered one, 30 days on
    assert [(m.contact_id, m.status) for m in messages(services.db)] == [("c2", "pending")]


def test_a_hostile_answer_reaches_the_terminal_as_plain_text(
    make_services: ServicesFactory, clock: FakeClock, tmp_path: Path
) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    class Hostile(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = b"\x1b[2J\x1b]0;owned\x07 nope\r\nX-Injected: 1 [bold]markup[/bold]"
            self.send_response(502)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        services = make_services(webhooks=[hook(f"http://127.0.0.1:{server.server_address[1]}/h")])
        record_score(services, "e1", score=4)
        deliver(services)
    finally:
        server.shutdown()
        server.server_close()
    [message] = messages(services.db)
    assert message.last_status == 502
    assert "\x1b" not in (message.last_error or "") and "\n" not in (message.last_error or "")
    code, table = cli_webhooks(tmp_path, services)
    assert code == 0 and "\x1b" not in table and "[bold]markup[/bold]" in table


def test_a_receiver_that_never_answers_costs_one_bounded_attempt(make_services: ServicesFactory) -> None:
    import socket

    with socket.socket() as silent:  # takes connections (the kernel's backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/h"
        services = make_services(webhooks=[hook(url, timeout="1s")])
        record_score(services, "e1", score=4)
        record_score(services, "e2", score=4, contact="c2")
        assert deliver(services) == 1  # the second waits for the next round
    attempted = [m for m in messages(services.db) if m.attempts]
    assert len(attempted) == 1 and attempted[0].last_error == "no answer within 1s"
    assert attempted[0].status == "pending"


def test_the_command_says_what_it_needs(make_services: ServicesFactory, tmp_path: Path) -> None:
    services = make_services(webhooks=[hook("https://crm.example.com/hooks")])
    code, output = cli_webhooks(tmp_path, services, "retry")
    assert code == 2 and "retry needs the message's id" in output
    code, output = cli_webhooks(tmp_path, services, "msg_123")
    assert code == 2 and "'msg_123' is not 'retry'" in output
    code, output = cli_webhooks(tmp_path, services, "--json")
    assert code == 0 and orjson.loads(output) == {"counts": {}, "messages": []}
