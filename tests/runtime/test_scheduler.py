"""The background jobs: a send due now wakes dispatch at once instead of waiting for its tick;
cron lines count weekdays as cron does."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.app import Services, start_background, stop_background
from bot.runtime.scheduler import cron_problem, cron_trigger
from tests.helpers import event, sends, wait_until


def test_a_send_due_now_goes_out_without_waiting_for_the_tick(services: Services) -> None:
    start_background(services, tick_seconds=3600)  # the tick alone would wait an hour
    try:
        services.ingestor.ingest([event("e1")])
        # The background scheduler runs on real threads; 30 s is only a bound for failing.
        wait_until(
            lambda: sends(services.db)[0].status == "sent",
            "the send due now to go out (it must not wait for the tick)",
            timeout=30,
        )
    finally:
        stop_background(services)


def test_a_send_due_later_does_not_wake_dispatch(make_services: object) -> None:
    services = make_services(  # type: ignore[operator]
        triggers=[
            {"name": "t", "on": "ticket.solved", "survey": "support_csat", "channels": ["sms"], "delay": "1h"}
        ]
    )
    calls: list[str] = []
    services.ingestor.on_due = lambda: calls.append("woken")
    services.ingestor.ingest([event("e1")])
    assert calls == []


def test_cron_weekdays_count_from_sunday_like_cron() -> None:
    monday_9 = cron_trigger("0 9 * * 1", "Europe/London")
    sunday_eve = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)  # a Sunday
    assert monday_9.get_next_fire_time(None, sunday_eve) == datetime(
        2026, 11, 23, 9, 0, tzinfo=UTC
    ).astimezone(monday_9.timezone)
    named = cron_trigger("0 9 * * mon", "America/New_York")
    fire = named.get_next_fire_time(None, sunday_eve)
    assert (fire.weekday(), fire.hour, str(fire.tzinfo)) == (0, 9, "America/New_York")
    assert (
        cron_trigger("0 9 * * 0", "UTC").get_next_fire_time(None, datetime(2026, 11, 21, tzinfo=UTC)).day
        == 22
    )


def test_bad_cron_lines_are_explained() -> None:
    assert cron_problem("0 9 * * mon") is None
    assert "has 4 fields" in (cron_problem("0 9 * *") or "")
    assert "is not a cron schedule" in (cron_problem("0 25 * * *") or "")
