"""The fleet part of bench/sms_rate.py: several processes, one database, one (fake) Twilio.

Each process is a real `TwilioSmsChannel` sending back to back for the same seconds. Paced by
`fleet` it takes its slots from the database (`FleetPacer`, as `surveybot run` does); paced by
`process` it keeps its own `PacingLimiter`, the baseline: each process at the full rate.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier
from pathlib import Path

from sqlalchemy import create_engine, delete, text

from bench.sms_rate import MESSAGE, RemoteFake, measure
from bot.channels.fleet_pacing import FleetPacer
from bot.channels.twilio import TwilioSmsChannel
from bot.config import SmsChannelConfig
from storage.db import Database
from storage.migrate import upgrade
from storage.models import SendPace
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN

PG_URL = os.environ.get("SURVEYBOT_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SETUPS = [("postgres", 1), ("postgres", 2), ("postgres", 4), ("sqlite", 2)]
FLEET_PLAN = [
    (backend, processes, rate, pacing)
    for rate in (10.0, 100.0)
    for backend, processes in SETUPS
    for pacing in ("process", "fleet")
]


@dataclass(frozen=True)
class FleetRun:
    backend: str
    processes: int
    pacing: str
    rate: float
    sent: int
    measured: float
    worst_second: int

    def row(self) -> str:
        ratio = self.measured / self.rate
        return (
            f"{self.backend:>8} {self.processes:>9} {self.pacing:>8} {self.rate:>7g}/s {self.sent:>6} "
            f"{self.measured:>10.2f}/s {ratio:>6.2f} {ratio - 1:>+8.1%} {self.worst_second:>11}"
        )


def fleet_header() -> str:
    return (
        f"{'backend':>8} {'processes':>9} {'pacing':>8} {'setting':>9} {'sent':>6} {'measured':>12} "
        f"{'ratio':>6} {'error':>8} {'max in 1 s':>11}"
    )


@contextmanager
def fleet_databases() -> Iterator[dict[str, str]]:
    """A migrated PostgreSQL schema and SQLite file for the runs; dropped afterwards."""
    schema = f"bench_fleet_{os.getpid()}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    with tempfile.TemporaryDirectory() as tmp:
        urls = {
            "postgres": f"{PG_URL}?options=-csearch_path%3D{schema}",
            "sqlite": f"sqlite:///{Path(tmp) / 'fleet.db'}",
        }
        for url in urls.values():
            db = Database(url)
            upgrade(db)
            db.dispose()
        try:
            yield urls
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def run_fleet(fake: RemoteFake, url: str, backend: str, processes: int, rate: float, pacing: str,
              seconds: float) -> FleetRun:  # fmt: skip
    """`processes` senders for `seconds`, started together once all are warm; measured at Twilio."""
    db = Database(url)
    with db.write() as conn:
        conn.execute(delete(SendPace))  # each run starts from an idle channel
    db.dispose()
    context = multiprocessing.get_context("spawn")
    warm, go = context.Barrier(processes + 1), context.Barrier(processes + 1)
    children = [
        context.Process(target=send_from_child, args=(url, fake.base_url, rate, pacing, warm, go, seconds))
        for _ in range(processes)
    ]
    for child in children:
        child.start()
    warm.wait()
    fake.ask("reset")
    go.wait()
    for child in children:
        child.join()
        if child.exitcode != 0:
            raise RuntimeError(f"a sender exited with {child.exitcode}")
    run = measure(rate, processes, fake.ask("arrivals"))
    return FleetRun(backend, processes, pacing, rate, run.sent, run.measured, run.worst_second)


def send_from_child(
    url: str, base_url: str, rate: float, pacing: str, warm: Barrier, go: Barrier, seconds: float
) -> None:
    """Runs in a child process: one channel, sending back to back until the time is up."""
    config = SmsChannelConfig.model_validate(
        {
            "provider": "twilio",
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "from": "+15550001111",
            "rate_per_second": rate,
            "api_base_url": base_url,
        }
    )
    db = Database(url)
    pacer = FleetPacer(db, "sms", rate) if pacing == "fleet" else None
    channel = TwilioSmsChannel(config, pacer=pacer)
    channel.send(MESSAGE)
    warm.wait()
    go.wait()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        outcome = channel.send(MESSAGE)
        if outcome.status != "sent":
            raise RuntimeError(f"bench send ended {outcome}")
    channel.close()
    db.dispose()
