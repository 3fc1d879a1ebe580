"""Time and memory of `surveybot export responses` over a million responses, beside baselines
measured in the same run on the same rows.

    python -m bench.export [--backend sqlite|postgresql|both] [--responses 1000000] [--quick]

Loads `--responses` responses (each with its send and event; bench.digest_compute fills them),
then runs, each as a process of its own so its peak RSS is its own (os.wait4):
  - export nothing: the command with an empty window: its start-up (imports, opening the DB);
  - export csv:    `surveybot export responses --output out.csv` (the command as users run it);
  - export jsonl:  the same with `--personal --format jsonl` (comments, addresses, properties);
  - native dump:   the same join written as CSV by the database's own client (sqlite3 `.mode
                   csv`, psql `\\copy ... TO ... CSV`): the speed to compare against;
  - fetch-all:     the same query through SQLAlchemy with `fetchall()` and no streaming: the
                   memory a non-streaming export would need;
and then pages through the whole responses feed (`GET /v1/responses`'s queries, 1,000 a page).
Prints wall time (process start to exit), rows/s and peak RSS (GNU time's %M) of each, and the export's ratios
to the baselines. `--quick` is 100,000 responses.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import orjson
from sqlalchemy import text

from bench.digest_compute import PG_URL, load_postgres, load_sqlite
from storage.db import Database
from storage.feed import START, feed_horizon, feed_page
from storage.migrate import alembic_config

ROOT = Path(__file__).resolve().parents[1]
NATIVE_SQL = (
    "SELECT r.id, r.received_at, r.updated_at, r.survey, r.metric, r.score, r.counted, r.channel, "
    "r.send_id, s.trigger, r.contact_id, e.event_id, e.type FROM responses r "
    "JOIN sends s ON s.id = r.send_id LEFT JOIN events e ON e.pk = s.event_pk "
    "LEFT JOIN contacts c ON c.id = r.contact_id ORDER BY r.id"
)
FETCH_ALL = """
import sys
from storage.db import Database
from storage.exports import export_columns, export_query
db = Database(sys.argv[1])
query = export_query("responses", export_columns("responses", personal=False), None, None)
with db.read() as conn:
    rows = conn.execute(query).fetchall()
print(len(rows))
"""


@dataclass
class Run:
    name: str
    seconds: float
    peak_mib: float
    rows: int

    def line(self) -> str:
        return (f"  {self.name:<14} {self.seconds:6.2f} s  {self.rows / self.seconds:>10,.0f} rows/s  "
                f"peak RSS {self.peak_mib:6.0f} MiB")  # fmt: skip


def measure(name: str, argv: list[str], rows: int, env: dict[str, str] | None = None) -> Run:
    """Run `argv` under GNU time, which reports the child's own peak RSS: a child forked from
    this process directly would count this process's memory (the loaded rows) as its own."""
    with tempfile.NamedTemporaryFile("r") as peak:
        began = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", peak.name, *argv], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)  # fmt: skip
        seconds = time.perf_counter() - began
        if done.returncode != 0:
            raise SystemExit(f"{name} failed ({done.returncode}): {done.stderr.decode()}")
        return Run(name, seconds, int(peak.read().split()[-1]) / 1024, rows)


def page_through(url: str, total: int, limit: int = 1000) -> str:
    """The responses feed's pages (storage, as `GET /v1/responses` calls it), all of them."""
    db = Database(url)
    position, seen, pages = START, 0, 0
    began = time.perf_counter()
    while True:
        with db.read() as conn:
            horizon = feed_horizon(conn)
        with db.read() as conn:
            page = feed_page(conn, after=position, limit=limit, horizon=horizon)
        seen, pages, position = seen + len(page.rows), pages + 1, page.position
        if not page.has_more:
            break
    seconds = time.perf_counter() - began
    db.dispose()
    assert seen == total, "the feed lost rows"
    rate = seen / seconds
    return f"  feed pages     {seconds:6.2f} s  {rate:>10,.0f} rows/s  ({pages} pages of {limit}, in-process)"


def count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for _ in f)


def bench(backend: str, url: str, native: list[str], responses: int, scratch: Path) -> None:
    db = Database(url)
    from alembic import command

    command.stamp(alembic_config(db), "head")  # the loader made the tables; mark them current
    with db.read() as conn:
        total = conn.execute(text("SELECT count(*) FROM responses")).scalar_one()
    db.dispose()
    config = scratch / "config.json"
    config.write_bytes(orjson.dumps({"storage": {"url": url}}))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cli = [sys.executable, "-m", "bot", "export", "responses", "--config", str(config)]
    csv_out, jsonl_out = scratch / "out.csv", scratch / "out.jsonl"
    runs = [
        measure(
            "export nothing", [*cli, "--until", "1970-01-01", "--output", str(scratch / "none.csv")], 0, env
        ),
        measure("export csv", [*cli, "--output", str(csv_out)], total, env),
        measure(
            "export jsonl", [*cli, "--personal", "--format", "jsonl", "--output", str(jsonl_out)], total, env
        ),
        measure("native dump", native, total),
        measure("fetch-all", [sys.executable, "-c", FETCH_ALL, url], total, env),
    ]
    assert count_lines(csv_out) == total + 1 and count_lines(jsonl_out) == total, "an export lost rows"
    print(f"{backend}: {total:,} responses")
    for run in runs:
        print(run.line())
    print(page_through(url, total))
    startup, export, dump, fetch_all = runs[0], runs[1], runs[3], runs[4]
    print(f"  export csv / native dump: {export.seconds / dump.seconds:.2f}x the time "
          f"({(export.seconds - startup.seconds) / dump.seconds:.2f}x without the command's start-up); "
          f"export csv / fetch-all: {export.peak_mib / fetch_all.peak_mib:.2f}x the memory")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 responses")
    args = parser.parse_args()
    count = 100_000 if args.quick else args.responses
    span = timedelta(days=28)
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bench.db"
            began = time.perf_counter()
            load_sqlite(path, count, span).dispose()
            print(f"sqlite: loaded in {time.perf_counter() - began:.1f} s")
            native = ["sqlite3", "-csv", "-header", str(path), NATIVE_SQL]
            bench("sqlite", f"sqlite:///{path}", [*native], count, Path(tmp))
    if args.backend in ("postgresql", "both"):
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        began = time.perf_counter()
        engine = load_postgres(schema, count, span)
        print(f"postgresql: loaded in {time.perf_counter() - began:.1f} s")
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / "native.csv"
            copy = f"\\copy ({NATIVE_SQL}) TO '{target}' CSV HEADER"
            native = ["psql", "-X", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "test",
                      "-c", f"SET search_path = {schema}", "-c", copy]  # fmt: skip
            try:
                bench("postgresql", url, native, count, Path(tmp))
            finally:
                with engine.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                engine.dispose()


if __name__ == "__main__":
    main()
