"""Small helpers the tests share: reading the outbox, building events, querying rows, writing a
config file, waiting for a real process or server."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
import orjson
import pytest
from sqlalchemy import select

from storage.db import Database
from storage.models import Decision, Send
from tests.conftest import BASE_CONFIG

T = TypeVar("T")


def outbox(tmp_path: Path, channel: str) -> list[dict[str, Any]]:
    path = tmp_path / "outbox" / f"{channel}.jsonl"
    if not path.exists():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def event(
    event_id: str | None,
    type_: str = "ticket.solved",
    contact: str = "c1",
    details: dict[str, Any] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """An event for contact `contact`, whose default addresses `details` may replace."""
    contact_fields = {
        "id": contact,
        "phone": "+14155550100",
        "email": f"{contact}@example.com",
        "name": "Ada",
    }
    contact_fields |= details or {}
    body: dict[str, Any] = {
        "type": type_,
        "contact": contact_fields,
        "properties": fields.pop("properties", {"ticket_id": "T-1"}),
    }
    if event_id is not None:
        body["id"] = event_id
    return body | fields


def sends(db: Database) -> list[Any]:
    with db.read() as conn:
        return list(conn.execute(select(Send.__table__).order_by(Send.__table__.c.created_at)))  # type: ignore[attr-defined]


def decisions(db: Database) -> list[Any]:
    with db.read() as conn:
        return list(conn.execute(select(Decision.__table__).order_by(Decision.__table__.c.id)))  # type: ignore[attr-defined]


def run_async(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to the end on a thread of its own (the browser tests keep a loop running
    on the main thread, where `asyncio.run` would refuse)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on just now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(
    condition: Callable[[], bool], what: str, *, timeout: float = 30, interval: float = 0.05
) -> None:
    """Return as soon as `condition()` holds; fail the test naming `what` if it still does not
    after `timeout` seconds.

    Only for real processes and servers, whose pace is not ours: time in our own logic is moved
    with the injected FakeClock, never waited for."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout:g}s waiting for {what}")
        time.sleep(interval)


def answers_ok(url: str, client: httpx.Client | None = None) -> bool:
    """Whether GET `url` answers 200 just now; False while nothing answers there (yet)."""
    try:
        response = client.get(url, timeout=2) if client else httpx.get(url, timeout=2)
    except httpx.TransportError:
        return False
    return response.status_code == 200


def sms_trigger(**fields: Any) -> dict[str, Any]:
    """The test config's CSAT trigger on `ticket.solved` by SMS, with `fields` changed."""
    return {"name": "t", "on": "ticket.solved", "survey": "support_csat", "channels": ["sms"], **fields}


def write_config(tmp_path: Path, db_url: str, **extra: object) -> Path:
    """The test config as a JSON file in `tmp_path`, on `db_url`, with log channels writing to
    `tmp_path/outbox/`; `extra` sections replace the test config's."""
    raw = {
        **BASE_CONFIG,
        "storage": {"url": db_url},
        **extra,
        "channels": {
            name: {"provider": "log", "path": str(tmp_path / f"outbox/{name}.jsonl")}
            for name in ("sms", "email", "whatsapp")
        },
    }
    path = tmp_path / "config.json"
    path.write_bytes(orjson.dumps(raw))
    return path
