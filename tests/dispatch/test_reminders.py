"""A survey's one reminder: after `reminder.after`, only while unanswered and open, never twice,
and never counted as another survey."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import select

from bot.app import Services
from bot.cli.tables import explain_table
from bot.errors import ConfigError
from bot.privacy.erasure import Eraser
from bot.runtime.clock import FakeClock
from bot.sms.inbox import DeliveryReport, InboundSms
from storage.explain import contact_history
from storage.models import Reminder, Response
from storage.reminders import schedule_reminder
from tests.conftest import BASE_CONFIG, ServicesFactory, make_config
from tests.helpers import decisions, event, outbox, sends, sms_trigger

DAY = timedelta(days=1)


def reminding(**reminder: Any) -> dict[str, Any]:
    """The test config's surveys, with a reminder on `support_csat` (`after` 24h unless given)."""
    surveys = copy.deepcopy(BASE_CONFIG["surveys"])
    extra = {k: reminder.pop(k) for k in ("expires_after",) if k in reminder}
    surveys["support_csat"] |= {"reminder": {"after": "24h", **reminder}, **extra}
    return surveys


def reminded(db: Any) -> list[Any]:
    with db.read() as conn:
        return list(conn.execute(select(Reminder.__table__)))  # type: ignore[attr-defined]


def reminder_decisions(services: Services) -> list[tuple[str, str | None]]:
    return [(d.outcome, d.reason) for d in decisions(services.db) if d.outcome.startswith("reminder_")]


def sms_lines(tmp_path: Path) -> list[str]:
    return [line["body"] for line in outbox(tmp_path, "sms")]


@pytest.fixture
def reminder_services(make_services: ServicesFactory) -> Services:
    cancel = {"type": "ticket.reopened", "match": ["properties.ticket_id"]}
    return make_services(surveys=reminding(), triggers=[sms_trigger(cancel_on=cancel)])


def first_ask(services: Services, **details: Any) -> str:
    """Ingest one ticket.solved event and send its survey; returns the send's id."""
    services.ingestor.ingest([event("e1", details=details)])
    assert services.dispatcher.run_once() == 1
    [send] = sends(services.db)
    return str(send.id)


def run_reminders(services: Services) -> int:
    assert services.reminders is not None
    return services.reminders.run_once()


def test_the_reminder_goes_once_24_hours_after_the_first_ask(
    reminder_services: Services, clock: FakeClock, tmp_path: Path
) -> None:
    services = reminder_services
    send_id = first_ask(services)
    clock.advance(DAY - timedelta(minutes=1))
    assert run_reminders(services) == 0
    assert len(sms_lines(tmp_path)) == 1
    clock.advance(timedelta(minutes=1))
    assert run_reminders(services) == 1
    clock.advance(DAY)
    assert run_reminders(services) == 0
    first, reminder = outbox(tmp_path, "sms")
    assert reminder["body"] == "Reminder: " + first["body"]
    assert reminder["to"] == first["to"] and reminder["send_id"] == f"{send_id}.reminder"
    [row] = reminded(services.db)
    assert (row.send_id, row.status, row.sent_at) == (send_id, "sent", clock.now() - DAY)
    assert len(sends(services.db)) == 1, "a reminder is not another send"
    assert reminder_decisions(services) == [("reminder_scheduled", None)]


def test_a_reply_to_the_reminder_is_the_first_asks_one_response(
    reminder_services: Services, clock: FakeClock
) -> None:
    services = reminder_services
    send_id = first_ask(services)
    clock.advance(DAY)
    run_reminders(services)
    services.sms_inbox.receive(InboundSms("SM1", "+14155550100", "+15550001111", "4"))
    with services.db.read() as conn:
        [response] = conn.execute(select(Response.__table__))  # type: ignore[attr-defined]
    assert (response.send_id, response.score, response.counted) == (send_id, 4, True)


def test_no_reminder_after_a_response(reminder_services: Services, clock: FakeClock, tmp_path: Path) -> None:
    services = reminder_services
    send_id = first_ask(services)
    clock.advance(timedelta(hours=3))
    services.responses.record_rating(send_id, 5, None, clock.now())
    clock.advance(DAY)
    assert run_reminders(services) == 1
    assert len(sms_lines(tmp_path)) == 1
    assert reminder_decisions(services)[-1] == ("reminder_dropped", "responded")
    assert reminded(services.db)[0].status == "suppressed"


def test_no_reminder_once_the_survey_expired(
    make_services: ServicesFactory, clock: FakeClock, tmp_path: Path
) -> None:
    services = make_services(surveys=reminding(expires_after="25h"), triggers=[sms_trigger()])
    first_ask(services)
    clock.advance(timedelta(hours=26))  # the bot was down when the reminder fell due
    run_reminders(services)
    assert len(sms_lines(tmp_path)) == 1
    assert reminder_decisions(services)[-1] == ("reminder_dropped", "expired")


def test_no_reminder_after_stop(reminder_services: Services, clock: FakeClock, tmp_path: Path) -> None:
    services = reminder_services
    first_ask(services)
    services.sms_inbox.receive(InboundSms("SM1", "+14155550100", "+15550001111", "STOP"))
    clock.advance(DAY)
    run_reminders(services)
    assert len(sms_lines(tmp_path)) == 1
    assert reminder_decisions(services)[-1] == ("reminder_dropped", "opted_out")


def test_no_reminder_to_a_forgotten_contact(
    reminder_services: Services, clock: FakeClock, tmp_path: Path
) -> None:
    services = reminder_services
    first_ask(services)
    Eraser(services.db, services.config, clock, services.address_keys).forget(["c1"])
    clock.advance(DAY)
    run_reminders(services)
    assert len(sms_lines(tmp_path)) == 1
    assert reminder_decisions(services)[-1] == ("reminder_dropped", "forgotten")


def test_no_reminder_when_the_first_ask_was_not_delivered(
    reminder_services: Services, clock: FakeClock, tmp_path: Path
) -> None:
    services = reminder_services
    first_ask(services)
    [send] = sends(services.db)
    services.sms_inbox.record_report(DeliveryReport(send.provider_message_id, "undelivered", "30003"))
    clock.advance(DAY)
    run_reminders(services)
    assert len(sms_lines(tmp_path)) == 1
    assert reminder_decisions(services)[-1] == ("reminder_dropped", "not_delivered")


def test_no_reminder_once_a_newer_survey_reached_the_contact(
    make_services: ServicesFactory, clock: FakeClock, tmp_path: Path
) -> None:
    services = make_services(surveys=reminding(), triggers=[sms_trigger(), BASE_CONFIG["triggers"][1]])
    first_ask(services)
    clock.advance(timedelta(hours=12))
    services.ingestor.ingest([event("e2", type_="order.delivered")])
    services.dispatcher.run_once()
    clock.advance(timedelta(hours=12))
    run_reminders(services)
    assert len(sms_lines(tmp_path)) == 1 and len(outbox(tmp_path, "email")) == 1
    assert reminder_decisions(services)[-1] == ("reminder_dropped", "superseded")


def test_a_reminder_whose_send_is_gone_is_dropped_not_claimed_again(
    reminder_services: Services, clock: FakeClock
) -> None:
    services = reminder_services
    with services.db.write() as conn:
        schedule_reminder(conn, send_id="snd_gone", due_at=clock.now(), now=clock.now())
    assert run_reminders(services) == 0
    [row] = reminded(services.db)
    assert (row.status, row.reason) == ("suppressed", "no_send")


def test_a_cancel_on_event_drops_the_reminder_and_another_ticket_does_not(
    make_services: ServicesFactory, clock: FakeClock, tmp_path: Path
) -> None:
    cancel = {"type": "ticket.reopened", "match": ["properties.ticket_id"]}
    services = make_services(surveys=reminding(), triggers=[sms_trigger(cancel_on=cancel)])
    services.ingestor.ingest(
        [event("a", contact="c1"), event("b", contact="c2", details={"phone": "+14155550101"})]
    )
    services.dispatcher.run_once()
    clock.advance(timedelta(hours=2))
    services.ingestor.ingest(
        [
            event("a2", type_="ticket.reopened", contact="c1"),
            event("b2", type_="ticket.reopened", contact="c2", properties={"ticket_id": "T-other"}),
        ]
    )
    clock.advance(DAY)
    run_reminders(services)
    assert [line["to"] for line in outbox(tmp_path, "sms")][2:] == ["+14155550101"]
    assert ("reminder_dropped", "cancel_on") in reminder_decisions(services)


def test_quiet_hours_defer_the_reminder_to_their_end(
    make_services: ServicesFactory, clock: FakeClock, tmp_path: Path
) -> None:
    services = make_services(
        surveys=reminding(after="25h"),
        triggers=[sms_trigger()],
        throttle={"quiet_hours": {"start": "20:00", "end": "09:00"}},
    )
    clock.set(datetime(2026, 11, 22, 19, 30, tzinfo=UTC))
    first_ask(services, timezone="Europe/London")
    clock.advance(timedelta(hours=25))  # 20:30 the next day: quiet
    run_reminders(services)
    assert len(sms_lines(tmp_path)) == 1
    assert reminded(services.db)[0].due_at == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    clock.set(datetime(2026, 11, 24, 8, 59, tzinfo=UTC))
    assert run_reminders(services) == 0
    clock.set(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    assert run_reminders(services) == 1
    assert len(sms_lines(tmp_path)) == 2
    assert reminder_decisions(services) == [
        ("reminder_scheduled", None),
        ("reminder_deferred", "quiet_hours"),
    ]


def test_a_reminder_restarts_no_cooldown_and_fills_no_cap(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = make_services(
        surveys=reminding(),
        triggers=[sms_trigger()],
        throttle={"contact_cooldown": "36h", "max_per_contact": {"count": 2, "per": "90d"}},
    )
    first_ask(services)
    clock.advance(DAY)
    assert run_reminders(services) == 1
    clock.advance(timedelta(hours=12, minutes=1))  # 36h after the first ask, 12h after its reminder
    [result] = services.ingestor.ingest([event("e2", properties={"ticket_id": "T-2"})])
    assert [d.outcome for d in result.decisions] == ["scheduled"]


def test_a_test_send_gets_no_reminder(reminder_services: Services, clock: FakeClock) -> None:
    services = reminder_services
    from triggers.events import parse_event

    parsed = parse_event(event("t1"), clock.now(), None)
    services.dispatcher.send_test(parsed, survey="support_csat", channel="sms")
    assert reminded(services.db) == []


def test_the_email_reminder_answers_the_first_ask(
    make_services: ServicesFactory, clock: FakeClock, tmp_path: Path
) -> None:
    services = make_services(
        surveys=reminding(
            email={"subject": "Still there, {{ contact.name }}?", "body": "One click: {{ link }}"}
        ),
        triggers=[sms_trigger(channels=["email"])],
    )
    send_id = first_ask(services)
    clock.advance(DAY)
    run_reminders(services)
    first, reminder = outbox(tmp_path, "email")
    assert reminder["subject"] == "Still there, Ada?"
    tokens = {score: url.rsplit("/", 1)[1] for score, url in reminder["links"].items()}
    assert {services.links.read_rating_token(t) for t in tokens.values()} == {
        (send_id, score) for score in range(1, 6)
    }
    assert reminder["body"] == f"One click: {reminder['links']['5']}"
    assert first["subject"] == "How did we do?"


def test_the_default_email_reminder_prefixes_the_subject(
    make_services: ServicesFactory, clock: FakeClock, tmp_path: Path
) -> None:
    services = make_services(surveys=reminding(), triggers=[sms_trigger(channels=["email"])])
    first_ask(services)
    clock.advance(DAY)
    run_reminders(services)
    first, reminder = outbox(tmp_path, "email")
    assert reminder["subject"] == "Reminder: How did we do?" and reminder["body"] == first["body"]


def test_explain_shows_each_reminder_decision(reminder_services: Services, clock: FakeClock) -> None:
    services = reminder_services
    send_id = first_ask(services)
    clock.advance(timedelta(hours=1))
    services.responses.record_rating(send_id, 2, None, clock.now())
    clock.advance(DAY)
    run_reminders(services)
    with services.db.read() as conn:
        history = contact_history(conn, "c1")
    shown = [(d["outcome"], d["reason"], d["send_id"]) for d in history.decisions]
    assert shown[-2:] == [("reminder_scheduled", None, send_id), ("reminder_dropped", "responded", send_id)]
    assert [(r["send_id"], r["status"], r["reason"]) for r in history.reminders] == [
        (send_id, "suppressed", "responded")
    ]
    console = Console(width=300, record=True)
    console.print(explain_table("c1", history))
    shown_text = console.export_text()
    assert "reminder_dropped (responded)" in shown_text
    assert f"reminder of {send_id} by sms: suppressed (responded)" in shown_text


def test_a_reminder_after_the_expiry_is_a_config_error_naming_both(db_url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        make_config(db_url, tmp_path, surveys=reminding(after="4d", expires_after="3d"))
    assert "surveys.support_csat: reminder.after (4d)" in str(raised.value)
    assert "expires_after (3d)" in str(raised.value)


def test_a_misspelt_reminder_key_is_named_with_the_right_one(db_url: str, tmp_path: Path) -> None:
    surveys = reminding()
    surveys["support_csat"]["reminder"]["aftr"] = "1h"
    with pytest.raises(ConfigError) as raised:
        make_config(db_url, tmp_path, surveys=surveys)
    assert "surveys.support_csat.reminder.aftr: is not a known key here: did you mean 'after'?" in str(
        raised.value
    )


def test_a_reminder_template_that_does_not_compile_is_named_by_its_path(db_url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        make_config(db_url, tmp_path, surveys=reminding(sms="Still there {{ contact.name "))
    assert "surveys.support_csat.reminder.sms: the template does not compile" in str(raised.value)


def test_a_reminder_speaks_the_language_the_first_ask_spoke(
    make_services: ServicesFactory, clock: FakeClock, tmp_path: Path
) -> None:
    surveys = reminding()
    surveys["support_csat"]["translations"] = {
        "fr": {
            "sms": "Notez le ticket {{ properties.ticket_id }} de 1 à 5",
            "reminder": {"sms": "Toujours là ?"},
        },
        "pt": {"sms": "Avalie o ticket {{ properties.ticket_id }} de 1 a 5"},
    }
    services = make_services(surveys=surveys, triggers=[sms_trigger()])
    services.ingestor.ingest([event("e1", contact="c1", details={"locale": "fr-CA"})])
    services.ingestor.ingest(
        [event("e2", contact="c2", details={"locale": "pt-BR", "phone": "+14155550101"})]
    )
    services.ingestor.ingest([event("e3", contact="c3", details={"locale": "ja", "phone": "+14155550102"})])
    assert services.dispatcher.run_once() == 3
    clock.advance(DAY)
    assert run_reminders(services) == 3
    by_phone = {line["to"]: line["body"] for line in outbox(tmp_path, "sms")[3:]}
    assert by_phone == {
        "+14155550100": "Toujours là ?",  # the translation's own reminder text
        "+14155550101": "Lembrete: Avalie o ticket T-1 de 1 a 5",  # none given: the word, then the question
        "+14155550102": "Reminder: Hi Ada, rate ticket T-1 1-5",  # no translation: the survey's own
    }


def test_a_translated_reminder_without_a_reminder_on_the_survey_sends_nothing_more(
    make_services: ServicesFactory, clock: FakeClock, tmp_path: Path
) -> None:
    surveys = copy.deepcopy(BASE_CONFIG["surveys"])
    surveys["support_csat"]["translations"] = {"fr": {"reminder": {"sms": "Toujours là ?"}}}
    services = make_services(surveys=surveys, triggers=[sms_trigger()])
    services.ingestor.ingest([event("e1", details={"locale": "fr"})])
    assert services.dispatcher.run_once() == 1
    clock.advance(DAY)
    assert run_reminders(services) == 0
    assert len(outbox(tmp_path, "sms")) == 1
