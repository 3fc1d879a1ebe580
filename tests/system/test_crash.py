"""Kill the bot at random moments while it sends, many times over: nothing is lost, nothing is
sent twice. Real `surveybot run` processes, the real twilio client, a fake Twilio that counts
every message it accepts, SIGKILL."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select

from bot.app import build_services
from bot.config import parse_config
from bot.runtime.clock import SystemClock
from storage.db import Database
from storage.models import Decision, Event
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from tests.helpers import answers_ok, free_port, sends, wait_until

SENDS = 1500
KILLS = 12
LEASE_SECONDS = 1


def crash_config(db_url: str, fake: FakeTwilio, tmp_path: Path) -> Path:
    raw: dict[str, Any] = {
        "server": {
            "api_keys": ["test-key"],
            "secret_key": "s3cret",
            "public_url": "https://surveys.example.com",
        },
        "storage": {"url": db_url},
        "surveys": {"csat": {"metric": "csat", "question": {"sms": "Rate us 1-5, {{ contact.name }}"}}},
        "triggers": [{"name": "t", "on": "ticket.solved", "survey": "csat", "channels": ["sms"]}],
        "throttle": {
            "quiet_hours": None,
            "daily_cap": None,
            "max_per_contact": None,
            "contact_cooldown": "0s",
            "survey_cooldown": "0s",
        },
        "channels": {
            "sms": {
                "provider": "twilio",
                "account_sid": ACCOUNT_SID,
                "auth_token": AUTH_TOKEN,
                "from": "+15550001111",
                "rate_per_second": 1000,
                "api_base_url": fake.base_url,
            },
            "email": {"provider": "log", "path": str(tmp_path / "email.jsonl")},
        },
        "dispatch": {"batch_size": 20, "lease": f"{LEASE_SECONDS}s"},
    }
    path = tmp_path / "config.json"
    path.write_bytes(orjson.dumps(raw))
    return path


def phone(i: int) -> str:
    """A valid US number of its own for each `i` (+14155550000 on, for tens of thousands)."""
    return f"+1415{5_550_000 + i:07d}"


class Bot:
    """One `surveybot run` process."""

    def __init__(self, config: Path, cwd: Path) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(config), "--port", str(self.port)],
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        """Until it answers /readyz: the kills should land while it works, not while it boots."""
        wait_until(
            lambda: answers_ok(f"{self.url}/readyz"), f"the bot on {self.port} to be ready", timeout=60
        )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


class Poster(threading.Thread):
    """Posts single events to whichever bot is alive; remembers the ones answered `accepted`."""

    def __init__(self, bots: list[Bot]) -> None:
        super().__init__(daemon=True)
        self.bots = bots
        self.accepted: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=5, headers={"Authorization": "Bearer test-key"}) as client:
            n = 0
            while not self.stop.is_set():
                n += 1
                bot = random.choice(self.bots)
                body = {
                    "id": f"live-{n}",
                    "type": "ticket.solved",
                    "contact": {"id": f"live-{n}", "phone": phone(SENDS + n)},
                }
                try:
                    answer = client.post(f"{bot.url}/v1/events", json=body)
                except httpx.HTTPError:
                    time.sleep(0.01)
                    continue
                if answer.status_code == 202 and answer.json()["results"][0]["status"] == "accepted":
                    self.accepted.append(body["id"])


@pytest.mark.parametrize("processes", [2])
def test_sigkill_at_random_moments_loses_nothing_and_sends_nothing_twice(
    db_url: str, database: Database, tmp_path: Path, processes: int
) -> None:
    rng = random.Random(int(os.environ.get("SURVEYBOT_CRASH_SEED", "7")))
    with FakeTwilio() as fake:
        config_path = crash_config(db_url, fake, tmp_path)
        config = parse_config(config_path.read_text())
        services = build_services(config, db=Database(db_url), clock=SystemClock())
        events = [
            {
                "id": f"e{i}",
                "type": "ticket.solved",
                "contact": {"id": f"c{i}", "phone": phone(i), "name": "Ada"},
            }
            for i in range(SENDS)
        ]
        assert {r.status for r in services.ingestor.ingest(events)} == {"accepted"}
        bots = [Bot(config_path, tmp_path) for _ in range(processes)]
        for bot in bots:
            bot.wait_ready()
        poster = Poster(bots)
        poster.start()
        kills = 0
        try:
            for _ in range(KILLS):
                time.sleep(rng.uniform(0.3, 1.2))
                victim = rng.randrange(processes)
                bots[victim].kill()
                kills += 1
                bots[victim] = Bot(config_path, tmp_path)
                bots[victim].wait_ready()
                poster.bots = bots
            poster.stop.set()
            poster.join()
            for bot in bots:
                bot.kill()
                kills += 1
            time.sleep(LEASE_SECONDS + 0.5)  # let the last in-flight sends age past the lease
            finisher = Bot(config_path, tmp_path)
            bots.append(finisher)  # killed below should a wait fail
            finisher.wait_ready()  # a SIGTERM before it serves would kill it, not stop it cleanly
            wait_until(
                lambda: not any(s.status in ("scheduled", "claimed", "sending") for s in sends(database)),
                "the finishing bot to settle every send",
                timeout=120,
                interval=0.2,
            )
            finisher.process.send_signal(signal.SIGTERM)
            assert finisher.process.wait(timeout=30) == 0
        finally:
            for bot in [*bots]:
                if bot.process.poll() is None:
                    bot.process.kill()
        delivered = Counter(message["to"] for message in fake.messages)
    statuses = Counter(s.status for s in sends(database))
    assert set(statuses) <= {"sent", "unknown", "failed"}, statuses
    assert [to for to, times in delivered.items() if times > 1] == [], "a message went out twice"
    assert statuses["unknown"] <= kills, f"{statuses['unknown']} unknown after {kills} kills"
    assert statuses["sent"] + statuses["unknown"] == len(sends(database))
    with database.read() as conn:
        with_decisions = set(
            conn.execute(
                select(Event.__table__.c.event_id).join(
                    Decision.__table__, Decision.__table__.c.event_pk == Event.__table__.c.pk
                )
            ).scalars()
        )
    assert poster.accepted, "the poster should have got events through"
    assert set(poster.accepted) <= with_decisions, "an accepted event lost its decisions"
    assert len(delivered) >= statuses["sent"]
    print(
        f"kills={kills} sends={dict(statuses)} provider messages={sum(delivered.values())} "
        f"accepted while crashing={len(poster.accepted)}"
    )


def test_a_killed_workers_claimed_sends_leave_from_the_survivor_within_one_sweep(
    db_url: str, database: Database, tmp_path: Path
) -> None:
    """With the default dispatch settings (a 5-minute lease), two bots: the one that claims the
    batch hangs on its first text and is killed; the other sends the rest of the batch, once
    each, long before the lease would have let it. Prints the takeover time, kill to last text."""
    batch = 50
    with FakeTwilio(hang_seconds=120) as fake:
        config_path = crash_config(db_url, fake, tmp_path)
        raw = orjson.loads(config_path.read_bytes())
        del raw["dispatch"]  # the defaults: batch_size 50, lease 5m, liveness_sweep 5s
        config_path.write_bytes(orjson.dumps(raw))
        bots = [Bot(config_path, tmp_path) for _ in range(2)]
        try:
            for bot in bots:
                bot.wait_ready()
            fake.fail_next(1, "hang")
            ingest_batch(config_path, db_url, batch)
            wait_until(
                lambda: [s.status for s in sends(database)].count("sending") == 1 and fake.request_count == 1,
                "a bot to claim the batch and hang on its first text",
                timeout=60,
                interval=0.02,
            )
            [holder] = {s.claimed_by for s in sends(database) if s.status == "sending"}
            doomed = next(bot for bot in bots if f":{bot.process.pid}:" in holder)
            survivor = next(bot for bot in bots if bot is not doomed)
            killed_at = time.monotonic()
            doomed.kill()
            wait_until(lambda: len(fake.messages) == batch, "the survivor to send the batch", timeout=60)
            took = max(fake.arrivals) - killed_at
            first = min(moment for moment in fake.arrivals if moment > killed_at) - killed_at
            survivor.process.send_signal(signal.SIGTERM)
            assert survivor.process.wait(timeout=30) == 0
        finally:
            for bot in bots:
                if bot.process.poll() is None:
                    bot.process.kill()
        delivered = Counter(message["to"] for message in fake.messages)
    assert sorted(delivered.values()) == [1] * batch, "a message went out twice"
    assert Counter(s.status for s in sends(database)) == {"sent": batch - 1, "unknown": 1}
    print(f"takeover: first handed-on text {first:.2f} s after the kill, all {batch - 1} after {took:.2f} s")


def ingest_batch(config_path: Path, db_url: str, count: int) -> None:
    """`count` events, due at once, stored straight into the database the bots share."""
    config = parse_config(config_path.read_text())
    services = build_services(config, db=Database(db_url), clock=SystemClock())
    events = [
        {"id": f"e{i}", "type": "ticket.solved", "contact": {"id": f"c{i}", "phone": phone(i)}}
        for i in range(count)
    ]
    assert {r.status for r in services.ingestor.ingest(events)} == {"accepted"}
    services.db.dispose()
