"""Ingestion throughput and zero-delay latency, each beside its baseline measured in the same run.

    python bench/ingest.py [--events 50000] [--latency-samples 300] [--backend sqlite|postgresql|both]
                           [--repeat N]

1. raw bulk insert: the same event, send, decision and contact rows as ingestion writes,
   straight into the same tables, 1,000 events a transaction (the ceiling): executemany on
   SQLite, COPY on PostgreSQL (as ingestion), and there a pipelined executemany beside it;
2. the ingestion core (`Ingestor.ingest`, batches of 1,000) and its ratio to (1);
3. the HTTP batch endpoint of a real `surveybot run` (batches of 1,000 over keep-alive);
   (1), (2) and (3) run batch by batch in turn, so a machine whose speed drifts moves all alike;
4. p50/p99 from `POST /v1/events` to the `log` channel writing a zero-delay send.
On SQLite files in a temporary folder, or on PostgreSQL (`--pg-url`, default the local test
server) in scratch databases made for the run and dropped after it. Each figure is printed with
its ratio to the raw insert of the same run, the ratio the issue tracks. With `--repeat N` the
three are measured N times and the medians printed, each ratio taken round by round, with the
lowest and highest beside it: on a shared machine one run can be a third off.
"""

from __future__ import annotations

import argparse
import os
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_services  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.runtime.heap import settle_after_start  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.ids import new_id  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

CONFIG: dict[str, Any] = {
    "server": {"api_keys": ["bench-key"], "secret_key": "bench"},
    "surveys": {"csat": {"metric": "csat", "question": {"sms": "Rate us 1-5"}}},
    "triggers": [{"name": "t", "on": "ticket.solved", "survey": "csat", "channels": ["sms"], "delay": "10m"}],
    "throttle": {"quiet_hours": None, "daily_cap": None},
}
ZERO_DELAY = {**CONFIG, "triggers": [{**CONFIG["triggers"][0], "delay": "0s"}]}


def make_events(count: int, prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{prefix}{i}",
            "type": "ticket.solved",
            "contact": {"id": f"{prefix}c{i}", "phone": f"+1415555{i % 10000:04d}", "name": "Ada"},
            "properties": {"ticket_id": f"T-{i}", "team": "billing"},
        }
        for i in range(count)
    ]


class Backend:
    """Where the bench's databases live: SQLite files in `tmp`, or scratch PostgreSQL databases."""

    def __init__(self, name: str, tmp: Path, pg_url: str) -> None:
        self.name, self.tmp, self.pg_url = name, tmp, pg_url
        self.made: list[str] = []

    def url(self, name: str) -> str:
        """A new, empty database's URL."""
        if self.name == "sqlite":
            for leftover in self.tmp.glob(f"{name}.db*"):  # an earlier round's file, its WAL, ...
                shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
            return f"sqlite:///{self.tmp / name}.db"
        import psycopg

        database = f"bench_{name}_{os.getpid()}"
        with psycopg.connect(self._plain(self.pg_url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}"')
            admin.execute(f'CREATE DATABASE "{database}"')
        self.made.append(database)
        return self.pg_url.rsplit("/", 1)[0] + "/" + database

    def close(self) -> None:
        if not self.made:
            return
        import psycopg

        with psycopg.connect(self._plain(self.pg_url), autocommit=True) as admin:
            for database in self.made:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    @staticmethod
    def _plain(url: str) -> str:
        return url.replace("postgresql+psycopg://", "postgresql://")


def config_for(path: Path | str, raw: dict[str, Any], tmp: Path) -> Any:
    url = path if isinstance(path, str) else f"sqlite:///{path}"
    raw = {
        **raw,
        "storage": {"url": url},
        "channels": {"sms": {"path": str(tmp / "sms.jsonl")}},
    }
    return parse_config(orjson.dumps(raw).decode())


def fresh_db(tmp: Path | Backend, name: str) -> Database:
    db = Database(tmp.url(name) if isinstance(tmp, Backend) else f"sqlite:///{tmp / name}")
    upgrade(db)
    return db


class RawInsert:
    """The same four rows per event as ingestion writes (event, send, decision and the new
    contact), as ready tuples, straight through the driver, a transaction per batch of 1,000:
    executemany on SQLite; on PostgreSQL COPY, as ingestion writes them (`copy=False`: a
    pipelined executemany instead)."""

    def __init__(self, backend: Backend, events: list[dict[str, Any]], *, copy: bool | None = None) -> None:
        self.db = fresh_db(backend, "raw" if copy is not False else "raw_executemany")
        self.sqlite = backend.name == "sqlite"
        self.copy = not self.sqlite if copy is None else copy
        self.batches = [
            _raw_rows(events[i : i + 1000], sqlite=self.sqlite) for i in range(0, len(events), 1000)
        ]
        self.raw = self.db.engine.raw_connection()
        self.cursor = self.raw.cursor()

    def step(self, index: int) -> None:
        """Insert the `index`th batch in one transaction."""
        cursor = self.cursor
        if self.sqlite:
            cursor.execute("BEGIN IMMEDIATE")
        for sql, rows in self.batches[index]:
            if self.copy:
                with cursor.copy(_copy_of(sql)) as stream:
                    for row in rows:
                        stream.write_row(row)
            else:
                cursor.executemany(sql if self.sqlite else sql.replace("?", "%s"), rows)
        if self.sqlite:
            cursor.execute("COMMIT")
        else:
            self.raw.commit()

    def close(self) -> None:
        self.raw.close()
        self.db.dispose()


def _raw_rows(events: list[dict[str, Any]], *, sqlite: bool) -> list[tuple[str, list[tuple[Any, ...]]]]:
    now: Any = datetime.now(UTC)
    if sqlite:
        now = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    rows_e, rows_s, rows_d, rows_c = [], [], [], []
    for e in events:
        pk, send_id, contact = new_id("evt"), new_id("snd"), e["contact"]
        cid = contact["id"]
        rows_e.append((pk, e["id"], e["type"], cid, now, now, orjson.dumps(e["properties"]).decode(), "api"))
        rows_s.append(
            (send_id, pk, "t", "csat", "csat", cid, "sms", contact["phone"], "scheduled", 0, now, now, now)
        )
        rows_d.append((pk, cid, "t", "csat", "scheduled", None, send_id, now, now))
        rows_c.append((cid, None, contact["phone"], contact["name"], None, None, now, now))
    return [(RAW_EVENT, rows_e), (RAW_SEND, rows_s), (RAW_DECISION, rows_d), (RAW_CONTACT, rows_c)]


def _copy_of(insert: str) -> str:
    """`INSERT INTO t (columns) VALUES (...)` -> `COPY t (columns) FROM STDIN`."""
    return "COPY " + insert.removeprefix("INSERT INTO ").split(" VALUES ")[0] + " FROM STDIN"


RAW_EVENT = (
    "INSERT INTO events (pk, event_id, type, contact_id, occurred_at, received_at, properties, source) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
RAW_SEND = (
    "INSERT INTO sends (id, event_pk, trigger, survey, metric, contact_id, channel, to_address, status, "
    "attempts, due_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
RAW_DECISION = (
    "INSERT INTO decisions (event_pk, contact_id, trigger, survey, outcome, reason, send_id, due_at, "
    "decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
RAW_CONTACT = (
    "INSERT INTO contacts (id, email, phone, name, timezone, locale, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


class Core:
    """The ingestion core: `Ingestor.ingest`, a batch of 1,000 events a step."""

    def __init__(self, backend: Backend, events: list[dict[str, Any]]) -> None:
        url = backend.url("core")
        self.db = Database(url)
        upgrade(self.db)
        self.services = build_services(config_for(url, CONFIG, backend.tmp), db=self.db)
        self.events = events
        settle_after_start()  # as `surveybot run` does once it has started

    def step(self, index: int) -> None:
        results = self.services.ingestor.ingest(self.events[index * 1000 : (index + 1) * 1000])
        assert all(r.status == "accepted" for r in results), results[0]

    def close(self) -> None:
        self.db.dispose()


class Figures(NamedTuple):
    per_second: float  # events a second of wall time
    per_cpu_second: float  # events a second of this process's CPU time


def in_turn(count: int, *runners: RawInsert | Core | Http) -> list[Figures]:
    """Each runner's figures, its batches run in turn with the others' (a batch of one, then of
    the next, ...), each timed on its own: a machine whose speed drifts within a second moves
    every runner alike, so their ratio holds where whole runs one after the other spread by 2x."""
    walls, cpus = [0.0] * len(runners), [0.0] * len(runners)
    for index in range((count + 999) // 1000):
        for n, runner in enumerate(runners):
            start, cpu = time.perf_counter(), time.process_time()
            runner.step(index)
            walls[n] += time.perf_counter() - start
            cpus[n] += time.process_time() - cpu
    for runner in runners:
        runner.close()
    return [Figures(count / wall, count / cpu) for wall, cpu in zip(walls, cpus, strict=True)]


def start_bot(backend: Backend, raw: dict[str, Any], name: str) -> tuple[subprocess.Popen[bytes], str]:
    """A real `surveybot run` on `raw`, a new database and its outbox in `tmp`; with its base URL."""
    tmp = backend.tmp
    path = tmp / f"{name}.json"
    url = backend.url(name)
    fresh = Database(url)
    upgrade(fresh)  # a new PostgreSQL database has no tables yet
    fresh.dispose()
    path.write_bytes(
        orjson.dumps(
            {
                **raw,
                "storage": {"url": url},
                "channels": {
                    channel: {"path": str(tmp / f"{name}-{channel}.jsonl")} for channel in ("sms", "email")
                },
            }
        )
    )
    port = 18000 + secrets.randbelow(2000)
    extra = os.environ.get("PYTHONPATH", "")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), extra) if p)}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(path), "--port", str(port)],
        cwd=tmp,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("the bot did not start")


def stop_bot(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


class Http:
    """The HTTP batch endpoint of a real `surveybot run`: a batch of 1,000 a step, over one
    keep-alive connection."""

    def __init__(self, backend: Backend, events: list[dict[str, Any]]) -> None:
        self.process, base = start_bot(backend, CONFIG, "http")
        headers = {"Authorization": "Bearer bench-key", "Content-Type": "application/json"}
        self.bodies = [orjson.dumps({"events": events[i : i + 1000]}) for i in range(0, len(events), 1000)]
        self.client = httpx.Client(base_url=base, headers=headers, timeout=60)

    def step(self, index: int) -> None:
        response = self.client.post("/v1/events", content=self.bodies[index])
        assert response.status_code == 202, response.text

    def close(self) -> None:
        self.client.close()
        stop_bot(self.process)


def bench_latency(backend: Backend, samples: int) -> list[float]:
    process, base = start_bot(backend, ZERO_DELAY, "latency")
    outbox = backend.tmp / "latency-sms.jsonl"
    headers = {"Authorization": "Bearer bench-key"}
    latencies = []
    try:
        with httpx.Client(base_url=base, headers=headers) as client:
            for i in range(samples):
                seen = outbox.stat().st_size if outbox.exists() else 0
                start = time.perf_counter()
                client.post("/v1/events", json=make_events(1, f"lat{i}-")[0])
                while not outbox.exists() or outbox.stat().st_size == seen:
                    time.sleep(0.0005)
                latencies.append((time.perf_counter() - start) * 1000)
    finally:
        stop_bot(process)
    return latencies


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--latency-samples", type=int, default=300)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds of raw, core and HTTP in turn; medians are printed"
    )
    args = parser.parse_args()
    names = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for name in names:
        with tempfile.TemporaryDirectory() as folder:
            backend = Backend(name, Path(folder), args.pg_url)
            try:
                run(backend, args.events, args.latency_samples, args.repeat)
            finally:
                backend.close()


def run(backend: Backend, count: int, samples: int, repeat: int) -> None:
    """Each figure `repeat` times, the raw insert, the core and HTTP batch by batch in turn
    (`in_turn`); medians, with each ratio taken round by round."""
    raws, cores, https = [], [], []
    for round_ in range(repeat):
        runners = (
            RawInsert(backend, make_events(count, f"r{round_}-")),
            Core(backend, make_events(count, f"k{round_}-")),
            Http(backend, make_events(count, f"h{round_}-")),
        )
        raw_figures, core_figures, http_figures = in_turn(count, *runners)
        raws.append(raw_figures)
        cores.append(core_figures)
        https.append(http_figures.per_second)
    many = (
        in_turn(count, RawInsert(backend, make_events(count, "m"), copy=False))[0].per_second
        if backend.name != "sqlite"
        else None
    )
    latency = bench_latency(backend, samples) if samples else []
    raw, raw_cpu = median(r.per_second for r in raws), median(r.per_cpu_second for r in raws)
    core, core_cpu = median(c.per_second for c in cores), median(c.per_cpu_second for c in cores)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    http = median(https)
    ratio = [c.per_second / r.per_second for r, c in zip(raws, cores, strict=True)]
    ratio_cpu = [c.per_cpu_second / r.per_cpu_second for r, c in zip(raws, cores, strict=True)]
    http_ratio = [h / r.per_second for r, h in zip(raws, https, strict=True)]
    target = 20_000 if backend.name == "sqlite" else 10_000
    rounds = f", median of {repeat} rounds, ratios pair by pair, [lowest-highest]" if repeat > 1 else ""
    print(f"events: {count} ({backend.name}, batches of 1,000, one trigger each{rounds})")
    how = "executemany" if backend.name == "sqlite" else "COPY"
    print(
        f"raw bulk insert (baseline):  {raw:10,.0f} events/s  {raw_cpu:10,.0f} per CPU second"
        f"  (event, send, decision, contact rows by {how}){spread(r[0] for r in raws)}"
    )
    if many is not None:
        print(f"  the same by executemany:    {many:10,.0f} events/s  (the baseline before COPY)")
    print(
        f"ingestion core:              {core:10,.0f} events/s  ratio {median(ratio):.2f} (target >= 0.5)"
        f"{spread(ratio, '.2f')}  peak RSS of the bench so far {peak:.0f} MiB"
    )
    print(
        f"  by this process's CPU time: {core_cpu:10,.0f} per CPU second  ratio {median(ratio_cpu):.2f}"
        f"{spread(ratio_cpu, '.2f')} (steadier on a busy machine; on PostgreSQL it leaves out the"
        " server's share)"
    )
    print(
        f"HTTP batch endpoint:         {http:10,.0f} events/s  ratio {median(http_ratio):.2f}"
        f"  (target >= {target:,}/s){spread(https)}"
    )
    if latency:
        p50, p99 = percentile(latency, 50), percentile(latency, 99)
        print(
            f"zero-delay POST -> log send: p50 {p50:.1f} ms  p99 {p99:.1f} ms  max {max(latency):.1f} ms"
            f"  mean {statistics.mean(latency):.1f} ms  (n={len(latency)}, target p99 <= 250 ms)"
        )


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def spread(values: Iterable[float], style: str = ",.0f") -> str:
    """`  [lowest-highest]` of several rounds; nothing for one."""
    seen = list(values)
    return f"  [{min(seen):{style}}-{max(seen):{style}}]" if len(seen) > 1 else ""


if __name__ == "__main__":
    main()
