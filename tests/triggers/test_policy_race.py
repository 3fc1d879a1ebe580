"""Two OS processes deciding for the same contacts at the same instant, on SQLite and PostgreSQL.

Each test starts two real interpreters (multiprocessing, spawn) that build their own services
and meet at a barrier before every round, so their transactions overlap as two `surveybot run`
workers' would. The policy must still allow exactly what it allows one process.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.config import Config
from storage.db import Database
from tests.conftest import make_config
from tests.helpers import sends
from tests.triggers.race_worker import ingest_rounds

ROUNDS = 40
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # one instant, so the daily cap is one day's


def race(config: Config, first: list[Any], second: list[Any]) -> list[tuple[str, str, str | None]]:
    """Run both workers' rounds side by side; every decision either of them took."""
    context = multiprocessing.get_context("spawn")
    barrier, out = context.Barrier(2), context.Queue()
    workers = [
        context.Process(target=ingest_rounds, args=(config, rounds, NOW, barrier, out))
        for rounds in (first, second)
    ]
    for worker in workers:
        worker.start()
    results = [out.get(timeout=300) for _ in workers]
    assert all(isinstance(result, list) for result in results), results
    outcomes = [decision for result in results for decision in result]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    return outcomes


def one_event(event_id: str, contact: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "ticket.solved",
        "contact": {"id": contact, "phone": "+12125550100"},
        "properties": {"ticket_id": event_id},
    }


def test_two_processes_racing_for_one_contact_schedule_one_survey(
    database: Database, db_url: str, tmp_path: Path
) -> None:
    config = make_config(db_url, tmp_path, throttle={"survey_cooldown": "30d", "contact_cooldown": "7d"})
    first = [[[one_event(f"a{i}", f"c{i}")]] for i in range(ROUNDS)]
    second = [[[one_event(f"b{i}", f"c{i}")]] for i in range(ROUNDS)]
    outcomes = race(config, first, second)
    assert Counter(outcome for _, outcome, _ in outcomes) == {"scheduled": ROUNDS, "suppressed": ROUNDS}
    assert {reason for _, outcome, reason in outcomes if outcome == "suppressed"} == {"survey_cooldown"}
    per_contact = Counter(send.contact_id for send in sends(database))
    assert per_contact == {f"c{i}": 1 for i in range(ROUNDS)}


def test_two_processes_racing_for_the_same_event_id_store_it_once(
    database: Database, db_url: str, tmp_path: Path
) -> None:
    config = make_config(db_url, tmp_path)
    rounds = [[[one_event(f"e{i}", f"c{i}")]] for i in range(ROUNDS)]
    outcomes = race(config, rounds, rounds)
    assert len(outcomes) == ROUNDS and len(sends(database)) == ROUNDS


def test_the_daily_cap_holds_across_two_processes(database: Database, db_url: str, tmp_path: Path) -> None:
    cap = 150
    config = make_config(db_url, tmp_path, throttle={"daily_cap": cap})
    # Each worker: 5 rounds of 4 batches of 10 new contacts; 400 candidates for 150 places.
    first = [
        [[one_event(f"a{r}-{b}-{i}", f"a{r}-{b}-{i}") for i in range(10)] for b in range(4)] for r in range(5)
    ]
    second = [
        [[one_event(f"b{r}-{b}-{i}", f"b{r}-{b}-{i}") for i in range(10)] for b in range(4)] for r in range(5)
    ]
    outcomes = race(config, first, second)
    counted = Counter(reason or outcome for _, outcome, reason in outcomes)
    assert counted == {"scheduled": cap, "daily_cap": 400 - cap}
    assert len(sends(database)) == cap
