"""Scheduled digests: each window posted once, across processes and restarts; a window missed
while the bot was down is posted when it comes back; charts go to the channel's id."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
from datetime import UTC, datetime, timedelta

from bot.app import Services, build_services, start_background, stop_background
from bot.config import Config
from bot.runtime.clock import FakeClock
from storage import digest_posts
from storage.db import Database
from tests.conftest import ServicesFactory
from tests.fakes.plugin import slack_overrides
from tests.fakes.slack_api import FakeSlack
from tests.slack.journeys import all_text

WEEKLY = {
    "name": "weekly_cx",
    "channel": "#cx-metrics",
    "schedule": "0 9 * * 1",  # Mondays: cron counts 0 as Sunday
    "timezone": "America/New_York",
    "window": "7d",
    "chart": True,
}
MONDAY_0900_NEW_YORK = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def digest_services(make_services: ServicesFactory, fake: FakeSlack, **digest: object) -> Services:
    return make_services(**slack_overrides(fake), digests=[WEEKLY | digest])


def posted(services: Services, name: str = "weekly_cx") -> list[datetime]:
    with services.db.read() as conn:
        return digest_posts.posted_windows(conn, digest=name)


def test_the_window_ends_at_the_scheduled_time_in_the_digests_zone(
    make_services: ServicesFactory, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    services = digest_services(make_services, fake_slack)
    clock.set(MONDAY_0900_NEW_YORK + timedelta(seconds=3))  # the job runs a little late
    assert services.slack and services.slack.digests.run_scheduled("weekly_cx")
    assert not services.slack.digests.run_scheduled("weekly_cx")  # the same window: once
    assert posted(services) == [MONDAY_0900_NEW_YORK]
    [message] = fake_slack.calls_to("chat.postMessage")
    assert message.params["channel"] == "C0CX"
    text = all_text(message.params["blocks"])
    assert "Mon 16 Nov 2026 09:00 to Mon 23 Nov 2026 08:59 (America/New_York)" in text
    uploads = list(fake_slack.uploads.values())
    assert [u.filename for u in uploads] == ["weekly_cx-support_csat.png", "weekly_cx-delivery_nps.png"]
    assert all(u.channel == "C0CX" and u.data and u.data.startswith(b"\x89PNG") for u in uploads)


def test_channel_ids_are_looked_up_once(
    make_services: ServicesFactory, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    services = digest_services(make_services, fake_slack, schedule="0 * * * *", chart=False)
    assert services.slack
    for hour in range(3):
        clock.set(datetime(2026, 11, 23, 10 + hour, 0, 1, tzinfo=UTC))
        assert services.slack.digests.run_scheduled("weekly_cx")
    assert fake_slack.counts["/api/chat.postMessage"] == 3
    assert fake_slack.counts["/api/conversations.list"] == 1


def test_a_window_missed_while_down_is_posted_on_start_and_only_the_latest(
    make_services: ServicesFactory, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    first = digest_services(make_services, fake_slack, chart=False)
    clock.set(MONDAY_0900_NEW_YORK)
    assert first.slack and first.slack.digests.run_scheduled("weekly_cx")
    first.close()
    # Down for three Mondays; it comes back on a Wednesday.
    clock.set(MONDAY_0900_NEW_YORK + timedelta(days=23))
    restarted = digest_services(make_services, fake_slack, chart=False)
    assert restarted.slack
    latest_missed = MONDAY_0900_NEW_YORK + timedelta(days=21)
    assert restarted.slack.digests.catch_up() == [("weekly_cx", latest_missed)]
    assert restarted.slack.digests.catch_up() == []
    assert posted(restarted) == [MONDAY_0900_NEW_YORK, latest_missed]
    assert fake_slack.counts["/api/chat.postMessage"] == 2
    text = all_text(fake_slack.calls_to("chat.postMessage")[-1].params["blocks"])
    assert "Mon 07 Dec 2026 09:00 to Mon 14 Dec 2026 08:59" in text


def test_a_digest_never_posted_has_nothing_to_catch_up(
    make_services: ServicesFactory, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    services = digest_services(make_services, fake_slack)
    clock.set(MONDAY_0900_NEW_YORK + timedelta(days=2))
    assert services.slack and services.slack.digests.catch_up() == []
    assert fake_slack.counts["/api/chat.postMessage"] == 0


def test_a_claim_left_by_a_dead_process_is_taken_over_after_the_lease(
    make_services: ServicesFactory, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    services = digest_services(make_services, fake_slack, chart=False)
    clock.set(MONDAY_0900_NEW_YORK)
    with services.db.write() as conn:
        assert digest_posts.claim_window(
            conn, digest="weekly_cx", window_end=MONDAY_0900_NEW_YORK, worker="dead",
            now=clock.now(), stale_before=clock.now(),
        )  # fmt: skip
    assert services.slack
    assert not services.slack.digests.run_scheduled("weekly_cx")  # someone holds it
    clock.advance(timedelta(minutes=5))
    assert services.slack.digests.catch_up() == []  # within the lease
    clock.advance(services.slack.digests.lease)
    assert services.slack.digests.catch_up() == [("weekly_cx", MONDAY_0900_NEW_YORK)]
    assert fake_slack.counts["/api/chat.postMessage"] == 1
    assert posted(services) == [MONDAY_0900_NEW_YORK]


def run_window(
    config_json: str, worker: str, now: datetime, start: multiprocessing.synchronize.Barrier
) -> None:
    """In a child process: the digest's cron job fires for the same window as the other's."""
    config = Config.model_validate_json(config_json)
    services = build_services(config, db=Database(config.storage.url), clock=FakeClock(now), worker=worker)
    assert services.slack
    start.wait()
    services.slack.digests.run_scheduled("weekly_cx")
    services.close()


def test_two_processes_post_one_window_once(
    make_services: ServicesFactory, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    services = digest_services(make_services, fake_slack, chart=False)
    clock.set(MONDAY_0900_NEW_YORK + timedelta(milliseconds=40))
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(3)
    config_json = services.config.model_dump_json(by_alias=True)
    workers = [
        context.Process(target=run_window, args=(config_json, f"w{i}", clock.now(), start)) for i in range(2)
    ]
    for worker in workers:
        worker.start()
    start.wait()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    assert fake_slack.counts["/api/chat.postMessage"] == 1
    assert posted(services) == [MONDAY_0900_NEW_YORK]


def test_surveybot_run_schedules_each_digest_and_the_slack_jobs(
    make_services: ServicesFactory, fake_slack: FakeSlack
) -> None:
    services = digest_services(make_services, fake_slack, chart=False)
    scheduler = start_background(services, tick_seconds=3600)
    try:
        assert set(scheduler.job_ids()) >= {"digest:weekly_cx", "digest_catch_up", "alert_sweep"}
    finally:
        stop_background(services)
