"""Bench: does TwilioSmsChannel hold its rate_per_second, and is it ever the bottleneck?

Part `threads`: the real channel (real twilio client, real HTTP) against the local fake Twilio
API, in real time, at 1, 10 and 100 messages a second, with one dispatch thread and with several
sharing the channel, then with the limiter off to show the most the bot can push.

Part `fleet`: 1, 2 and 4 processes on one PostgreSQL database (and 2 on one SQLite file), each
with its own channel, sending as fast as their pacing lets them: with the fleet's pace (slots
reserved in the database, what `surveybot run` does) against the baseline, each process's own
limiter. It prints the rate Twilio saw over the configured rate (the fleet should give 1.00, the
baseline one per process) and the error.

The fake runs in a process of its own, so it does not compete with the bot for the GIL. The rate
is measured where Twilio would measure it: from the arrival times at the server. Each run starts
warm (one send first: the twilio library imports its API modules on first use, ~0.2 s).

    python -m bench.sms_rate [--seconds 5] [--threads 4] [--part threads|fleet|all]
"""

from __future__ import annotations

import argparse
import multiprocessing
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection

from bot.channels.base import OutboundMessage
from bot.channels.twilio import TwilioSmsChannel
from bot.config import SmsChannelConfig
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

MESSAGE = OutboundMessage(
    send_id="bench",
    channel="sms",
    to="+14155550100",
    survey="support_csat",
    metric="csat",
    body="Hi Ada, how satisfied were you with ticket T-1? Reply 1-5.",
)


@dataclass(frozen=True)
class Run:
    setting: float | None
    threads: int
    sent: int
    measured: float
    worst_second: int

    def row(self) -> str:
        setting = f"{self.setting:g}/s" if self.setting else "off"
        deviation = f"{(self.measured - self.setting) / self.setting:+.2%}" if self.setting else "-"
        return (
            f"{setting:>8} {self.threads:>7} {self.sent:>6} {self.measured:>10.2f}/s "
            f"{deviation:>10} {self.worst_second:>12}"
        )


class RemoteFake:
    """A FakeTwilio running in a child process, driven over a pipe."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.base_url: str = conn.recv()

    def ask(self, command: str) -> list[float]:
        self.conn.send(command)
        answer: list[float] = self.conn.recv()
        return answer


def serve_fake(conn: Connection) -> None:
    with FakeTwilio() as fake:
        conn.send(fake.base_url)
        while (command := conn.recv()) != "stop":
            conn.send(sorted(fake.arrivals))
            if command == "reset":
                fake.reset()


@contextmanager
def fake_in_child() -> Iterator[RemoteFake]:
    ours, theirs = multiprocessing.Pipe()
    child = multiprocessing.Process(target=serve_fake, args=(theirs,), daemon=True)
    child.start()
    try:
        yield RemoteFake(ours)
    finally:
        ours.send("stop")
        child.join(timeout=5)


def run_once(fake: RemoteFake, rate: float | None, threads: int, seconds: float) -> Run:
    """Send for `seconds` from `threads` threads; measure at the server."""
    config = SmsChannelConfig.model_validate(
        {
            "provider": "twilio",
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "from": "+15550001111",
            "rate_per_second": rate or 1000,
            "api_base_url": fake.base_url,
        }
    )
    channel = TwilioSmsChannel(config, paced=rate is not None)
    channel.send(MESSAGE)
    fake.ask("reset")
    deadline = time.monotonic() + seconds

    def dispatch() -> None:
        while time.monotonic() < deadline:
            outcome = channel.send(MESSAGE)
            if outcome.status != "sent":
                raise RuntimeError(f"bench send ended {outcome}")

    workers = [threading.Thread(target=dispatch) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    channel.close()
    return measure(rate, threads, fake.ask("arrivals"))


def measure(rate: float | None, threads: int, arrivals: list[float]) -> Run:
    span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0
    measured = (len(arrivals) - 1) / span if span else 0.0
    return Run(rate, threads, len(arrivals), measured, busiest_second(arrivals))


def busiest_second(arrivals: list[float]) -> int:
    """The most requests that arrived within any one-second window."""
    most, start = 0, 0
    for end, moment in enumerate(arrivals):
        while moment - arrivals[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--part", choices=("threads", "fleet", "all"), default="all")
    args = parser.parse_args()
    with fake_in_child() as fake:
        if args.part in ("threads", "all"):
            bench_threads(fake, args.threads, args.seconds)
        if args.part in ("fleet", "all"):
            bench_fleet(fake, args.seconds)


def bench_threads(fake: RemoteFake, threads: int, seconds: float) -> None:
    plan: list[tuple[float | None, int]] = [(rate, n) for rate in (1.0, 10.0, 100.0) for n in (1, threads)]
    plan += [(None, 1), (None, threads)]
    print(f"{'setting':>8} {'threads':>7} {'sent':>6} {'measured':>12} {'deviation':>10} {'max in 1 s':>12}")
    for rate, n in plan:
        print(run_once(fake, rate, n, seconds).row(), flush=True)


def bench_fleet(fake: RemoteFake, seconds: float) -> None:
    from bench.sms_fleet import FLEET_PLAN, fleet_databases, fleet_header, run_fleet

    print()
    print(fleet_header(), flush=True)
    with fleet_databases() as urls:
        for backend, processes, rate, pacing in FLEET_PLAN:
            run = run_fleet(fake, urls[backend], backend, processes, rate, pacing, seconds)
            print(run.row(), flush=True)


if __name__ == "__main__":
    main()
