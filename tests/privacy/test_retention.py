"""The daily retention purge: old events go, old comments and SMS texts are emptied, the
scores and their metrics stay, and each purge is recorded for `explain`."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from bot.metrics.report import build_digest_report
from bot.privacy.retention import RetentionPurge
from storage.models import Event, Purge
from storage.retention import latest_purges
from tests.sms.conftest import SmsWorld, WorldFactory, rows

DIGEST = {"name": "weekly", "channel": "#cx", "schedule": "0 9 * * mon", "window": "7d",
          "group_by": ["properties.team"]}  # fmt: skip


def purge(world: SmsWorld, chunk: int = 5000) -> dict[str, int]:
    s = world.services
    return RetentionPurge(s.db, s.config, s.clock, chunk=chunk).run()


def event_ids(world: SmsWorld) -> list[str]:
    return sorted(e.event_id for e in rows(world.services.db, Event, "received_at"))


def test_old_events_go_but_their_scores_still_count(make_world: WorldFactory) -> None:
    world = make_world(digests=[DIGEST])
    start = world.clock.now()
    world.survey("old", properties={"team": "billing"})
    world.text("2 slow")
    world.ingest("pending", contact="c3", details={"phone": "+14155550133"})  # never dispatched
    digest, end = world.services.config.digests[0], start + timedelta(hours=1)
    with world.services.db.read() as conn:
        before = build_digest_report(conn, config=world.services.config, digest=digest, end=end)
    world.clock.advance(timedelta(days=100))
    world.ingest("new", contact="c2", details={"phone": "+14155550122"})

    assert purge(world, chunk=1) == {"events": 1, "comments": 0, "inbound_messages": 0}

    assert event_ids(world) == ["new", "pending"]  # a send not gone out still needs its event
    with world.services.db.read() as conn:
        after = build_digest_report(conn, config=world.services.config, digest=digest, end=end)
        assert latest_purges(conn) == {"events": world.clock.now() - timedelta(days=90)}
    [section], [old_section] = after.sections[:1], before.sections[:1]
    assert (section.estimate, section.sends_left, section.responded, section.comments) == (
        old_section.estimate, old_section.sends_left, old_section.responded, old_section.comments
    )  # fmt: skip
    [by_team] = section.breakdowns
    assert [line.value for line in by_team.lines] == [None]  # the event held the team
    assert replace(by_team.lines[0], value="billing") == old_section.breakdowns[0].lines[0]


def test_old_comments_and_sms_texts_are_emptied_once(make_world: WorldFactory) -> None:
    world = make_world()
    world.survey("e1")
    world.text("2 slow")
    world.clock.advance(timedelta(days=366))

    assert purge(world) == {"events": 1, "comments": 1, "inbound_messages": 1}
    [response] = world.responses()
    assert (response.score, response.comment) == (2, None)
    [message] = world.inbound()
    assert (message.body, message.from_address, message.kind) == ("", "", "score")
    assert set(purge(world).values()) == {0}
    with world.services.db.read() as conn:
        assert len(conn.execute(select(Purge.__table__)).all()) == 3  # type: ignore[attr-defined]


def test_a_retention_of_null_keeps_for_ever(make_world: WorldFactory) -> None:
    world = make_world(retention={"events": None, "comments": None, "inbound_messages": None})
    world.survey("e1")
    world.text("2 slow")
    world.clock.advance(timedelta(days=3000))

    assert purge(world) == {}
    assert event_ids(world) == ["e1"] and world.responses()[0].comment == "slow"
