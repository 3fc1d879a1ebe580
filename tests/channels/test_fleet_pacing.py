"""`rate_per_second` held for the fleet: processes take their send slots from one database row.

Each `Database` here stands for one process (its own engine and connections); time is moved by
hand, except PostgreSQL's own clock, which the slots keep there."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import build_services
from bot.channels.fleet_pacing import FleetPacer
from storage import pace
from storage.db import Database
from tests.channels.test_pacing import VirtualTime
from tests.conftest import make_config
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN
from tests.fakes.twilio_api import refused_url as nothing_listening

PROCESSES = 4


@pytest.fixture
def processes(database: Database, db_url: str) -> Iterator[list[Database]]:
    opened = [Database(db_url) for _ in range(PROCESSES)]
    yield opened
    for db in opened:
        db.dispose()


def test_slots_reserved_by_several_processes_are_one_interval_apart(processes: list[Database]) -> None:
    books = [pace.SlotBook(db) for db in processes]
    slots = [
        books[turn % PROCESSES].reserve(channel="sms", interval=0.5, catch_up=0.05, now=lambda: 1000.0)[0]
        for turn in range(3 * PROCESSES)
    ]
    for book in books:
        book.close()
    assert [b - a for a, b in itertools.pairwise(slots)] == pytest.approx([0.5] * 11, abs=1e-6)


def test_four_pacers_wait_in_one_line_not_each_in_their_own(processes: list[Database]) -> None:
    time = VirtualTime()
    pacers = [FleetPacer(db, "sms", 1.0, wall=lambda: 1000.0, sleep=time.sleep) for db in processes]
    waits = [pacers[turn % PROCESSES].reserve() for turn in range(8)]
    # One second apart across the four: the eighth send waits 7 s. Each pacing alone would
    # have let the first four go at once and the next four a second later.
    assert waits == pytest.approx([0, 1, 2, 3, 4, 5, 6, 7], abs=0.25)


def test_channels_pace_separately(processes: list[Database]) -> None:
    sms = FleetPacer(processes[0], "sms", 1.0, wall=lambda: 1000.0)
    other = FleetPacer(processes[1], "whatsapp", 1.0, wall=lambda: 1000.0)
    assert [sms.reserve(), other.reserve()] == pytest.approx([0, 0], abs=0.25)


def test_a_database_out_of_reach_paces_this_process_alone() -> None:
    db = Database("postgresql+psycopg://postgres@" + nothing_listening().removeprefix("http://") + "/test")
    time = VirtualTime()
    pacer = FleetPacer(db, "sms", 2.0, clock=time.clock, sleep=time.sleep)
    assert [pacer.acquire(), pacer.acquire(), pacer.acquire()] == [0.0, 0.5, 0.5]
    db.dispose()


def test_the_twilio_channel_of_a_running_bot_takes_the_fleets_pace(
    database: Database, db_url: str, tmp_path: Path
) -> None:
    sms = {
        "provider": "twilio",
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "from": "+15550001111",
        "rate_per_second": 4,
    }
    config = make_config(db_url, tmp_path, channels={"sms": sms})
    services = build_services(config, db=Database(db_url))
    limiter = services.channels["sms"].limiter  # type: ignore[attr-defined]
    assert isinstance(limiter, FleetPacer) and limiter.interval == 0.25
    services.close()
