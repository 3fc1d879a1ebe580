"""Low-score alerts: posted once per send to the alert channel, with what a person needs to
follow up; claimed and resolved by button clicks signed like Slack's; reported in digests."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from bot.app import Services
from bot.runtime.clock import FakeClock
from bot.slack.alerts import AlertPoster
from bot.web.app import create_web_app
from storage import alerts as stored
from storage.db import Database
from tests.conftest import ServicesFactory
from tests.fakes.plugin import slack_overrides
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import button_click, signed_headers
from tests.slack.journeys import all_text, record_score

PROPERTIES = {"ticket_id": "T-7", "team": "billing", "agent": "sam"}


def alerts_of(services: Services) -> AlertPoster:
    assert services.slack and services.slack.alerts
    return services.slack.alerts


def test_a_low_score_is_posted_once_with_what_a_person_needs(
    make_services: ServicesFactory, fake_slack: FakeSlack
) -> None:
    services = make_services(**slack_overrides(fake_slack))
    send_id = record_score(services, "e1", score=1, comment="refund <took> ages", properties=PROPERTIES)
    record_score(services, "e2", score=3, contact="c2")  # CSAT 3 is not low (threshold 2)
    alerts_of(services).wait_idle()
    services.responses.record_rating(send_id, 2, "still bad", services.clock.now())  # changed, still low
    alerts_of(services).wait_idle()

    [post] = fake_slack.calls_to("chat.postMessage")
    assert post.params["channel"] == "C0ALERTS"  # the name resolved to its id
    text = all_text(post.params["blocks"])
    assert "*Low score: 1 of 5 on support_csat (CSAT)*" in text
    assert "\u201crefund &lt;took&gt; ages\u201d" in text
    assert "Contact: Ada (c1), answered by sms, after ticket.solved" in text
    assert "agent: sam · team: billing · ticket_id: T-7" in text
    buttons = post.params["blocks"][-1]["elements"]
    assert [(b["text"]["text"], b["value"]) for b in buttons] == [
        ("I'll follow up", send_id),
        ("Resolved", send_id),
    ]
    with services.db.read() as conn:
        row = stored.load_alert(conn, send_id)
    assert row and row.channel == "C0ALERTS" and row.ts and row.posted_at == services.clock.now()


def test_the_survey_threshold_decides_what_is_low(
    make_services: ServicesFactory, fake_slack: FakeSlack
) -> None:
    surveys = {"support_csat": {"low_score": 3}}
    services = make_services(**slack_overrides(fake_slack), surveys=_with(surveys))
    record_score(services, "e1", score=3)
    record_score(services, "e2", score=4, contact="c2")
    alerts_of(services).wait_idle()
    [post] = fake_slack.calls_to("chat.postMessage")
    assert "Low score: 3 of 5" in all_text(post.params["blocks"])


def test_two_processes_racing_one_low_score_post_one_alert(
    make_services: ServicesFactory, fake_slack: FakeSlack, db_url: str
) -> None:
    services = make_services(**slack_overrides(fake_slack))
    services.responses.listeners.clear()  # nobody posts it as it is recorded
    send_id = record_score(services, "e1", score=1)
    posters = [
        AlertPoster(
            Database(db_url),
            services.config,
            services.clock,
            services.slack.client,  # type: ignore[union-attr]
            services.slack.directory,  # type: ignore[union-attr]
            worker=f"w{i}",
        )
        for i in range(2)
    ]
    start = threading.Barrier(2)
    results: list[bool] = []

    def race(poster: AlertPoster) -> None:
        start.wait()
        results.append(poster.post(send_id, "support_csat", 1))

    threads = [threading.Thread(target=race, args=(p,)) for p in posters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, True]
    assert fake_slack.counts["/api/chat.postMessage"] == 1
    for poster in posters:
        poster.db.dispose()


def test_the_sweep_posts_what_was_missed_and_takes_over_a_dead_posters_claim(
    make_services: ServicesFactory, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    services = make_services(**slack_overrides(fake_slack))
    services.responses.listeners.clear()
    missed = record_score(services, "e1", score=1)
    orphan = record_score(services, "e2", score=2, contact="c2")
    with services.db.write() as conn:  # a process claimed it, then died before posting
        assert stored.claim_post(
            conn, send_id=orphan, survey="support_csat", score=2, worker="dead", now=clock.now(),
            stale_before=clock.now(),
        )  # fmt: skip
    alerts = alerts_of(services)
    assert alerts.sweep() == 1
    assert alerts.sweep() == 0  # the orphan's claim is still within its lease
    clock.advance(alerts.lease + timedelta(seconds=1))
    assert alerts.sweep() == 1
    assert alerts.sweep() == 0
    posted = {c.params["text"] for c in fake_slack.calls_to("chat.postMessage")}
    assert len(posted) == 2
    with services.db.read() as conn:
        assert all(stored.load_alert(conn, s).ts for s in (missed, orphan))  # type: ignore[union-attr]


def test_claimed_and_resolved_by_buttons_then_counted_in_the_digest(
    make_services: ServicesFactory, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    digest = {"name": "daily", "channel": "#cx-metrics", "schedule": "0 13 * * *", "window": "1d"}
    services = make_services(**slack_overrides(fake_slack), digests=[digest])
    posted_at = clock.now()
    ids = [record_score(services, f"e{i}", score=1, contact=f"c{i}") for i in range(3)]
    alerts_of(services).wait_idle()
    ts = {
        call.params["blocks"][-1]["elements"][0]["value"]: call
        for call in fake_slack.calls_to("chat.postMessage")
    }
    assert sorted(ts) == sorted(ids)

    with TestClient(create_web_app(services)) as client:
        clock.advance(timedelta(minutes=10))
        click(client, services, "alert_claim", ids[0], "U0SAM", "t1")
        clock.advance(timedelta(minutes=20))
        click(client, services, "alert_claim", ids[1], "U0KIM", "t2")
        click(client, services, "alert_claim", ids[0], "U0KIM", "t3")  # already Sam's
        clock.advance(timedelta(minutes=30))
        click(client, services, "alert_resolve", ids[0], "U0SAM", "t4")

    updates = fake_slack.calls_to("chat.update")
    assert len(updates) == 4
    first_claim = all_text(updates[0].params["blocks"])
    assert "<@U0SAM> is following up (since 22 Nov 12:10 UTC)" in first_claim
    assert [b["text"]["text"] for b in updates[0].params["blocks"][-1]["elements"]] == ["Resolved"]
    assert "<@U0SAM> is following up" in all_text(updates[2].params["blocks"])  # Kim's click changed nothing
    resolved = updates[3].params["blocks"]
    assert "Resolved by <@U0SAM> on 22 Nov 13:00 UTC" in all_text(resolved)
    assert all(b["type"] != "actions" for b in resolved)
    with services.db.read() as conn:
        rows = [stored.load_alert(conn, i) for i in ids]
    assert [(r.claimed_by, r.resolved_by) for r in rows if r] == [
        ("U0SAM", "U0SAM"),
        ("U0KIM", None),
        (None, None),
    ]

    clock.set(posted_at.replace(hour=13, minute=0, second=5))
    assert services.slack and services.slack.digests.run_scheduled("daily")
    waits = sorted(r.claimed_at - posted_at for r in rows if r and r.claimed_at)
    median = (waits[0] + waits[1]) / 2
    assert median == timedelta(minutes=20)
    report = fake_slack.calls_to("chat.postMessage")[-1]
    assert "Alerts: 3 posted, 2 claimed, 1 resolved, median time to claim 20m" in all_text(
        report.params["blocks"]
    )


def click(client: TestClient, services: Services, action: str, send_id: str, user: str, trigger: str) -> None:
    with services.db.read() as conn:
        row = stored.load_alert(conn, send_id)
    assert row and row.ts and row.channel
    body = button_click(action, send_id, user=user, channel=row.channel, ts=row.ts, trigger_id=trigger)
    answer = client.post("/slack/events", content=body, headers=signed_headers(body))
    assert answer.status_code == 200, answer.text


def _with(surveys: dict[str, Any]) -> dict[str, Any]:
    from tests.conftest import BASE_CONFIG

    merged = {name: dict(value) for name, value in BASE_CONFIG["surveys"].items()}
    for name, extra in surveys.items():
        merged[name] = merged[name] | extra
    return merged


def test_forget_redraws_the_contacts_alerts_without_the_erased_name_and_comment(
    make_services: ServicesFactory, fake_slack: FakeSlack, tmp_path: Any
) -> None:
    from bot.cli.commands import forget_contact

    services = make_services(**slack_overrides(fake_slack))
    send_id = record_score(services, "e1", score=1, comment="Sam was rude to me", properties=PROPERTIES)
    alerts_of(services).wait_idle()
    [post] = fake_slack.calls_to("chat.postMessage")
    assert "Sam was rude to me" in all_text(post.params["blocks"]) and "Ada" in all_text(
        post.params["blocks"]
    )

    report = forget_contact(services.config, contact_id="c1", phone=None, email=None)

    assert report.erased["slack_alerts_redrawn"] == 1
    [update] = fake_slack.calls_to("chat.update")
    with services.db.read() as conn:
        row = stored.load_alert(conn, send_id)
    assert row and (update.params["channel"], update.params["ts"]) == (row.channel, row.ts)
    redrawn = all_text(update.params["blocks"]) + update.params["text"]
    assert "Sam was rude to me" not in redrawn and "Ada" not in redrawn
    assert "1 of 5" in redrawn  # the anonymous score stays
    assert send_id in str(update.params["blocks"])


def test_the_fallback_text_of_an_alert_escapes_the_comment_when_posted_and_updated(
    make_services: ServicesFactory, fake_slack: FakeSlack
) -> None:
    services = make_services(**slack_overrides(fake_slack))
    hostile = "<!channel> <https://evil.example|Click> & <@U0BOSS>"
    send_id = record_score(services, "e1", score=1, comment=hostile)
    alerts_of(services).wait_idle()
    with TestClient(create_web_app(services)) as client:
        click(client, services, "alert_claim", send_id, "U0SAM", "t1")

    [post] = fake_slack.calls_to("chat.postMessage")
    [update] = fake_slack.calls_to("chat.update")
    escaped = "&lt;!channel&gt; &lt;https://evil.example|Click&gt; &amp; &lt;@U0BOSS&gt;"
    for call in (post, update):
        assert escaped in call.params["text"]
        assert "<" not in call.params["text"] and ">" not in call.params["text"]
