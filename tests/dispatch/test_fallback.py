"""A trigger's `fallback: true`: a failed or undelivered send tries the contact's next channel,
once, within the survey's window, recorded as a decision with the provider's reason; never
after `unknown`, and never counted as another survey."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import func, select

from bot.cli.commands import explain_contact
from bot.dispatch.fallback import fall_back
from storage.explain import timeline
from storage.metrics import send_counts
from storage.models import OutcomeLink, OutcomeRollup
from storage.outcomes import NO_ANSWER, rebuild_outcomes
from tests.fakes.smtp_server import FakeSmtpServer
from tests.fakes.twilio_api import FakeTwilio
from tests.sms.conftest import PHONE, SmsWorld, WorldFactory, make_world, twilio_settings
from triggers.follow_ups import follow_ups

__all__ = ["make_world"]  # the SMS world's fixture, used here too

LINKS = OutcomeLink.__table__  # type: ignore[attr-defined]
ROLLUPS = OutcomeRollup.__table__  # type: ignore[attr-defined]
SMS_THEN_EMAIL = {"name": "csat_after_ticket", "on": "ticket.solved", "survey": "support_csat",
                  "channels": ["sms", "email"], "fallback": True}  # fmt: skip


def emails(tmp_path: Path) -> list[dict[str, Any]]:
    outbox = tmp_path / "outbox/email.jsonl"
    return [orjson.loads(line) for line in outbox.read_bytes().splitlines()] if outbox.exists() else []


def fallback_decisions(world: SmsWorld, contact: str = "c1") -> list[tuple[str, str | None, str | None]]:
    history = explain_contact(world.services.config, contact)
    return [(d["outcome"], d["reason"], d["detail"]) for d in history.decisions if "fallback" in d["outcome"]]


def test_a_refused_sms_falls_back_to_email_once(make_world: WorldFactory, tmp_path: Path) -> None:
    world = make_world(triggers=[SMS_THEN_EMAIL])
    world.fake.fail_next(1, "invalid_number")
    first = world.survey("e1")
    assert (first.channel, first.status) == ("sms", "failed")

    world.clock.advance(timedelta(seconds=1))
    world.services.dispatcher.run_once()
    sms, email = world.sends()
    assert (email.channel, email.status, email.fallback_of, email.to_address) == (
        "email", "sent", sms.id, "c1@example.com",
    )  # fmt: skip
    assert [mail["send_id"] for mail in emails(tmp_path)] == [email.id]
    [(outcome, reason, detail)] = fallback_decisions(world)
    assert outcome == "fallback"
    assert reason is not None and "21211" in reason  # the provider's own reason
    assert detail == "sms failed; the survey goes by email"
    lines = [m.what for m in timeline(explain_contact(world.services.config, "c1"))]
    assert any("csat_after_ticket: fallback (Twilio error 21211" in line for line in lines)


def test_an_undelivered_report_falls_back_and_a_repeat_changes_nothing(
    make_world: WorldFactory, tmp_path: Path
) -> None:
    world = make_world(triggers=[SMS_THEN_EMAIL])
    sms = world.survey("e1")
    world.report(sms.provider_message_id, "undelivered", "30003")
    world.report(sms.provider_message_id, "failed", "30003")
    world.services.dispatcher.run_once()

    statuses = [(s.channel, s.status) for s in world.sends()]
    assert statuses == [("sms", "undelivered"), ("email", "sent")]
    assert [(o, r) for o, r, _ in fallback_decisions(world)] == [("fallback", "Twilio error 30003")]
    assert len(emails(tmp_path)) == 1
    day = (world.clock.now() - timedelta(days=1), world.clock.now() + timedelta(days=1))
    with world.services.db.read() as conn:
        [row] = send_counts(conn, surveys=["support_csat"], start=day[0], end=day[1])
    assert row.left == 1  # one survey asked, for the response rate: the fallback, not both


def test_the_fallback_happens_at_most_once_even_when_asked_twice(make_world: WorldFactory) -> None:
    world = make_world(triggers=[SMS_THEN_EMAIL])
    world.fake.fail_next(1, "invalid_number")
    sms = world.survey("e1")  # the dispatcher already made its fallback
    services = world.services
    with services.db.write() as conn:
        again = fall_back(conn, config=services.config, address_keys=services.address_keys,
                          send_id=sms.id, reason="again", now=world.clock.now())  # fmt: skip
    assert again is None
    assert [s.channel for s in world.sends()] == ["sms", "email"]


def test_no_fallback_after_an_unknown_outcome(make_world: WorldFactory, tmp_path: Path) -> None:
    world = make_world(triggers=[SMS_THEN_EMAIL])
    world.fake.fail_next(1, "server_error")  # Twilio may have taken it
    sms = world.survey("e1")
    assert sms.status == "unknown"
    world.report(sms.provider_message_id or "SM" + "0" * 32, "undelivered", "30003")
    world.services.dispatcher.run_once()
    assert [s.channel for s in world.sends()] == ["sms"]
    assert emails(tmp_path) == []


def test_a_report_after_unknown_does_not_fall_back_either(make_world: WorldFactory) -> None:
    world = make_world(triggers=[SMS_THEN_EMAIL])
    world.fake.fail_next(1, "drop")  # the message reached Twilio, its answer was lost
    sms = world.survey("e1")
    assert sms.status == "unknown"
    [message] = world.fake.messages
    with world.services.db.write() as conn:  # Twilio's later report finds it by its SID
        from sqlalchemy import update

        from storage.models import Send

        table = Send.__table__  # type: ignore[attr-defined]
        conn.execute(update(table).where(table.c.id == sms.id).values(provider_message_id=message["sid"]))
    world.report(message["sid"], "undelivered", "30003")
    assert [(s.channel, s.status) for s in world.sends()] == [("sms", "undelivered")]


def test_without_fallback_a_failed_send_stays_failed(make_world: WorldFactory) -> None:
    world = make_world(triggers=[{**SMS_THEN_EMAIL, "fallback": False}])
    world.fake.fail_next(1, "invalid_number")
    world.survey("e1")
    world.services.dispatcher.run_once()
    assert [(s.channel, s.status) for s in world.sends()] == [("sms", "failed")]
    assert fallback_decisions(world) == []


def test_a_report_after_the_survey_closed_is_too_late(make_world: WorldFactory) -> None:
    world = make_world(triggers=[SMS_THEN_EMAIL])
    sms = world.survey("e1")
    world.clock.advance(timedelta(days=3, seconds=1))  # expires_after: 3d
    world.report(sms.provider_message_id, "undelivered", "30005")
    world.services.dispatcher.run_once()
    assert [s.channel for s in world.sends()] == ["sms"]
    assert fallback_decisions(world) == [("no_fallback", "too_late", "sms undelivered: Twilio error 30005")]


def test_a_contact_with_no_other_address_gets_no_fallback(make_world: WorldFactory) -> None:
    world = make_world(triggers=[SMS_THEN_EMAIL])
    world.fake.fail_next(1, "invalid_number")
    from tests.helpers import event

    world.services.ingestor.ingest([event("e1", details={"email": None})])
    world.services.dispatcher.run_once()
    assert [s.channel for s in world.sends()] == ["sms"]
    [(outcome, reason, detail)] = fallback_decisions(world)
    assert (outcome, reason) == ("no_fallback", "no_channel")
    assert detail is not None and detail.startswith("sms failed: Twilio error 21211")


def test_a_send_and_its_fallback_count_once_against_the_contact_cap(make_world: WorldFactory) -> None:
    throttle = {"max_per_contact": {"count": 2, "per": "30d"}}
    world = make_world(triggers=[SMS_THEN_EMAIL], throttle=throttle)
    sms = world.survey("e1")
    world.report(sms.provider_message_id, "undelivered", "30003")
    world.services.dispatcher.run_once()
    assert world.ingest("e2").outcome == "scheduled"  # the pair was one survey, not two
    assert (world.ingest("e3").outcome, world.ingest("e4").reason) == ("suppressed", "contact_cap")


def test_an_smtp_permanent_failure_falls_back_to_sms(
    make_world: WorldFactory, fake_twilio: FakeTwilio, smtp_server: FakeSmtpServer, tmp_path: Path
) -> None:
    channels = twilio_settings(fake_twilio, tmp_path) | {
        "email": {"provider": "smtp", "host": "127.0.0.1", "port": smtp_server.port, "starttls": False,
                  "from": "Acme <support@acme.example>", "timeout_seconds": 5},
    }  # fmt: skip
    world = make_world(triggers=[{**SMS_THEN_EMAIL, "channels": ["email", "sms"]}], channels=channels)
    smtp_server.refuse_next("RCPT", 550, "5.1.1 No such user")
    email = world.survey("e1")
    assert (email.channel, email.status) == ("email", "failed")
    world.services.dispatcher.run_once()
    assert [(s.channel, s.status) for s in world.sends()] == [("email", "failed"), ("sms", "sent")]
    assert [m["to"] for m in world.fake.messages] == [PHONE]
    [(outcome, reason, _)] = fallback_decisions(world)
    assert outcome == "fallback" and reason is not None and "550" in reason


def test_an_undelivered_send_and_its_fallback_are_followed_as_one_survey_for_outcomes(
    make_world: WorldFactory,
) -> None:
    outcomes = {"churn": {"on": "subscription.cancelled", "within": "90d"}}
    world = make_world(triggers=[SMS_THEN_EMAIL], outcomes=outcomes)
    sms = world.survey("e1")
    world.report(sms.provider_message_id, "undelivered", "30003")
    world.services.dispatcher.run_once()
    _, email = world.sends()

    def followed() -> list[tuple[str, int]]:
        with world.services.db.read() as conn:
            links = conn.execute(select(LINKS.c.send_id, LINKS.c.score)).all()
            rolled = conn.execute(select(func.sum(ROLLUPS.c.n))).scalar_one()
        return [(row.send_id, row.score) for row in links] + [("rolled", int(rolled or 0))]

    kept = followed()
    assert kept == [(email.id, NO_ANSWER), ("rolled", 1)]  # the "no answer" row counts it once
    with world.services.db.write() as conn:
        rebuild_outcomes(conn, follow_ups(world.services.config.outcomes), world.clock.now())
    assert followed() == kept  # the same as from the rows
