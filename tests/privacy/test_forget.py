"""`surveybot forget`: a contact's personal data goes, their anonymous scores stay, and what
they asked for (STOP, unsubscribe) still holds."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import orjson
from click.testing import CliRunner
from fastapi.testclient import TestClient

from bot.cli.main import cli
from bot.metrics.digest import DigestReport, SurveySection
from bot.metrics.report import build_digest_report
from bot.privacy.erasure import Eraser, property_keeper
from bot.web.app import create_web_app
from storage.models import Contact, Decision, Event
from tests.conftest import make_config
from tests.helpers import write_config
from tests.sms.conftest import PHONE, SmsWorld, WorldFactory, rows

DIGEST = {"name": "weekly", "channel": "#cx", "schedule": "0 9 * * mon", "window": "7d",
          "group_by": ["properties.team", "properties.priority"]}  # fmt: skip
SECRET_TEXT = "my flat is 12 Baker St, call +14155550199"
PROPERTIES = {"ticket_id": "T-1", "team": "billing", "priority": 2, "vip": True, "subject": SECRET_TEXT,
              "customer": {"name": "Ada", "age": 36}}  # fmt: skip


def eraser(world: SmsWorld) -> Eraser:
    s = world.services
    return Eraser(s.db, s.config, s.clock, s.address_keys)


def forget(world: SmsWorld, contact_id: str) -> dict[str, int]:
    return eraser(world).forget([contact_id]).erased


def digest(world: SmsWorld) -> DigestReport:
    config = world.services.config
    with world.services.db.read() as conn:
        return build_digest_report(
            conn, config=config, digest=config.digests[0], end=world.clock.now() + timedelta(hours=1)
        )


def digest_numbers(world: SmsWorld) -> list[SurveySection]:
    """Every number of the digest: the sections without their comment texts."""
    return [replace(s, comments=[], comments_total=0, themes=[]) for s in digest(world).sections]


def digest_comments(world: SmsWorld) -> list[str]:
    return [c.text for s in digest(world).sections for c in s.comments]


def surveyed(make_world: WorldFactory) -> SmsWorld:
    """Two contacts answered by SMS: c1 (2, with a comment; the one forgotten) and c2 (5)."""
    world = make_world(digests=[DIGEST])
    world.survey("e1", properties=PROPERTIES)
    world.text("2 the agent was rude")
    other = {"id": "c2", "phone": "+14155550101", "email": "bo@example.com", "name": "Bo"}
    world.survey("e2", contact="c2", details=other, properties={"team": "sales", "ticket_id": "T-2"})
    world.text("5", from_="+14155550101")
    return world


def test_forget_erases_personal_data_and_the_metrics_do_not_change(make_world: WorldFactory) -> None:
    world = surveyed(make_world)
    before = digest_numbers(world)
    assert before[0].estimate is not None and before[0].estimate.n == 2
    assert digest_comments(world) == ["the agent was rude"]

    erased = forget(world, "c1")

    assert erased == {"contacts": 1, "send_addresses": 1, "event_properties": 1, "comments": 1,
                      "sms_messages": 1, "pending_sends_cancelled": 0, "outbox_messages": 0}  # fmt: skip
    assert digest_numbers(world) == before
    assert digest_comments(world) == []
    contacts = {c.id: c for c in rows(world.services.db, Contact, "id")}
    ada, bo = contacts["c1"], contacts["c2"]
    assert (ada.email, ada.phone, ada.name) == (None, None, None) and ada.forgotten_at == world.clock.now()
    assert (bo.email, bo.phone, bo.name, bo.forgotten_at) == ("bo@example.com", "+14155550101", "Bo", None)
    by_contact = {s.contact_id: s for s in world.sends()}
    assert by_contact["c1"].to_address is None and by_contact["c1"].address_key
    assert by_contact["c2"].to_address == "+14155550101"
    assert [(r.contact_id, r.score, r.comment) for r in world.responses()] == [
        ("c1", 2, None), ("c2", 5, None)
    ]  # fmt: skip
    [mine, theirs] = world.inbound()
    assert (mine.body, mine.from_address, mine.answer, mine.kind) == ("", "", None, "score")
    assert (theirs.body, theirs.from_address) == ("5", "+14155550101")
    events = {e.contact_id: e.properties for e in rows(world.services.db, Event, "received_at")}
    assert events["c1"] == {"team": "billing", "priority": 2, "vip": True, "customer": {"age": 36}}


def test_forget_twice_erases_nothing_more(make_world: WorldFactory) -> None:
    world = surveyed(make_world)
    forget(world, "c1")
    forgotten_at = world.clock.now()
    world.clock.advance(timedelta(hours=1))

    assert set(forget(world, "c1").values()) == {0}
    [ada] = [c for c in rows(world.services.db, Contact, "id") if c.id == "c1"]
    assert ada.forgotten_at == forgotten_at


def test_a_forgotten_number_that_said_stop_is_never_texted_again(make_world: WorldFactory) -> None:
    world = make_world()
    world.survey("e1")
    world.text("STOP")
    forget(world, "c1")

    for contact in ("c1", "c9"):  # the same customer again, or under another id
        decision = world.ingest(f"again-{contact}", contact=contact, details={"email": None})
        assert (decision.outcome, decision.reason) == ("suppressed", "opted_out")
    world.services.dispatcher.run_once()
    assert len(world.fake.messages) == 1


def test_after_forget_the_contact_starts_afresh_but_cooldowns_still_count(make_world: WorldFactory) -> None:
    world = make_world(throttle={"survey_cooldown": "30d"})
    world.survey("e1")
    forget(world, "c1")

    bare = {"id": "c1", "phone": None, "email": None, "name": None}
    [result] = world.services.ingestor.ingest([{"id": "e2", "type": "ticket.solved", "contact": bare}])
    assert [(d.outcome, d.reason) for d in result.decisions] == [("suppressed", "no_address")]
    new_phone = world.ingest("e3", details={"phone": "+14155550188", "email": None})
    assert (new_phone.outcome, new_phone.reason) == ("suppressed", "survey_cooldown")


def test_sends_not_gone_out_are_cancelled(make_world: WorldFactory) -> None:
    world = make_world()
    decision = world.ingest("e1")
    assert decision.outcome == "scheduled"

    assert forget(world, "c1")["pending_sends_cancelled"] == 1
    world.services.dispatcher.run_once()
    assert world.fake.messages == []
    assert (world.send(decision.send_id).status, world.send(decision.send_id).reason) == (
        "cancelled", "forgotten"
    )  # fmt: skip
    outcomes = [(d.outcome, d.reason) for d in rows(world.services.db, Decision, "id")]
    assert outcomes == [("scheduled", None), ("cancelled", "forgotten")]


def test_an_erased_sends_unsubscribe_link_still_opts_out(make_world: WorldFactory) -> None:
    world = make_world()
    decision = world.ingest("e1", details={"phone": None})
    world.services.dispatcher.run_once()
    forget(world, "c1")

    client = TestClient(create_web_app(world.services))
    assert client.post(world.services.links.unsubscribe_url(decision.send_id)).status_code == 200
    again = world.ingest("e2", details={"phone": None})
    assert (again.outcome, again.reason) == ("suppressed", "opted_out")


def test_forget_by_phone_also_erases_messages_from_the_number(make_world: WorldFactory) -> None:
    world = make_world()
    world.survey("e1")
    world.text("HELP", from_="+14155550177")  # a stranger: no contact has the number

    contact_ids, addresses = eraser(world).find(phone="+1 415-555-0177")
    assert (contact_ids, addresses) == ([], ["+14155550177"])
    assert eraser(world).forget(contact_ids, addresses).erased["sms_messages"] == 1
    assert eraser(world).find(phone=PHONE)[0] == ["c1"]


def test_the_forget_command(make_world: WorldFactory, tmp_path: Any, db_url: str) -> None:
    world = make_world()
    world.survey("e1")
    world.text("4 nice")
    config = str(write_config(tmp_path, db_url))

    first = CliRunner().invoke(cli, ["forget", "--config", config, "c1"])
    assert first.exit_code == 0, first.output
    assert "erased the personal data of c1:" in first.output and "1  comments" in first.output
    again = CliRunner().invoke(cli, ["forget", "--config", config, "--phone", PHONE, "--json"])
    assert again.exit_code == 0, again.output
    report = orjson.loads(again.stdout)
    assert report["contacts"] == ["c1"] and set(report["erased"].values()) == {0}
    unknown = CliRunner().invoke(cli, ["forget", "--config", config, "nobody"])
    assert unknown.exit_code == 1 and "nothing is stored for nobody" in unknown.output
    bad = CliRunner().invoke(cli, ["forget", "--config", config, "--phone", "12"])
    assert bad.exit_code == 2 and "--phone" in bad.output


def test_what_an_erased_event_keeps_of_its_properties(tmp_path: Any) -> None:
    config = make_config("sqlite://", tmp_path, digests=[{**DIGEST, "group_by": ["properties.a.b"]}])
    keep = property_keeper(config)
    given = {"a": {"b": "kept", "c": "gone"}, "n": 1.5, "t": ["x", 2, {"y": "z", "f": False}], "no": None}
    assert keep(given) == {"a": {"b": "kept"}, "n": 1.5, "t": [2, {"f": False}], "no": None}
