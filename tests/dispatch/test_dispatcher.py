"""Due sends go out through the channel exactly once, whatever happens around them."""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta
from pathlib import Path

from bot.app import Services
from bot.channels.base import OutboundMessage, SendOutcome
from bot.channels.log import LogChannel
from bot.runtime.clock import FakeClock
from storage import queries
from storage import sends as send_queries
from tests.conftest import ServicesFactory
from tests.helpers import decisions, event, outbox, sends, sms_trigger


def test_a_due_send_goes_out_once_through_the_log_channel(services: Services, tmp_path: Path) -> None:
    services.ingestor.ingest([event("e1", details={"name": "Ada"}, properties={"ticket_id": "T-7"})])
    assert services.dispatcher.run_once() == 1
    assert services.dispatcher.run_once() == 0
    [line] = outbox(tmp_path, "sms")
    [send] = sends(services.db)
    assert line == {
        "send_id": send.id,
        "channel": "sms",
        "to": "+14155550100",
        "survey": "support_csat",
        "body": "Hi Ada, rate ticket T-7 1-5",
        "locale": "en",
    }
    assert send.status == "sent" and send.provider_message_id == f"log:{send.id}"
    assert send.expires_at == send.sent_at + timedelta(days=3)


def test_email_log_lines_carry_the_subject(services: Services, tmp_path: Path) -> None:
    services.ingestor.ingest([event("e1", type_="order.delivered")])
    services.dispatcher.run_once()
    [line] = outbox(tmp_path, "email")
    assert (line["subject"], line["to"]) == ("Recommend us?", "c1@example.com")


def test_a_send_not_yet_due_waits_for_its_time(
    make_services: ServicesFactory, clock: FakeClock, tmp_path: Path
) -> None:
    services = make_services(triggers=[sms_trigger(delay="10m")])
    services.ingestor.ingest([event("e1")])
    assert services.dispatcher.run_once() == 0
    clock.advance(timedelta(minutes=10))
    assert services.dispatcher.run_once() == 1
    assert len(outbox(tmp_path, "sms")) == 1


def test_two_dispatchers_racing_send_each_survey_once(make_services: ServicesFactory, tmp_path: Path) -> None:
    first = make_services()
    second = make_services()
    second.dispatcher.worker = "other-worker"
    first.ingestor.ingest([event(f"e{i}", contact=f"c{i}") for i in range(60)])
    barrier = threading.Barrier(2)

    def run(services: Services) -> None:
        barrier.wait()
        services.dispatcher.run_once()

    threads = [threading.Thread(target=run, args=(s,)) for s in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent_ids = [line["send_id"] for line in outbox(tmp_path, "sms")]
    assert len(sent_ids) == 60 and len(set(sent_ids)) == 60
    assert {s.status for s in sends(first.db)} == {"sent"}


def test_a_send_cancelled_after_its_claim_does_not_go_out(
    services: Services, clock: FakeClock, tmp_path: Path
) -> None:
    services.ingestor.ingest([event("e1")])
    with services.db.write() as conn:
        [send_id] = send_queries.claim_due(conn, now=clock.now(), worker=services.dispatcher.worker, limit=10)
        [claimed] = send_queries.load_claimed(conn, [send_id])
    services.ingestor.ingest([event("r1", type_="ticket.reopened")])
    services.dispatcher.deliver(claimed)
    assert outbox(tmp_path, "sms") == []
    assert sends(services.db)[0].status == "cancelled"


def test_an_opt_out_since_scheduling_stops_the_send(
    services: Services, clock: FakeClock, tmp_path: Path
) -> None:
    services.ingestor.ingest([event("e1")])
    with services.db.write() as conn:
        key = services.address_keys.key("sms", "+14155550100")
        queries.add_opt_out(conn, key=key, channel="sms", source="test", now=clock.now())
    services.dispatcher.run_once()
    assert outbox(tmp_path, "sms") == []
    [send] = sends(services.db)
    assert (send.status, send.reason) == ("suppressed", "opted_out")


class CrashingChannel:
    """A provider call that never returns: the process dies while the send is in flight."""

    name = "sms"

    def send(self, message: OutboundMessage) -> SendOutcome:
        raise SystemExit("killed mid-send")

    def close(self) -> None:
        return None


def test_a_crash_mid_send_leaves_it_unknown_never_resent(
    make_services: ServicesFactory, clock: FakeClock, tmp_path: Path
) -> None:
    crashing = make_services(
        use_channels={"sms": CrashingChannel(), "email": LogChannel("email", tmp_path / "e.jsonl")}
    )
    crashing.ingestor.ingest([event("e1")])
    with contextlib.suppress(SystemExit):
        crashing.dispatcher.run_once()
    assert sends(crashing.db)[0].status == "sending"
    survivor = make_services()
    clock.advance(timedelta(minutes=6))
    assert survivor.dispatcher.recover() == (0, 1)
    assert survivor.dispatcher.run_once() == 0
    assert sends(survivor.db)[0].status == "unknown"
    assert outbox(tmp_path, "sms") == []


def test_claims_of_a_dead_worker_are_released_and_sent_once(
    services: Services, clock: FakeClock, tmp_path: Path
) -> None:
    services.ingestor.ingest([event("e1")])
    with services.db.write() as conn:
        send_queries.claim_due(conn, now=clock.now(), worker="dead-worker", limit=10)
    assert services.dispatcher.run_once() == 0
    clock.advance(timedelta(minutes=6))
    assert services.dispatcher.recover() == (1, 0)
    assert services.dispatcher.run_once() == 1
    assert len(outbox(tmp_path, "sms")) == 1


class ScriptedChannel:
    """Answers with the outcomes it is given, in order, and records what it was asked to send."""

    def __init__(self, *outcomes: SendOutcome) -> None:
        self.name = "sms"
        self.outcomes = list(outcomes)
        self.messages: list[OutboundMessage] = []

    def send(self, message: OutboundMessage) -> SendOutcome:
        self.messages.append(message)
        return self.outcomes.pop(0)

    def close(self) -> None:
        return None


def test_retry_outcomes_are_retried_later_and_failures_recorded(
    make_services: ServicesFactory, clock: FakeClock, tmp_path: Path
) -> None:
    channel = ScriptedChannel(
        SendOutcome("retry", retry_after=timedelta(seconds=30), reason="429"),
        SendOutcome("sent", provider_id="SM1"),
    )
    services = make_services(
        use_channels={"sms": channel, "email": LogChannel("email", tmp_path / "e.jsonl")}
    )
    services.ingestor.ingest([event("e1")])
    assert services.dispatcher.run_once() == 1
    assert sends(services.db)[0].status == "scheduled"
    assert services.dispatcher.run_once() == 0
    clock.advance(timedelta(seconds=30))
    services.dispatcher.run_once()
    [send] = sends(services.db)
    assert (send.status, send.provider_message_id, send.attempts) == ("sent", "SM1", 2)


def test_a_provider_opt_out_answer_opts_the_address_out(
    make_services: ServicesFactory, tmp_path: Path
) -> None:
    channel = ScriptedChannel(SendOutcome("failed", reason="21610 unsubscribed", opt_out=True))
    services = make_services(
        use_channels={"sms": channel, "email": LogChannel("email", tmp_path / "e.jsonl")}
    )
    services.ingestor.ingest([event("e1")])
    services.dispatcher.run_once()
    assert sends(services.db)[0].status == "failed"
    [again] = services.ingestor.ingest([event("e2", type_="ticket.solved", properties={"ticket_id": "T-2"})])
    assert again.decisions[0].outcome == "scheduled"
    assert sends(services.db)[1].channel == "email"  # the number is opted out; email is next


def test_quiet_hours_at_send_time_push_the_send_back(
    make_services: ServicesFactory, clock: FakeClock, tmp_path: Path
) -> None:
    services = make_services()
    services.ingestor.ingest([event("e1", details={"timezone": "UTC"})])
    quiet = make_services(throttle={"quiet_hours": {"start": "11:00", "end": "13:00"}})
    assert quiet.dispatcher.run_once() == 1
    [send] = sends(quiet.db)
    assert send.status == "scheduled" and send.due_at.hour == 13
    assert outbox(tmp_path, "sms") == []
    late = [d for d in decisions(quiet.db) if d.outcome == "deferred"]
    assert [(d.reason, d.detail) for d in late] == [("quiet_hours", "UTC, from the contact's timezone")]


def test_stopping_gives_claimed_sends_back_for_other_workers(services: Services, clock: FakeClock) -> None:
    from bot.app import start_background, stop_background

    services.ingestor.ingest([event(f"e{i}", contact=f"c{i}") for i in range(3)])
    services.dispatcher.stopping = True  # the dispatch job must not take these itself
    start_background(services, tick_seconds=3600)
    with services.db.write() as conn:
        claimed = send_queries.claim_due(conn, now=clock.now(), worker=services.dispatcher.worker, limit=10)
    assert len(claimed) == 3
    stop_background(services)
    assert services.scheduler is not None and not services.scheduler.running
    assert {s.status for s in sends(services.db)} == {"scheduled"}
    assert {s.claimed_by for s in sends(services.db)} == {None}


def test_a_claim_takes_no_more_than_the_batch(services: Services, clock: FakeClock) -> None:
    services.ingestor.ingest([event(f"e{i}", contact=f"c{i}") for i in range(12)])
    with services.db.write() as conn:
        first = send_queries.claim_due(conn, now=clock.now(), worker="w1", limit=5)
        second = send_queries.claim_due(conn, now=clock.now(), worker="w2", limit=5)
    assert (len(first), len(second)) == (5, 5) and not set(first) & set(second)
