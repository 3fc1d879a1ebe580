"""Load on `POST /v1/events` from a second process (wrk), single events and batches of 1,000.

    python bench/load.py [--seconds 60] [--backends sqlite,postgres] [--processes 1,2,4]

Starts N real `surveybot run` processes on one database (each on its own port, as behind a
proxy), drives them with wrk (Debian package `wrk`) at a fixed number of connections for the
given time, and reports the rate, p50/p99 latency and errors; then counts the events stored
and checks that every event answered 202 was stored (zero lost). Each figure stands beside
the same load on one process in the same run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("SURVEYBOT_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CONFIG: dict[str, Any] = {
    "server": {"api_keys": ["bench-key"], "secret_key": "bench"},
    "surveys": {"csat": {"metric": "csat", "question": {"sms": "Rate us 1-5"}}},
    "triggers": [{"name": "t", "on": "ticket.solved", "survey": "csat", "channels": ["sms"], "delay": "1d"}],
    "throttle": {"quiet_hours": None, "daily_cap": None},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare_database(backend: str, tmp: Path, run_id: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp / f'{run_id}.db'}"
    schema = f"bench_{run_id}"
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade", "--config", str(write_config(tmp, url, run_id))],
        check=True,
        cwd=tmp,
        capture_output=True,
    )
    return url


def write_config(tmp: Path, url: str, run_id: str) -> Path:
    path = tmp / f"{run_id}.json"
    raw = {**CONFIG, "storage": {"url": url}, "channels": {"sms": {"path": str(tmp / f"{run_id}-sms.jsonl")}}}
    path.write_bytes(orjson.dumps(raw))
    return path


def start_bots(config: Path, count: int, tmp: Path) -> list[tuple[subprocess.Popen[bytes], int]]:
    bots = []
    for _ in range(count):
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(config), "--port", str(port)],
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        bots.append((process, port))
    for _, port in bots:
        for _ in range(400):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
    return bots


def drive(ports: list[int], seconds: int, batch: int, connections: int, run_id: str) -> dict[str, float]:
    """One wrk per process, started together; totals summed, latencies of the worst one."""
    env = {**os.environ, "BATCH": str(batch), "API_KEY": "bench-key"}
    per = max(1, connections // len(ports))
    wrks = [
        subprocess.Popen(
            [
                "wrk",
                "-t1",
                f"-c{per}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "-s",
                str(ROOT / "bench/load.lua"),
                f"http://127.0.0.1:{port}",
            ],
            env={**env, "RUN_ID": f"{run_id}-{i}"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for i, port in enumerate(ports)
    ]
    totals = {"accepted_requests": 0.0, "other": 0.0, "errors": 0.0, "p50_ms": 0.0, "p99_ms": 0.0}
    for process in wrks:
        output = process.communicate()[0].decode()
        match = re.search(r"RESULT (.*)", output)
        if not match:
            raise RuntimeError(f"wrk said: {output}")
        fields = {k: float(v) for k, v in (item.split("=") for item in match.group(1).split())}
        for key in ("accepted_requests", "other", "errors"):
            totals[key] += fields[key]
        totals["p50_ms"] = max(totals["p50_ms"], fields["p50_ms"])
        totals["p99_ms"] = max(totals["p99_ms"], fields["p99_ms"])
    return totals


def stored_events(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        count = int(conn.execute(text("SELECT count(*) FROM events")).scalar_one())
    engine.dispose()
    return count


def one_run(backend: str, processes: int, batch: int, seconds: int, tmp: Path) -> dict[str, Any]:
    run_id = f"{backend}{processes}b{batch}x{int(time.time())}"
    url = prepare_database(backend, tmp, run_id)
    config = write_config(tmp, url, run_id)
    bots = start_bots(config, processes, tmp)
    connections = 16 if batch == 1 else 4 * processes
    try:
        totals = drive([port for _, port in bots], seconds, batch, connections, run_id)
    finally:
        for process, _ in bots:
            process.send_signal(signal.SIGTERM)
        for process, _ in bots:
            process.wait(timeout=60)
    accepted_events = int(totals["accepted_requests"]) * batch
    stored = stored_events(url)
    return {
        "backend": backend,
        "processes": processes,
        "batch": batch,
        "events_per_s": accepted_events / seconds,
        "p50_ms": totals["p50_ms"],
        "p99_ms": totals["p99_ms"],
        "errors": int(totals["errors"] + totals["other"]),
        "lost": accepted_events - stored if stored <= accepted_events else 0,
        "stored": stored,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument(
        "--batches", default="1,1000", help="events per request: 1 (single events) and/or 1000"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench/load.py needs wrk (Debian: apt-get install wrk)")
    header = ("backend", "procs", "batch", "events/s", "p50 ms", "p99 ms", "errors", "lost")
    print(
        f"{header[0]:9} "
        + " ".join(f"{h:>{w}}" for h, w in zip(header[1:], (5, 5, 10, 8, 8, 6, 5), strict=True))
    )
    with tempfile.TemporaryDirectory() as folder:
        for backend in args.backends.split(","):
            for batch in (int(b) for b in args.batches.split(",")):
                for processes in (int(p) for p in args.processes.split(",")):
                    if backend == "sqlite" and processes > 2:
                        continue  # one SQLite file is not a place for four writers; PostgreSQL is
                    r = one_run(backend, processes, batch, args.seconds, Path(folder))
                    print(
                        f"{r['backend']:9} {r['processes']:>5} {r['batch']:>5} {r['events_per_s']:>10,.0f} "
                        f"{r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['errors']:>6} {r['lost']:>5}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
