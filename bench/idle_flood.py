"""Idle-connection flood: 10,000 idle TCP connections held against a real `surveybot run` on
127.0.0.1 while `/healthz`, `/readyz` and `POST /v1/events` must keep answering.

    python bench/idle_flood.py [--connections 10000] [--hold 20] [--max-connections 10000]

Starts one `surveybot run` (SQLite, `server.idle_timeout` = hold + 5s), opens the idle
connections (they send nothing), then for `--hold` seconds probes the three endpoints, each on a
fresh connection, and reports their answers and latency (p50, max), the server's open file
descriptors, how many idle connections it closed to let the probes in (at
`server.max_connections`), and how many it closed once `server.idle_timeout` had passed.
Loopback only; bounded in count (`--connections`, at most 15,000) and time (hold + idle
timeout + 20s). Needs an open-files limit above the connection count (`ulimit -n`), for this
process and for the server it starts.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
MAX_CONNECTIONS = 15_000
KEY = "bench-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(tmp: Path, *, idle_timeout: int, max_connections: int) -> Path:
    raw: dict[str, Any] = {
        "server": {"api_keys": [KEY], "secret_key": "bench", "idle_timeout": f"{idle_timeout}s",
                   "max_connections": max_connections},
        "storage": {"url": f"sqlite:///{tmp / 'bench.db'}"},
        "surveys": {"csat": {"metric": "csat", "question": {"sms": "Rate us 1-5"}}},
        "triggers": [{"name": "t", "on": "ticket.solved", "survey": "csat", "channels": ["sms"],
                      "delay": "1d"}],
        "throttle": {"quiet_hours": None, "daily_cap": None},
        "channels": {"sms": {"path": str(tmp / "sms.jsonl")}},
    }  # fmt: skip
    path = tmp / "config.json"
    path.write_bytes(orjson.dumps(raw))
    return path


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {seconds:g}s")


def open_idle(port: int, count: int) -> list[socket.socket]:
    conns = []
    for _ in range(count):
        conns.append(socket.create_connection(("127.0.0.1", port), timeout=10))
    return conns


def closed_by_server(conn: socket.socket) -> bool:
    conn.setblocking(False)
    try:
        return conn.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def probe(base: str, n: int) -> dict[str, tuple[int, float]]:
    """One request to each endpoint, each on a fresh connection: (status, seconds); status 0
    when it got no answer within 10 s."""
    event = {"id": f"flood-{n}", "type": "ticket.solved", "contact": {"id": f"c{n}", "phone": "+14155550100"}}
    requests = {
        "/healthz": ("GET", None),
        "/readyz": ("GET", None),
        "/v1/events": ("POST", event),
    }
    results = {}
    for path, (method, body) in requests.items():
        started = time.perf_counter()
        try:
            with httpx.Client(timeout=10) as client:
                auth = {"Authorization": f"Bearer {KEY}"}
                answer = client.request(method, base + path, json=body, headers=auth)
            results[path] = (answer.status_code, time.perf_counter() - started)
        except httpx.HTTPError:
            results[path] = (0, time.perf_counter() - started)
    return results


def open_files(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--hold", type=int, default=20, help="seconds of probing while they are held")
    parser.add_argument("--max-connections", type=int, default=10_000, help="server.max_connections")
    args = parser.parse_args()
    if not 1 <= args.connections <= MAX_CONNECTIONS:
        raise SystemExit(f"--connections must be between 1 and {MAX_CONNECTIONS}")
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited by the server too
    if hard < args.connections + 256:
        raise SystemExit(f"the open-files limit {hard} is too low for {args.connections} connections")

    idle_timeout = args.hold + 5
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        config = write_config(tmp, idle_timeout=idle_timeout, max_connections=args.max_connections)
        subprocess.run([sys.executable, "-m", "bot", "db", "upgrade", "--config", str(config)],
                       check=True, cwd=tmp, capture_output=True)  # fmt: skip
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = (tmp / "server.log").open("wb")
        server = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(config), "--port", str(port)],
            cwd=tmp, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        try:
            wait_for(base + "/healthz")
            started = time.perf_counter()
            idle = open_idle(port, args.connections)
            opened_in = time.perf_counter() - started
            held_since = time.monotonic()
            fds = open_files(server.pid)
            print(f"opened {len(idle)} idle connections in {opened_in:.1f}s; server fds {fds}")

            samples: dict[str, list[tuple[int, float]]] = {"/healthz": [], "/readyz": [], "/v1/events": []}
            n = 0
            peak_fds = 0
            while time.monotonic() - held_since < args.hold:
                for path, result in probe(base, n).items():
                    samples[path].append(result)
                n += 1
                peak_fds = max(peak_fds, open_files(server.pid))
                time.sleep(0.2)
            evicted = sum(closed_by_server(c) for c in idle)
            print(f"held {args.hold}s; server fds peak {peak_fds}; idle connections the server closed "
                  f"to let probes in (server.max_connections={args.max_connections}): {evicted}")  # fmt: skip
            for path, results in samples.items():
                ok = sum(status in (200, 202) for status, _ in results)
                times = sorted(seconds for _, seconds in results)
                statuses = sorted({s for s, _ in results})
                p50, worst = 1000 * statistics.median(times), 1000 * times[-1]
                print(f"  {path:<11} {ok}/{len(results)} answered 2xx, statuses {statuses}, "
                      f"p50 {p50:.1f} ms, max {worst:.1f} ms")  # fmt: skip

            deadline = held_since + idle_timeout + 20
            while time.monotonic() < deadline and not all(closed_by_server(c) for c in idle):
                time.sleep(0.5)
            still_open = sum(not closed_by_server(c) for c in idle)
            print(f"after server.idle_timeout ({idle_timeout}s): {len(idle) - still_open} closed by the "
                  f"server, {still_open} still open; server fds {open_files(server.pid)}")  # fmt: skip
            for conn in idle:
                conn.close()
            print(f"  /healthz afterwards: {probe(base, n)['/healthz'][0]}")
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
            log.close()
            tail = (tmp / "server.log").read_text(errors="replace").splitlines()
            warnings = [line for line in tail if "WARNING" in line or '"warning"' in line]
            print(f"server log: {len(tail)} lines, {len(warnings)} warnings; exit code {server.returncode}")
            for line in warnings[:5]:
                print("   ", line[:200])


if __name__ == "__main__":
    main()
