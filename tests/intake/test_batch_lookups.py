"""A batch's look-ups pass all its ids as one parameter: ids of any spelling must still be found
exactly, in batches as large as the API takes."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.event import listen, remove

from bot.app import Services
from storage import queries
from storage.db import Database
from storage.ids import new_id
from tests.conftest import ServicesFactory
from tests.helpers import event, sends

NOW = datetime(2026, 12, 1, tzinfo=UTC)
ODD = ['quote"d', "back\\slash", "ünïcödé", "emoji 🎉", "[1, 2]", "'single'", "%s ?", "tab\there"]


def test_ids_of_any_spelling_are_found_again_as_duplicates_and_known_contacts(services: Services) -> None:
    no_email = {"email": None}
    first = services.ingestor.ingest([event(f"e-{odd}", contact=f"c-{odd}", details=no_email) for odd in ODD])
    assert [r.status for r in first] == ["accepted"] * len(ODD)
    again = services.ingestor.ingest(
        [event(f"e-{odd}", contact=f"c-{odd}", details=no_email) for odd in ODD]
        + [event(f"new-{odd}", contact=f"c-{odd}", details={"phone": None, "email": None}) for odd in ODD]
    )
    assert [r.status for r in again] == ["duplicate"] * len(ODD) + ["accepted"] * len(ODD)
    # The contacts were found by their ids: the new events, which leave out the addresses, are
    # sent to the phone numbers stored before.
    new = {r.decisions[0].send_id for r in again[len(ODD) :]}
    assert {s.to_address for s in sends(services.db) if s.id in new} == {"+14155550100"}


# Any text an event may carry as an id: no NUL, at most 256 characters, valid Unicode (JSON
# parsing refuses a lone surrogate).
IDS = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=256)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stored=st.lists(IDS, max_size=12, unique=True), asked=st.lists(IDS, max_size=12))
def test_a_look_up_by_many_ids_finds_exactly_the_stored_ones(
    database: Database, stored: list[str], asked: list[str]
) -> None:
    """The ids reach the database as one parameter (PostgreSQL: an array's text, quoted and
    escaped by us), and come back as they were sent, whatever characters they hold."""
    with database.write() as conn:
        conn.execute(queries.events_t.delete())
        for event_id in stored:
            conn.execute(
                queries.events_t.insert().values(
                    pk=new_id("evt"), event_id=event_id, type="t", contact_id="c", occurred_at=NOW,
                    received_at=NOW, properties={}, source="api",
                )
            )  # fmt: skip
        assert queries.existing_event_ids(conn, asked + stored) == set(stored)
        assert queries.existing_event_ids(conn, asked) == set(asked) & set(stored)


def test_a_full_batch_of_a_thousand_is_looked_up_in_one_go(services: Services) -> None:
    batch = [event(f"e{i}", contact=f"c{i}") for i in range(1000)]
    assert {r.status for r in services.ingestor.ingest(batch)} == {"accepted"}
    assert {r.status for r in services.ingestor.ingest(batch)} == {"duplicate"}


def test_ids_stay_unique_across_a_fork() -> None:
    new_id("snd")  # the parent now holds a pool of random bytes
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child only reports
        os.write(write, ",".join(new_id("snd") for _ in range(50)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    with os.fdopen(read) as pipe:
        theirs = set(pipe.read().split(","))
    ours = {new_id("snd") for _ in range(50)}
    assert len(theirs) == 50 and not ours & theirs


def test_only_contacts_stored_before_a_batch_have_their_sends_read(make_services: ServicesFactory) -> None:
    """A contact new to us has no sends, so a batch reads the send history (for the gates and
    for `cancel_on`) of the contacts stored before it only, and none at all when every contact
    is new; the gates still see the sends of a contact stored earlier."""
    services = make_services(throttle={"contact_cooldown": "1d"})
    services.ingestor.ingest([event("first", contact="known")])
    reads_of_sends: list[str] = []

    def note_reads(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM sends" in statement:
            reads_of_sends.append(statement)

    listen(services.db.engine, "before_cursor_execute", note_reads)
    try:
        new_only = services.ingestor.ingest([event(f"n{i}", contact=f"new{i}") for i in range(3)])
        assert reads_of_sends == []
        mixed = services.ingestor.ingest(
            [
                event("second", contact="known"),
                event("reopened", "ticket.reopened", contact="known"),
                event("n3", contact="new3"),
                event("n3-reopened", "ticket.reopened", contact="new3"),
            ]
        )
        assert len(reads_of_sends) == 2  # the gates' history, and the sends `cancel_on` could call off
    finally:
        remove(services.db.engine, "before_cursor_execute", note_reads)
    assert [r.decisions[0].outcome for r in new_only] == ["scheduled"] * 3
    assert [[(d.outcome, d.reason) for d in r.decisions] for r in mixed] == [
        [("suppressed", "contact_cooldown")],
        [("cancelled", "cancel_on")],  # the send of "first", stored before the batch
        [("scheduled", None)],
        [("cancelled", "cancel_on")],  # the send of "n3", made earlier in the batch
    ]
