"""What every `RatingStore` must do (bot.pages.ratings): the in-memory one the page tests use,
and the real one over SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.pages.ratings import RatingStore
from bot.responses.recorder import Responses
from bot.runtime.clock import FakeClock
from storage import queries, responses
from storage.bulk import bulk_insert
from tests.conftest import BACKENDS, empty_database_url, make_config, open_test_database
from tests.fakes.rating_store import MemoryRatingStore, StoredSend
from triggers.addresses import AddressKeys


@dataclass
class Harness:
    store: RatingStore
    add_send: Callable[[str, str, datetime | None], None]  # send_id, address, open_until
    opted_out: Callable[[], set[str]]
    counted: Callable[[str], bool]


def memory_harness() -> Harness:
    store = MemoryRatingStore()
    return Harness(
        store=store,
        add_send=lambda send_id, to, until: store.add_send(StoredSend(send_id, to, "csat", until)),
        opted_out=lambda: set(store.opted_out),
        counted=lambda send_id: store.responses[send_id].counted,
    )


def database_harness(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Harness:
    """The real store: `bot.responses.recorder.Responses` over SQLite or PostgreSQL."""
    db = open_test_database(empty_database_url(backend, request, tmp_path))
    request.addfinalizer(db.dispose)
    config = make_config(db.url, tmp_path)
    keys = AddressKeys("test-secret")
    store = Responses(db, config, keys)

    def add_send(send_id: str, to: str, until: datetime | None) -> None:
        with db.write() as conn:
            bulk_insert(
                conn,
                queries.sends_t,
                [
                    {
                        "id": send_id,
                        "event_pk": f"evt_{send_id}",
                        "trigger": "csat_after_ticket",
                        "survey": "support_csat",
                        "metric": "csat",
                        "contact_id": "c1",
                        "channel": "email",
                        "to_address": to,
                        "status": "sent",
                        "attempts": 1,
                        "due_at": NOW,
                        "created_at": NOW,
                        "updated_at": NOW,
                        "sent_at": NOW,
                        "expires_at": until,
                    }
                ],
            )

    def opted_out() -> set[str]:
        with db.read() as conn:
            stored = {row[0] for row in conn.execute(select(queries.opt_outs_t.c.address_key))}
        return {a for a in ("ada@example.com", "bo@example.com") if keys.key("email", a) in stored}

    def counted(send_id: str) -> bool:
        with db.read() as conn:
            table = responses.responses_t
            return bool(conn.execute(select(table.c.counted).where(table.c.send_id == send_id)).scalar_one())

    return Harness(store=store, add_send=add_send, opted_out=opted_out, counted=counted)


HARNESSES = ["memory", *BACKENDS]
NOW = FakeClock().now()


@pytest.fixture(params=HARNESSES)
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Harness:
    if request.param == "memory":
        made = memory_harness()
    else:
        made = database_harness(request.param, request, tmp_path)
    made.add_send("snd_open", "ada@example.com", NOW + timedelta(days=3))
    made.add_send("snd_closed", "bo@example.com", NOW - timedelta(seconds=1))
    return made


def answer(harness: Harness, send_id: str) -> tuple[int | None, str | None]:
    view = harness.store.get_send(send_id)
    assert view is not None
    return view.score, view.comment


def test_an_unknown_send_is_none(harness: Harness) -> None:
    assert harness.store.get_send("snd_nope") is None


def test_a_send_shows_its_scale_and_when_it_closes(harness: Harness) -> None:
    view = harness.store.get_send("snd_open")
    assert view is not None
    assert (view.metric, view.scale, view.open_until) == ("csat", (1, 5), NOW + timedelta(days=3))
    assert (view.score, view.comment) == (None, None)


def test_the_first_rating_is_recorded_and_counted_while_open(harness: Harness) -> None:
    assert harness.store.record_rating("snd_open", 4, "Nice", NOW) == "recorded"
    assert answer(harness, "snd_open") == (4, "Nice")
    assert harness.counted("snd_open")


def test_a_first_rating_after_closing_is_kept_but_not_counted(harness: Harness) -> None:
    assert harness.store.record_rating("snd_closed", 2, None, NOW) == "recorded"
    assert answer(harness, "snd_closed") == (2, None)
    assert not harness.counted("snd_closed")


def test_a_later_rating_updates_while_open_keeping_the_comment_unless_given(
    harness: Harness,
) -> None:
    store = harness.store
    store.record_rating("snd_open", 2, "Slow", NOW)

    assert store.record_rating("snd_open", 3, None, NOW) == "updated"
    assert answer(harness, "snd_open") == (3, "Slow")
    assert store.record_rating("snd_open", 4, "Better", NOW) == "updated"
    assert answer(harness, "snd_open") == (4, "Better")
    assert store.record_rating("snd_open", 4, "", NOW) == "updated"
    assert answer(harness, "snd_open") == (4, None)


def test_after_closing_an_answer_no_longer_changes(harness: Harness) -> None:
    harness.store.record_rating("snd_open", 2, "Slow", NOW)

    later = NOW + timedelta(days=3)
    assert harness.store.record_rating("snd_open", 5, "Changed", later) == "closed"
    assert answer(harness, "snd_open") == (2, "Slow")


def test_opting_out_a_send_opts_out_its_address(harness: Harness) -> None:
    assert harness.store.opt_out_send_address("snd_open", NOW)
    assert harness.store.opt_out_send_address("snd_open", NOW)  # twice is fine
    assert harness.opted_out() == {"ada@example.com"}
    assert not harness.store.opt_out_send_address("snd_nope", NOW)
